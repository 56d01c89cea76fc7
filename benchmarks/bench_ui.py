"""UI responsiveness: the event loop's longest stall while a style job runs, and cold start to the first painted window.

1. Event-loop gaps: the real main window (offscreen unless a display is set) with the style palette; a heartbeat
   QTimer fires every 5 ms while the palette renders a style over the whole canvas in the app's job runner and lands
   the result as a layer. The longest gap between two heartbeats is how long the window was frozen; target < 50 ms.
   The same heartbeat measured while idle shows the timer's own jitter on this machine.
2. Cold start: a fresh Python process launches the app the way ``genart`` does (``run_app``) and reports when the
   main window has handled its first paint event, and whether torch (or the training module) was ever imported.

    python benchmarks/bench_ui.py [--quick] [--threads N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from common import Row, Timing, markdown_table  # noqa: E402

TARGET_GAP_MS = 50.0
HEARTBEAT_MS = 5

# Runs in a fresh interpreter: launch the app as `genart` does and report the first painted main window.
COLD_START_CHILD = r"""
import json, os, sys, time
started = time.time()
from PySide6.QtCore import QEvent, QObject, QTimer
from genart_desktop.ui.app import ensure_application, run_app

app = ensure_application([])
seen = {}

class FirstPaint(QObject):
    def eventFilter(self, obj, event):
        if "painted" not in seen and event.type() == QEvent.Type.Paint and obj.isWidgetType() \
                and obj.isWindow() and obj.inherits("QMainWindow"):
            seen["painted"] = True
            QTimer.singleShot(0, finish)  # after this paint event has been handled
        return False

def finish():
    seen["time"] = time.time()
    app.quit()

watcher = FirstPaint()
app.installEventFilter(watcher)
QTimer.singleShot(int(os.environ.get("GENART_BENCH_TIMEOUT_MS", "60000")), app.quit)
run_app(["--no-recovery"])
report = {"started": started, "first_paint": seen.get("time"),
          "torch_imported": "torch" in sys.modules,
          "training_imported": sorted(m for m in sys.modules if m.startswith("genart_desktop.training"))[:5],
          "modules": len(sys.modules)}
print("GENART-BENCH " + json.dumps(report), flush=True)
os._exit(0)
"""


def _qt_env() -> dict[str, str]:
    env = dict(os.environ)
    if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        env["QT_QPA_PLATFORM"] = "offscreen"
    return env


def cold_start(runs: int, timeout: float = 120.0) -> tuple[Row, dict[str, Any]]:
    """Median seconds from spawning ``python`` to the main window's first painted frame, over ``runs`` launches."""
    samples, inside, reports = [], [], []
    with tempfile.TemporaryDirectory(prefix="genart-bench-home-") as home:
        env = _qt_env()
        env["GENART_HOME"] = home  # no autosaves to recover, no user models: a first launch
        env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
        for _ in range(runs):
            spawned = time.time()
            done = subprocess.run([sys.executable, "-c", COLD_START_CHILD], env=env, cwd=str(ROOT),
                                  capture_output=True, text=True, timeout=timeout)
            line = next((ln for ln in done.stdout.splitlines() if ln.startswith("GENART-BENCH ")), None)
            if line is None:
                tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
                raise RuntimeError(f"the app did not start (exit {done.returncode}): {' / '.join(tail)}")
            report = json.loads(line.split(" ", 1)[1])
            if report["first_paint"] is None:
                raise RuntimeError("the main window was never painted")
            samples.append(report["first_paint"] - spawned)
            inside.append(report["first_paint"] - report["started"])
            reports.append(report)
    torch_seen = any(r["torch_imported"] for r in reports)
    training_seen = sorted({m for r in reports for m in r["training_imported"]})
    timing = Timing(statistics.median(samples), min(samples), runs, tuple(samples))
    verdict = "torch never imported" if not torch_seen else "TORCH WAS IMPORTED"
    if training_seen:
        verdict += f"; training imported: {', '.join(training_seen)}"
    row = Row("ui", f"cold start to first painted window ({runs} launches)", ours=timing,
              text=f"{timing.median_s:.2f} s ({verdict})", theirs_missing="")
    row.extra.update({"process_to_paint_s": samples, "interpreter_to_paint_s": inside,
                      "torch_imported": torch_seen, "training_modules_imported": training_seen,
                      "modules_loaded": [r["modules"] for r in reports]})
    return row, {"torch_imported": torch_seen, "training_imported": training_seen}


class _Heartbeat:
    """A precise QTimer whose consecutive timeouts are timed; the gaps are the event loop's stalls."""

    def __init__(self, interval_ms: int = HEARTBEAT_MS) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._beat)
        self.last: float | None = None
        self.gaps: list[float] = []
        self.ends: list[float] = []  # when each gap ended, seconds after start()
        self.started = 0.0

    def _beat(self) -> None:
        now = time.perf_counter()
        if self.last is not None:
            self.gaps.append(now - self.last)
            self.ends.append(now - self.started)
        self.last = now

    def start(self) -> None:
        self.gaps, self.ends, self.last = [], [], None
        self.started = time.perf_counter()
        self.timer.start()

    def longest_at(self) -> float | None:
        """Seconds after start() at which the longest gap ended (to tell a stall at landing from one mid-render)."""
        return self.ends[self.gaps.index(max(self.gaps))] if self.gaps else None

    def stop(self) -> list[float]:
        self.timer.stop()
        return list(self.gaps)


