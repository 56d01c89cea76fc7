"""Arbitrary style (issue 19): the arbitrary network against a single-style network, onnxruntime against PyTorch
eager on its transfer graph, and a 4096x4096 tiled render's time and process memory.

Targets: at 1024x1024 within 2x the time of a single-style network; 4096x4096 tiled within 1.5 GB. Every render
runs in a fresh child process (so "peak RSS" is the whole process's VmHWM) through the path the Style dock and
``genart style`` take (``workspace.style_jobs.open_pipeline``: the card's tiling budget, the content statistics
measured once per render). The arbitrary model renders one of its presets: the painting the single-style network
was trained on when it has one, so both renders aim at the same style. PyTorch eager runs the transfer graph rebuilt
from the training module (the SqueezeNet encoder from its weights file, the decoder's weights read from
``transfer.onnx``) on the same inputs with the same thread count.

    python benchmarks/bench_arbitrary_style.py [--quick] [--threads N] [--model ID] [--single ID] [--preset ID]
                                               [--size 1024] [--big 4096] [--tile N]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
MEMORY_TARGET_MIB = 1536  # 1.5 GB for the 4096x4096 render
TIME_TARGET = 2.0  # arbitrary / single-style at 1024x1024


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="256 and 512 px (256 px tiles), one timed render")
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)),
                        help="threads for onnxruntime and PyTorch")
    parser.add_argument("--model", default="style-arbitrary", help="the arbitrary style model's id")
    parser.add_argument("--single", default="style-starry-night", help="the single-style network to compare with")
    parser.add_argument("--preset", help="the arbitrary model's preset to render (default: the single network's "
                                         "painting, else the first preset)")
    parser.add_argument("--size", type=int, default=0, help="side of the comparison renders (default 1024)")
    parser.add_argument("--big", type=int, default=0, help="side of the tiled render (default 4096)")
    parser.add_argument("--tile", type=int, default=0, help="force tiles of this side in the big render "
                                                            "(default: the card's memory budget decides)")
    parser.add_argument("--worker", nargs=5, metavar=("MODEL", "PRESET", "SIZE", "TILE", "REPEATS"),
                        help=argparse.SUPPRESS)
    return parser.parse_args(argv)


ARGS = parse_args() if __name__ == "__main__" else None
if ARGS is not None:
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = str(ARGS.threads)
sys.path[:0] = [str(ROOT), str(HERE)]

import numpy as np
from bench_style import median_seconds, peak_rss, photo, session
from common import print_plain_table


def registry_for(threads: int) -> Any:
    """The model registry with onnxruntime on the CPU at ``threads`` and the default style memory budget."""
    from genart_desktop.engine.registry import ModelRegistry

    return ModelRegistry(settings={"execution_provider": "cpu", "intra_op_threads": threads})


def recipe(model_id: str, preset: str | None) -> Any:
    """What the dock would send: a fixed network alone, or the arbitrary model with one preset at full weight.
    Stroke scale 1, so both networks run at the full size."""
    from genart_desktop.engine.pipelines.style import StyleSettings
    from genart_desktop.workspace.style_jobs import StylePick, StyleRecipe

    picks = (StylePick(f"preset:{preset}", preset, 1.0, preset=preset),) if preset else ()
    return StyleRecipe(model_id, model_id, StyleSettings(strength=0.8, preserve_colors=True, scale=1.0), picks=picks)


def picture(size: int) -> np.ndarray:
    """The canvas the dock would snapshot: an opaque RGBA photo."""
    rgb = photo(size)
    return np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)])


def worker(model_id: str, preset: str | None, size: int, tile: int, repeats: int, threads: int) -> dict[str, Any]:
    """Renders in this (fresh) process: one untimed warm-up when ``repeats`` > 1, then ``repeats`` timed ones."""
    from genart_desktop.workspace.style_jobs import open_pipeline

    chosen = recipe(model_id, preset)
    pipeline = open_pipeline(registry_for(threads), chosen, tile=tile or None)
    pixels = picture(size)
    tiles = pipeline.tile_count(size, size)
    samples = []
    for index in range(repeats + (1 if repeats > 1 else 0)):
        started = time.perf_counter()
        result = pipeline.apply(pixels, chosen.settings)
        if repeats == 1 or index > 0:
            samples.append(time.perf_counter() - started)
    assert result.shape == pixels.shape
    return {"size": size, "tiles": tiles, "tile": pipeline.tile_side(size, size) if tiles > 1 else None,
            "seconds": float(np.median(samples)), "runs": len(samples), "peak_rss": peak_rss()}


def measure_child(model_id: str, preset: str | None, size: int, tile: int, repeats: int, threads: int) -> dict:
    command = [sys.executable, __file__, "--threads", str(threads), "--worker", model_id, preset or "-", str(size),
               str(tile), str(repeats)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=str(ROOT), check=False)
    if done.returncode != 0:
        return {"size": size, "error": (done.stderr.strip().splitlines() or ["failed"])[-1][:200]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def choose_preset(registry: Any, model_id: str, single_id: str, wanted: str | None) -> str:
    """The preset to render: ``wanted``, else the one of the single network's painting, else the first."""
    from genart_desktop.engine.pipelines.arbitrary_style import (
        load_presets,
        painting_of,
    )

    presets = load_presets(registry.get(model_id).card)
    if not presets:
        raise SystemExit(f"The model {model_id} ships no presets; pass a model that does.")
    if wanted:
        if wanted not in {p.id for p in presets}:
            raise SystemExit(f"The model {model_id} has no preset {wanted!r}.")
        return wanted
    painting = painting_of(registry.get(single_id).card)
    return next((p.id for p in presets if p.source == painting), presets[0].id)


