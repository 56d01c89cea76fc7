"""Upscaler: x4 enlargement time and peak process memory through the app's tiled pipeline, onnxruntime vs PyTorch
eager on the same network.

Targets (issue 17): 512x512 -> 2048x2048 under 10 s on a 2-core CPU, and 1024x1024 -> 4096x4096 within 1.5 GB of
process memory. Each full enlargement runs in a fresh child process, so "peak RSS" is the whole process's high-water
mark. The network is a registered upscaler (``--model ID``, default ``upscale-x4`` when installed) or the default
architecture freshly initialised and exported through the training module (timings are real; pictures would not
be). PyTorch eager runs the same weights on the whole input at once (no tiles), with the same thread count.

    python benchmarks/bench_upscale.py [--quick] [--threads N] [--model ID] [--tile 192]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="128 and 256 px inputs, 2 repeats")
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)),
                        help="threads for onnxruntime and PyTorch")
    parser.add_argument("--model", help="a registered upscaler id (default: upscale-x4 when installed, else the "
                                        "untrained default architecture)")
    parser.add_argument("--tile", type=int, default=0, help="tile size in input pixels (default: the model's)")
    parser.add_argument("--worker", nargs=4, metavar=("ONNX", "SIZE", "TILE", "ENSEMBLE"), help=argparse.SUPPRESS)
    return parser.parse_args(argv)


ARGS = parse_args() if __name__ == "__main__" else None
if ARGS is not None:
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = str(ARGS.threads)
sys.path[:0] = [str(ROOT), str(HERE)]

from common import print_plain_table  # noqa: E402
from bench_style import canvas, peak_rss, runtime_comparison, session  # noqa: E402


def worker(onnx_path: str, size: int, tile: int, threads: int, ensemble: int = 1) -> None:
    """One x4 enlargement of a ``size`` canvas in this (fresh) process, each tile run ``ensemble`` times; prints
    JSON with time and peak RSS."""
    from genart_desktop.engine.pipelines.upscale import DEFAULT_TILE, UpscaleNetwork, UpscalePipeline

    pipeline = UpscalePipeline(UpscaleNetwork(session(onnx_path, threads), 4), tile=tile or DEFAULT_TILE,
                               ensemble=ensemble)
    pixels = canvas(size)[..., :3]
    started = time.perf_counter()
    result = pipeline.upscale(pixels)
    elapsed = time.perf_counter() - started
    assert result.shape == (size * 4, size * 4, 3)
    print(json.dumps({"size": size, "tile": pipeline.tile, "seconds": elapsed, "peak_rss": peak_rss()}))


def measure_child(onnx_path: Path, size: int, tile: int, threads: int, ensemble: int = 1) -> dict:
    command = [sys.executable, __file__, "--threads", str(threads), "--worker", str(onnx_path), str(size), str(tile),
               str(ensemble)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=str(ROOT))
    if done.returncode != 0:
        return {"size": size, "error": (done.stderr.strip().splitlines() or ["failed"])[-1][:200]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def prepare_network(model_id: str | None, folder: Path):
    """(onnx path, torch module or None, description, the card's self-ensemble)."""
    from genart_desktop.engine.registry import ModelRegistry

    registry = ModelRegistry(settings={"execution_provider": "cpu"})
    installed = {e.id for e in registry.models("upscaler")}
    chosen = model_id or ("upscale-x4" if "upscale-x4" in installed else None)
    torch_net = None
    try:
        import torch

        from genart_desktop.training.upscale.network import UpscaleNet, UpscaleNetConfig
    except ModuleNotFoundError:
        torch = None
    if chosen:
        entry = registry.get(chosen)
        if torch is not None:
            torch_net = _torch_from_onnx(entry.files["upscaler"], UpscaleNet(UpscaleNetConfig(
                **entry.card.config["network"])))
        return entry.files["upscaler"], torch_net, f"model {chosen}", int(entry.card.config.get("self_ensemble", 1))
    if torch is None:
        raise SystemExit("PyTorch (the train extra) is needed to build the default network; or pass --model ID.")
    from genart_desktop.training.upscale.export import export_upscaler_onnx

    torch.manual_seed(0)
    net = UpscaleNet(UpscaleNetConfig()).eval()
    return export_upscaler_onnx(net, folder / "upscaler.onnx"), net, "untrained default architecture (speed only)", 1


def _torch_from_onnx(path: Path, net):
    """The PyTorch network with the ONNX file's weights (initializers carry the module's parameter names)."""
    import onnx
    import torch
    from onnx import numpy_helper

    graph = onnx.load(str(path)).graph
    weights = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in graph.initializer}
    state = {k: weights[k] for k in net.state_dict() if k in weights}
    if len(state) != len(net.state_dict()):
        return None
    net.load_state_dict(state)
    return net.eval()


def main(args: argparse.Namespace) -> int:
    if args.worker:
        worker(args.worker[0], int(args.worker[1]), int(args.worker[2]), args.threads, int(args.worker[3]))
        return 0
    sizes = (128, 256) if args.quick else (512, 1024)
    repeats = 2 if args.quick else 3
    side = 128 if args.quick else 512
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        onnx_path, net, weights, card_ensemble = prepare_network(args.model, Path(tmp))
        for size in sizes:
            for ensemble in sorted({1, card_ensemble}):
                how = "one run per tile" if ensemble == 1 else f"self-ensemble of {ensemble}, the card's"
                result = measure_child(Path(onnx_path), size, args.tile, args.threads, ensemble)
                if "error" in result:
                    rows.append((f"x4 {size}x{size} ({how})", "failed", "", result["error"]))
                    continue
                rows.append((f"x4 {size}x{size} -> {size * 4}x{size * 4} (tiled pipeline, {how})",
                             f"{result['seconds']:.2f} s", f"{result['peak_rss'] / 2**20:,.0f} MiB",
                             f"tiles of {result['tile']} px"))
        ours, theirs, diff = runtime_comparison(Path(onnx_path), net, side, args.threads, repeats, "low", (0.0, 1.0))
        ratio = f"PyTorch time / ours {theirs / ours:.2f}x; max |diff| {diff:.1e}" if theirs else "PyTorch: n/a"
        rows.append((f"network {side}x{side} whole, onnxruntime", f"{ours:.2f} s", "", ratio))
        if theirs is not None:
            rows.append((f"network {side}x{side} whole, PyTorch eager", f"{theirs:.2f} s", "", ""))
    print_plain_table(f"Upscaler, {weights}, {args.threads} thread(s), onnxruntime CPU; each enlargement in a fresh process.", rows)
    return 0


if __name__ == "__main__":
    sys.exit(main(ARGS))