def _spin(app: Any, condition: Any, timeout: float) -> bool:
    """Run the event loop until ``condition()`` or ``timeout`` seconds; True when the condition came true."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    poll = QTimer()
    poll.setInterval(10)
    poll.timeout.connect(lambda: loop.quit() if condition() else None)
    deadline = QTimer()
    deadline.setSingleShot(True)
    deadline.timeout.connect(loop.quit)
    poll.start()
    deadline.start(int(timeout * 1000))
    if not condition():
        loop.exec()
    poll.stop()
    deadline.stop()
    return bool(condition())


def _gap_summary(gaps: list[float]) -> dict[str, float]:
    if not gaps:
        return {"beats": 0, "longest_ms": float("nan"), "p99_ms": float("nan"), "median_ms": float("nan")}
    ordered = sorted(gaps)
    return {"beats": len(gaps), "longest_ms": ordered[-1] * 1000, "median_ms": statistics.median(ordered) * 1000,
            "p99_ms": ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000}


def event_loop_gaps(size: int, threads: int, tile: int = 0, timeout: float = 900.0) -> list[Row]:
    """Longest event-loop gap while the style palette renders a ``size`` x ``size`` canvas and lands the layer."""
    os.environ.update({k: v for k, v in _qt_env().items() if k == "QT_QPA_PLATFORM"})
    from bench_models import prepare, torch_available

    from genart_desktop.document.document import Document
    from genart_desktop.ui.app import create_main_window, ensure_application

    with tempfile.TemporaryDirectory(prefix="genart-bench-ui-") as tmp:
        previous_home = os.environ.get("GENART_HOME")
        os.environ["GENART_HOME"] = str(Path(tmp) / "home")
        try:
            prepared = prepare("style", Path(tmp), threads, torch_available())
            if tile:
                card = prepared.entry.card
                if card is not None and isinstance(card.config, dict):
                    # the pipeline reads its tiling from the card
                    card.config.update({"tile": tile, "overlap": min(96, tile // 4)})
            app = ensure_application([])
            window = create_main_window(registry=prepared.registry)
            document = Document(size, size)
            window.set_document(document)
            window.resize(1400, 900)
            window.show()
            palette = window.style_palette
            _spin(app, lambda: False, 0.5)  # first layout and paint are part of the start, not of idling
            heartbeat = _Heartbeat()
            heartbeat.start()
            _spin(app, lambda: False, 1.0)
            idle = _gap_summary(heartbeat.stop())
            palette.choose_style(prepared.model_id)
            _spin(app, lambda: not palette.busy, timeout)
            layers_before = len(document.layers)
            heartbeat.start()
            started = time.perf_counter()
            job = palette.apply()
            if job is None:
                raise RuntimeError("the style palette did not start a render")
            _spin(app, lambda: not palette.busy, timeout)
            elapsed = time.perf_counter() - started
            landed = len(document.layers) > layers_before
            _spin(app, lambda: False, 0.2)  # repaint after the new layer
            busy = _gap_summary(heartbeat.stop())
            busy["longest_ended_at_s"] = heartbeat.longest_at()
            palette_message = window.statusBar().currentMessage() or "no message"
            window.hide()  # close() would ask about the unsaved render; the window is simply dropped
            window.deleteLater()  # its services (job runner) shut down when it is destroyed
            _spin(app, lambda: False, 0.1)
        finally:
            if previous_home is None:
                os.environ.pop("GENART_HOME", None)
            else:
                os.environ["GENART_HOME"] = previous_home
    verdict = "met" if busy["longest_ms"] < TARGET_GAP_MS else "MISSED"
    label = f"longest event-loop gap during a {size}x{size} style render + landing ({elapsed:.1f} s)"
    row = Row("ui", label, prepared.weights,
              text=f"{busy['longest_ms']:.1f} ms (target < {TARGET_GAP_MS:.0f} ms: {verdict}; p99 "
                   f"{busy['p99_ms']:.1f} ms)" + ("" if landed else f"; THE LAYER NEVER LANDED: {palette_message}"))
    row.extra.update({"busy": busy, "idle": idle, "render_s": elapsed, "landed": landed, "target_ms": TARGET_GAP_MS,
                      "heartbeat_ms": HEARTBEAT_MS})
    idle_row = Row("ui", "longest event-loop gap while idle (heartbeat jitter)",
                   text=f"{idle['longest_ms']:.1f} ms")
    idle_row.extra.update({"idle": idle})
    return [row, idle_row]


def run_ui(threads: int, quick: bool, size: int | None = None, tile: int = 0, launches: int | None = None,
           log: Any = print) -> tuple[list[Row], dict[str, Any]]:
    rows: list[Row] = []
    info: dict[str, Any] = {}
    log("[ui] event-loop gaps during a style render ...")
    try:
        rows += event_loop_gaps(size or (256 if quick else 1024), threads, tile or (256 if quick else 0))
    except Exception as exc:  # noqa: BLE001 - report and go on to the cold start
        rows.append(Row("ui", "event-loop gaps during a style render", text=f"failed: {str(exc)[:200]}"))
    log("[ui] cold start ...")
    try:
        row, info = cold_start(launches or (1 if quick else 3))
        rows.append(row)
    except Exception as exc:  # noqa: BLE001
        rows.append(Row("ui", "cold start to first painted window", text=f"failed: {str(exc)[:200]}"))
        info = {"error": str(exc)}
    return rows, info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small canvas and one launch")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--size", type=int, help="canvas side for the style render")
    args = parser.parse_args(argv)
    rows, info = run_ui(args.threads, args.quick, args.size, log=lambda m: print(m, file=sys.stderr))
    print(markdown_table(rows, None))
    return 1 if info.get("torch_imported") else 0


if __name__ == "__main__":
    sys.exit(main())