def transfer_feeds(registry: Any, model_id: str, preset: str, side: int, threads: int) -> dict[str, np.ndarray]:
    """The transfer graph's inputs for a ``side`` x ``side`` photo: its statistics from the encoder, the preset's
    as the style, full strength (in the graph's argument order)."""
    from genart_desktop.engine.pipelines.arbitrary_style import load_presets

    entry = registry.get(model_id)
    style = next(p.stats for p in load_presets(entry.card) if p.id == preset)
    content = (photo(side).astype(np.float32) / 127.5 - 1.0).transpose(2, 0, 1)[None].copy()
    mean, std = session(str(entry.files["encoder"]), threads).run(["mean", "std"], {"image": content})
    return {"content": content, "content_mean": mean, "content_std": std, "style_mean": style.mean[None].copy(),
            "style_std": style.std[None].copy(), "strength": np.ones(1, np.float32)}


def torch_twin(entry: Any) -> tuple[Any, str | None]:
    """The transfer network in PyTorch with the shipped weights, or None and why it cannot be built."""
    try:
        import torch  # noqa: F401
    except ModuleNotFoundError:
        return None, "skipped: PyTorch is not installed (the train extra)"
    from genart_desktop.core.errors import InputError, ModelError
    from genart_desktop.training.style.perceptual import find_squeezenet_weights
    from genart_desktop.training.style.squeezenet import load_squeezenet
    from genart_desktop.training.style_arbitrary.network import (
        Decoder,
        DecoderConfig,
        Encoder,
        Transfer,
    )
    from genart_desktop.training.style_arbitrary.trainer import load_decoder

    try:
        weights = find_squeezenet_weights()
    except ModelError:
        return None, "skipped: the SqueezeNet weights (../shared/data/weights) are missing"
    width = (entry.card.config.get("network") or {}).get("width", DecoderConfig.width)
    try:
        transfer = Transfer(Encoder(load_squeezenet(weights)), Decoder(DecoderConfig(width)))
        load_decoder(transfer, Path(entry.files["transfer"]))
    except (InputError, ModelError, OSError) as exc:
        return None, f"skipped: {exc}"
    return transfer.eval(), None


def interleaved(calls: list[Callable[[], Any]], repeats: int) -> list[float]:
    """Median seconds of each call after one warm-up each, timed in turns (A, B, A, B, ...) so that a load
    change on a shared machine hits both sides alike."""
    for call in calls:
        call()
    samples: list[list[float]] = [[] for _ in calls]
    for _ in range(repeats):
        for call, taken in zip(calls, samples):
            started = time.perf_counter()
            call()
            taken.append(time.perf_counter() - started)
    return [float(np.median(taken)) for taken in samples]


