"""Brush throughput and undo memory on a large canvas.

Paints random strokes with a 64 px brush on a 4096 x 4096 document (white background plus a paint layer) and
reports dabs per second (the pointer-path work: interpolation, dab masks, compositing into the layer), the cost of
committing strokes to the undo history, the undo memory after all strokes next to what full copies would take, an
undo/redo round trip, and repainting a 512 x 512 view after a stroke.

    python benchmarks/bench_strokes.py [--quick] [--size 4096] [--strokes 200]

Target (issue 3): at least 500 dabs per second with a 64 px brush on 4096 x 4096 on the 2-core development machine;
undo memory after 200 strokes proportional to the painted area, far below 200 canvas copies.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from genart_desktop.document import BrushSettings, Document, Rect  # noqa: E402

TARGET_DABS = 500.0


def stroke_paths(count: int, size: int, rng: np.random.Generator) -> list[list[tuple[float, float, float]]]:
    """Pointer paths like a hand: ~25 events a stroke, 10-40 px apart, wandering direction, varying pressure."""
    paths = []
    for _ in range(count):
        x, y = rng.uniform(200, size - 200, 2)
        angle = rng.uniform(0, 2 * np.pi)
        points = []
        for _ in range(25):
            points.append((float(x), float(y), float(rng.uniform(0.4, 1.0))))
            angle += rng.normal(0, 0.3)
            step = rng.uniform(10, 40)
            x = float(np.clip(x + np.cos(angle) * step, 0, size - 1))
            y = float(np.clip(y + np.sin(angle) * step, 0, size - 1))
        paths.append(points)
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 strokes instead of 200")
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--strokes", type=int, default=None)
    args = parser.parse_args(argv)
    strokes = args.strokes or (20 if args.quick else 200)
    size = args.size

    doc = Document(size, size, max_undo_bytes=1 << 40)  # no cap: measure what 200 strokes really cost
    doc.add_layer("Paint")
    brush = BrushSettings(size=64, hardness=0.7, opacity=0.9, flow=0.8, spacing=0.1, pressure_size=True)
    paths = stroke_paths(strokes, size, np.random.default_rng(0))
    view = Rect(size // 2 - 256, size // 2 - 256, 512, 512)
    doc.composite(view)

    paint_s = commit_s = 0.0
    dabs = 0
    base_memory = doc.history.memory_bytes
    touched_tiles = 0
    for i, path in enumerate(paths):
        brush_i = BrushSettings(**{**brush.__dict__, "color": (i * 37 % 256, i * 91 % 256, i * 13 % 256)})
        stroke = doc.begin_stroke(brush_i)
        start = time.perf_counter()
        for x, y, p in path:
            stroke.add_point(x, y, p)
        mid = time.perf_counter()
        stroke.end()
        commit_s += time.perf_counter() - mid
        paint_s += mid - start
        dabs += stroke.dabs
        touched_tiles += int(stroke._saved.sum())
    memory = doc.history.memory_bytes - base_memory
    full_copies = strokes * size * size * 4

    start = time.perf_counter()
    doc.composite(view)
    repaint_ms = (time.perf_counter() - start) * 1000
    start = time.perf_counter()
    doc.composite(view)
    cached_ms = (time.perf_counter() - start) * 1000

    final = doc.active_layer.pixels.copy()
    start = time.perf_counter()
    for _ in range(10):
        doc.undo()
    for _ in range(10):
        doc.redo()
    undo_ms = (time.perf_counter() - start) * 1000 / 20
    exact = np.array_equal(final, doc.active_layer.pixels)

    dabs_per_s = dabs / paint_s
    print(f"Canvas {size}x{size}, brush 64 px (hardness 0.7, spacing 0.1, pressure to size), {strokes} strokes, "
          f"{dabs} dabs\n")
    print("| measure | value | target |")
    print("|---|---|---|")
    print(f"| dabs per second (painting) | {dabs_per_s:,.0f} | >= {TARGET_DABS:.0f} "
          f"{'(met)' if dabs_per_s >= TARGET_DABS else '(MISSED)'} |")
    print(f"| dabs per second incl. commit to undo | {dabs / (paint_s + commit_s):,.0f} | |")
    print(f"| commit one stroke to history (mean) | {commit_s / strokes * 1000:.1f} ms | |")
    print(f"| undo memory after {strokes} strokes | {memory / 2**20:.1f} MiB | "
          f"<< {full_copies / 2**30:.1f} GiB of full copies |")
    print(f"| undo memory per stroke (mean) | {memory / strokes / 2**10:.0f} KiB | |")
    raw = touched_tiles * 64 * 64 * 4 * 2
    print(f"| undo memory / raw before+after of touched 64 px tiles | {memory / raw:.2f} | <= 1 (zlib) |")
    print(f"| undo or redo one stroke (mean) | {undo_ms:.1f} ms | |")
    print(f"| undo/redo pixel-exact | {'yes' if exact else 'NO'} | yes |")
    print(f"| repaint 512x512 view after strokes | {repaint_ms:.1f} ms | |")
    print(f"| repaint 512x512 view, cached | {cached_ms:.2f} ms | |")
    return 0 if dabs_per_s >= TARGET_DABS and exact else 1


if __name__ == "__main__":
    sys.exit(main())
