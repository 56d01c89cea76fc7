"""Soak run: hundreds of mixed operations in one process must not grow its memory, threads or cached sessions.

Strokes, style applies, generations, undo/redo, layer merges, saves and autosaves run through the same controllers
and job runner the app uses (``workspace.style``, ``workspace.diffusion``, ``engine.jobs``). After a warm-up the
process RSS must stay within 10 % of its level at the end of the warm-up; afterwards no worker thread may be left and,
once the registry releases its cache, no model session may stay alive.

Uses a style and a diffusion model from ``models/`` when there are some, else builds tiny ones with the builders the
tests use (``tests/tiny_onnx.py``, ``tests/workspace/tiny_diffusion.py``).

    python benchmarks/soak.py            # 500 operations
    python benchmarks/soak.py --quick    # 120 operations
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
import psutil  # noqa: E402

RSS_LIMIT = 0.10
SIDE = 256
UNDO_CAP = 4 << 20  # small enough that the undo history is full by the end of the warm-up


def _models_root(scratch: Path) -> tuple[list[tuple[Path, str]], str, str, str]:
    """Registry roots and the style and diffusion model ids to use, plus where they came from."""
    from genart_desktop.core.paths import builtin_models_dir
    from genart_desktop.engine.registry import ModelRegistry

    shipped = builtin_models_dir()
    if shipped.is_dir():
        registry = ModelRegistry([(shipped, "builtin")], {"execution_provider": "cpu"})
        styles = registry.models("style")
        diffusions = registry.models("diffusion")
        if styles and diffusions:
            return [(shipped, "builtin")], styles[0].id, diffusions[0].id, f"models/ ({styles[0].id}, " \
                f"{diffusions[0].id})"
    from tests.tiny_onnx import image_model, write_model_folder
    from tests.workspace.tiny_diffusion import diffusion_folder

    root = scratch / "models"
    write_model_folder(root, "soak-style", "style", {"stylizer": image_model(scale=-0.9, shift=0.05)},
                       resolution=[64, 64], config={"tile": 128, "overlap": 16})
    diffusion_folder(root, "soak-diffusion", resolution=32)
    return [(root, "user")], "soak-style", "soak-diffusion", "tiny test models (models/ has none)"


def _rss() -> int:
    return psutil.Process().memory_info().rss


def _live_sessions() -> int:
    from genart_desktop.engine.session import ModelSession

    gc.collect()
    return sum(1 for obj in gc.get_objects() if isinstance(obj, ModelSession))


def run(operations: int, seed: int) -> int:
    scratch = Path(tempfile.mkdtemp(prefix="genart-soak-"))
    os.environ["GENART_HOME"] = str(scratch / "home")
    from genart_desktop.document import Document
    from genart_desktop.document.autosave import AutosaveStore
    from genart_desktop.document.brush import BrushSettings
    from genart_desktop.document.io.ora import save_ora
    from genart_desktop.engine.events import Result
    from genart_desktop.engine.registry import ModelRegistry
    from genart_desktop.workspace.diffusion import DiffusionController
    from genart_desktop.workspace.style import StyleController
    from genart_desktop.workspace.workspace import Workspace

    roots, style_id, diffusion_id, source = _models_root(scratch)
    threads_before = threading.active_count()
    registry = ModelRegistry(roots, {"execution_provider": "cpu", "intra_op_threads": 1, "session_cache_size": 4})
    workspace = Workspace(registry)  # events reach the controllers on the worker thread, before handle.wait returns
    runner = workspace.runner
    style = StyleController(workspace)
    style.select(style_id)
    diffusion = DiffusionController(workspace)
    autosave = AutosaveStore(scratch / "autosave")
    doc = Document(SIDE, SIDE, max_undo_bytes=UNDO_CAP)
    rng = random.Random(seed)
    timings: dict[str, list[float]] = {}
    rss: list[int] = []
    warmup = max(20, operations // 5)
    cache_peak = 0
    undo_at_warmup = 0

    def stroke() -> None:
        brush = BrushSettings(size=rng.uniform(4, 40), hardness=rng.random(), opacity=rng.uniform(0.3, 1),
                              color=(rng.randrange(256), rng.randrange(256), rng.randrange(256)))
        if doc.active_layer.locked:
            doc.set_layer_property(doc.active_index, locked=False)
        painting = doc.begin_stroke(brush, tool=rng.choice(["brush", "brush", "eraser"]))
        x, y = rng.uniform(0, SIDE), rng.uniform(0, SIDE)
        for _ in range(rng.randrange(5, 40)):
            x, y = x + rng.uniform(-12, 12), y + rng.uniform(-12, 12)
            painting.add_point(x, y, rng.uniform(0.2, 1.0))
        painting.end()

    def style_apply() -> None:
        if rng.random() < 0.5:
            doc.select_rect(_rect(rng.randrange(SIDE // 2), rng.randrange(SIDE // 2), SIDE // 2, SIDE // 2))
        else:
            doc.deselect()
        style.set_settings(strength=rng.uniform(0.2, 1.0), preserve_colors=rng.random() < 0.5)
        handle = style.apply(doc)
        handle.wait()  # the controller has landed the render (or dropped it) before the wait returns
        if not isinstance(handle.outcome, Result):
            raise RuntimeError(f"style apply failed: {handle.outcome}")

    def generate() -> None:
        settings = dataclasses.replace(diffusion.default_settings(diffusion_id), seed_mode="fixed",
                                       seed=rng.randrange(1 << 30), steps=rng.randrange(2, 9),
                                       sampler=rng.choice(["ddim", "ddpm", "dpmpp_2m", "euler_a"]))
        entries, _ = diffusion.submit("generate", settings, doc)
        entry = entries[0]
        entry.handle.wait()
        if entry.state != "done":
            raise RuntimeError(f"generation failed: {entry.message}")
        diffusion.accept(entry.id, doc)

    def tidy() -> None:
        while len(doc.layers) > 5:
            doc.merge_down(len(doc.layers) - 1)

    def save() -> None:
        save_ora(doc, scratch / "soak.ora")

    def autosave_now() -> None:
        autosave.write(doc, "soak")

    actions = [("stroke", stroke, 36), ("style apply", style_apply, 12), ("generation", generate, 12),
               ("undo", lambda: doc.undo(), 14), ("redo", lambda: doc.redo(), 10), ("save", save, 5),
               ("autosave", autosave_now, 5), ("merge down", tidy, 6)]
    names = [a[0] for a in actions]
    weights = [a[2] for a in actions]
    by_name = {a[0]: a[1] for a in actions}
    started = time.perf_counter()
    for index in range(operations):
        name = rng.choices(names, weights)[0]
        begin = time.perf_counter()
        by_name[name]()
        timings.setdefault(name, []).append((time.perf_counter() - begin) * 1000)
        if len(doc.layers) > 8:
            tidy()
        cache_peak = max(cache_peak, len(registry.cached_sessions()))
        if index + 1 == warmup:
            gc.collect()
            undo_at_warmup = doc.history.memory_bytes
        rss.append(_rss())
    wall = time.perf_counter() - started
    runner.shutdown()
    time.sleep(0.05)
    threads_after = threading.active_count()
    registry.release_all()
    diffusion.forget_models()
    sessions_left = _live_sessions()

    base = rss[warmup - 1]
    after = rss[warmup:]
    growth = (max(after) - base) / base if after else 0.0
    ok_rss = growth <= RSS_LIMIT
    ok_threads = threads_after <= threads_before
    ok_sessions = sessions_left == 0 and cache_peak <= registry.cache_size

    print(f"## Soak run: {operations} operations, seed {seed}\n")
    print(f"Models: {source}. Canvas {SIDE}x{SIDE}, undo cap {UNDO_CAP >> 20} MiB, wall time {wall:.1f} s.\n")
    print("| operation | count | mean ms | p95 ms |")
    print("|---|---:|---:|---:|")
    for name in names:
        values = timings.get(name, [])
        if values:
            p95 = float(np.percentile(values, 95))
            print(f"| {name} | {len(values)} | {statistics.fmean(values):.1f} | {p95:.1f} |")
    print()
    print("| check | value | limit | result |")
    print("|---|---|---|---|")
    mib = 1 / (1 << 20)
    print(f"| RSS after warm-up ({warmup} ops) | {base * mib:.1f} MiB | | |")
    print(f"| RSS peak after warm-up | {max(after) * mib:.1f} MiB | | |")
    print(f"| RSS at the end | {rss[-1] * mib:.1f} MiB | | |")
    print(f"| RSS growth after warm-up | {growth * 100:+.1f} % | <= {RSS_LIMIT * 100:.0f} % | "
          f"{'pass' if ok_rss else 'FAIL'} |")
    print(f"| threads before / after | {threads_before} / {threads_after} | no new threads | "
          f"{'pass' if ok_threads else 'FAIL'} |")
    print(f"| cached sessions (peak) | {cache_peak} | <= {registry.cache_size} | "
          f"{'pass' if cache_peak <= registry.cache_size else 'FAIL'} |")
    print(f"| live sessions after release | {sessions_left} | 0 | {'pass' if sessions_left == 0 else 'FAIL'} |")
    print(f"| undo memory after warm-up / end | {undo_at_warmup * mib:.1f} / {doc.history.memory_bytes * mib:.1f} MiB "
          f"| {UNDO_CAP * mib:.0f} MiB | |")
    print(f"| layers / undo steps at the end | {len(doc.layers)} / {doc.history.undo_count} | | |")
    return 0 if ok_rss and ok_threads and ok_sessions else 1


def _rect(x: int, y: int, w: int, h: int):
    from genart_desktop.document.geometry import Rect

    return Rect(x, y, w, h)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="120 operations instead of 500")
    parser.add_argument("--ops", type=int, default=None, help="number of operations (overrides --quick)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    operations = args.ops or (120 if args.quick else 500)
    if operations < 40:
        parser.error("use at least 40 operations (the first fifth is warm-up)")
    return run(operations, args.seed)


if __name__ == "__main__":
    raise SystemExit(main())