def transfer_comparison(registry: Any, model_id: str, preset: str, side: int, threads: int,
                        repeats: int) -> tuple[float, float | None, float | None, str | None]:
    """Median seconds of the transfer graph in onnxruntime and in PyTorch eager on the same inputs, their largest
    difference, and why PyTorch was skipped (else None)."""
    feeds = transfer_feeds(registry, model_id, preset, side, threads)
    entry = registry.get(model_id)
    ort_session = session(str(entry.files["transfer"]), threads)
    net, reason = torch_twin(entry)
    if net is None:
        return median_seconds(lambda: ort_session.run(None, feeds), repeats), None, None, reason
    import torch

    torch.set_num_threads(threads)
    torch.set_flush_denormal(True)
    tensors = [torch.from_numpy(value) for value in feeds.values()]

    def eager() -> Any:
        with torch.inference_mode():
            return net(*tensors)

    ours, theirs = interleaved([lambda: ort_session.run(None, feeds), eager], repeats)
    diff = float(np.abs(ort_session.run(None, feeds)[0] - eager().numpy()).max())
    return ours, theirs, diff, None


def render_row(label: str, result: dict) -> tuple[str, str, str, str]:
    if "error" in result:
        return label, "failed", "", result["error"]
    tiles = f"{result['tiles']} tiles of {result['tile']} px" if result["tiles"] > 1 else "whole (1 tile)"
    runs = "median of {runs} after a warm-up".format(**result) if result["runs"] > 1 else "one run, cold session"
    rate = result["size"] ** 2 / result["seconds"] / 1e6
    return label, f"{result['seconds']:.2f} s", f"{result['peak_rss'] / 2**20:,.0f} MiB", \
        f"{tiles}; {runs}; {rate:.2f} Mpx/s"


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def load_text() -> str:
    try:
        return ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def main(args: argparse.Namespace) -> int:
    if args.worker:
        model_id, preset, size, tile, repeats = args.worker
        print(json.dumps(worker(model_id, None if preset == "-" else preset, int(size), int(tile), int(repeats),
                                args.threads)))
        return 0
    size = args.size or (256 if args.quick else 1024)
    big = args.big or (512 if args.quick else 4096)
    tile = args.tile or (256 if args.quick else 0)
    repeats = 1 if args.quick else 3
    load_before = load_text()
    registry = registry_for(args.threads)
    preset = choose_preset(registry, args.model, args.single, args.preset)

    arbitrary = measure_child(args.model, preset, size, 0, repeats, args.threads)
    single = measure_child(args.single, None, size, 0, repeats, args.threads)
    rows = [render_row(f"arbitrary {args.model} (preset {preset}), apply {size}x{size}", arbitrary),
            render_row(f"single-style {args.single}, apply {size}x{size}", single)]
    if "error" not in arbitrary and "error" not in single:
        ratio = arbitrary["seconds"] / single["seconds"]
        rows.append((f"arbitrary / single-style time at {size}x{size}", f"{ratio:.2f}x", "",
                     f"target within {TIME_TARGET:g}x: {verdict(ratio <= TIME_TARGET)}"))

    ours, theirs, diff, reason = transfer_comparison(registry, args.model, preset, size, args.threads,
                                                     repeats + 2)
    compared = f"PyTorch time / ours {theirs / ours:.2f}x; max abs difference {diff:.1e}" if theirs else ""
    rows.append((f"transfer graph {size}x{size} whole, onnxruntime", f"{ours * 1000:,.1f} ms", "", compared))
    rows.append((f"transfer graph {size}x{size} whole, PyTorch eager",
                 f"{theirs * 1000:,.1f} ms" if theirs else "n/a", "",
                 reason or "same weights, same inputs; timed in turns with onnxruntime"))

    tiled = measure_child(args.model, preset, big, tile, 1, args.threads)
    label, seconds, memory, notes = render_row(f"arbitrary {args.model}, apply {big}x{big} tiled", tiled)
    if "error" not in tiled:
        within = tiled["peak_rss"] / 2**20 <= MEMORY_TARGET_MIB
        notes += f"; target within 1.5 GB: {verdict(within)}"
    rows.append((label, seconds, memory, notes))
    print_plain_table(f"Arbitrary style, {args.threads} thread(s), onnxruntime CPU; each render in a fresh process; "
                      f"load average {load_before} at start, {load_text()} at end.", rows)
    return 0


if __name__ == "__main__":
    sys.exit(main(ARGS))
