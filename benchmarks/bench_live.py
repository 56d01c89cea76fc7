"""Live mode (issue 20): how soon the preview follows the pen, and how long the window ever froze while it did.

The real main window (offscreen unless a display is set) with the default emoji diffusion model and Live on; a
script paints strokes with the brush the way a pen does (one mouse move every 8 ms, the event loop running between
them) and waits after each stroke until the preview shows the finished stroke.

- latency: from the release of a stroke to the live preview that includes it (median and worst; target < 300 ms);
- stall: the longest gap of a 5 ms heartbeat QTimer over the whole painting session (target < 50 ms), as the ui
  benchmark measures it.

    python benchmarks/bench_live.py [--quick] [--threads N] [--size WxH] [--strokes N]

Prints a table; no targets are asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

TARGET_LATENCY_MS = 300.0
TARGET_GAP_MS = 50.0
MOVE_MS = 8
MODEL_ID = "emoji-diffusion-64"


def stroke_points(index: int, width: int, height: int, moves: int) -> list[tuple[float, float]]:
    """A diagonal-ish stroke across the canvas, a different one each time."""
    y0 = height * (0.2 + 0.6 * ((index * 0.37) % 1.0))
    return [(width * (0.1 + 0.8 * i / moves), y0 + height * 0.15 * ((i % 10) / 10.0 - 0.5)) for i in range(moves + 1)]


def paint_stroke(app, canvas, points, spin) -> None:
    """Press, one move every MOVE_MS milliseconds with the event loop running in between, release."""
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest

    def at(x: float, y: float) -> QPoint:
        point = canvas.map_from_canvas(x, y)
        return QPoint(round(point.x()), round(point.y()))

    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at(*points[0]))
    for x, y in points[1:]:
        spin(app, lambda: False, MOVE_MS / 1000.0)
        QTest.mouseMove(canvas, at(x, y))
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at(*points[-1]))


def run(size: tuple[int, int], strokes: int, moves: int, timeout: float = 120.0) -> list[list[str]]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from bench_ui import _gap_summary, _Heartbeat, _spin

    from genart_desktop.document.document import Document
    from genart_desktop.ui.app import create_main_window, ensure_application
    from genart_desktop.workspace.tools import Tool

    with tempfile.TemporaryDirectory(prefix="genart-bench-live-") as tmp:
        os.environ["GENART_HOME"] = str(Path(tmp) / "home")
        app = ensure_application([])
        window = create_main_window()
        window.resize(1400, 900)
        window.show()
        doc = Document(*size)
        doc.add_layer("Paint")
        window.set_document(doc)
        panel, canvas = window.diffusion_panel, window.canvas
        index = panel.model_combo.findData(MODEL_ID)
        if index < 0:
            raise SystemExit(f"The default model {MODEL_ID} is not installed.")
        panel.model_combo.setCurrentIndex(index)
        info = panel.controller.info(MODEL_ID)
        if info.examples:
            panel.prompt_edit.setPlainText(info.examples[0])
        canvas.controller.set_tool(Tool.BRUSH)
        canvas.controller.set_brush(size=float(max(8, size[0] // 40)))
        live = panel.live
        shown: list[tuple[float, int]] = []
        live.frame_changed.connect(lambda frame: shown.append((time.perf_counter(), frame.revision))
                                   if frame is not None else None)
        _spin(app, lambda: False, 0.5)
        heartbeat = _Heartbeat()

        def session(first: int, after_stroke) -> dict:
            """Paint ``strokes`` strokes under the heartbeat, calling ``after_stroke(i)`` after each release."""
            heartbeat.start()
            for i in range(first, first + strokes):
                paint_stroke(app, canvas, stroke_points(i, *size, moves), _spin)
                after_stroke(i)
            return _gap_summary(heartbeat.stop())

        baseline = session(0, lambda i: _spin(app, lambda: False, 0.1))  # the same painting with Live off
        if not panel.set_live(True):
            raise SystemExit(f"Live mode did not start: {panel.status.text()}")
        caught_up = (lambda: live.frame is not None and not live.busy and live.frame.revision == live._revision)
        if not _spin(app, caught_up, timeout):  # the first frame loads the model: not part of the measurement
            raise SystemExit(f"No live frame within {timeout:.0f} s: {panel.status.text()}")
        latencies: list[float] = []
        first_frame = len(shown)

        def wait_for_preview(i: int) -> None:
            released, revision = time.perf_counter(), live._revision
            if not _spin(app, lambda: bool(shown) and shown[-1][1] >= revision and not live.busy, timeout):
                raise SystemExit(f"The preview never caught up with stroke {i + 1}.")
            latencies.append(next(t for t, r in shown if r >= revision) - released)
            _spin(app, lambda: False, 0.1)

        gaps = session(strokes, wait_for_preview)
        intervals = [b[0] - a[0] for a, b in zip(shown[first_frame:], shown[first_frame + 1:]) if b[0] - a[0] < 1.0]
        frames = live.frames_submitted
        panel.set_live(False)
        doc.mark_clean()
        window.hide()
        window.deleteLater()
        _spin(app, lambda: False, 0.1)
    median, worst = statistics.median(latencies) * 1000, max(latencies) * 1000
    where = f"{size[0]}x{size[1]} canvas, {MODEL_ID}, {live.live_steps} steps"
    frame_ms = f"{statistics.median(intervals) * 1000:.0f} ms" if intervals else "n/a"
    return [
        [f"last stroke -> updated live preview ({where}; {strokes} strokes, {frames} frames)",
         f"median {median:.0f} ms, worst {worst:.0f} ms (frame to frame while painting: {frame_ms})",
         f"< {TARGET_LATENCY_MS:.0f} ms: {'met' if worst < TARGET_LATENCY_MS else 'MISSED'}"],
        [f"longest event-loop gap while painting with Live on ({where})",
         f"{gaps['longest_ms']:.1f} ms (p99 {gaps['p99_ms']:.1f} ms, {gaps['beats']} beats)",
         f"< {TARGET_GAP_MS:.0f} ms: {'met' if gaps['longest_ms'] < TARGET_GAP_MS else 'MISSED'}"],
        [f"longest event-loop gap painting the same strokes with Live off ({size[0]}x{size[1]} canvas)",
         f"{baseline['longest_ms']:.1f} ms (p99 {baseline['p99_ms']:.1f} ms)", "baseline"],
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small canvas and few strokes")
    parser.add_argument("--threads", type=int, default=None, help="onnxruntime threads (default: its own choice)")
    parser.add_argument("--size", default=None, help="canvas WxH (default 1920x1080; --quick 640x480)")
    parser.add_argument("--strokes", type=int, default=None)
    args = parser.parse_args(argv)
    if args.threads:
        for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            os.environ[name] = str(args.threads)
    width, height = (int(v) for v in (args.size or ("640x480" if args.quick else "1920x1080")).split("x"))
    rows = run((width, height), args.strokes or (3 if args.quick else 8), 25 if args.quick else 40)
    print("| benchmark | measured | target |")
    print("| --- | --- | --- |")
    for row in rows:
        print("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
