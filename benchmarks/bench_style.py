"""Style transfer: full-resolution apply time and peak process memory, tiling seams, onnxruntime vs PyTorch eager.

Each full-resolution render (1024x1024, and 4096x4096 in tiles) runs in a fresh child process, so "peak RSS" is the
whole process's resident high-water mark (Linux VmHWM: interpreter, onnxruntime, canvas buffers and tiles), the
number the ~1.5 GB target for a 4096x4096 canvas is about. The network is a registered style model (``--model ID``)
or, by default, the default fast style architecture freshly initialised and exported through the training module
(timings are real; pictures would be noise). onnxruntime and PyTorch run the same network and weights on the same
input with the same thread count.

    python benchmarks/bench_style.py [--quick] [--threads N] [--model ID] [--tile 768]
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

ROOT = Path(__file__).resolve().parents[1]


def _usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="512 and 1024 px (256 px tiles), 2 repeats")
    parser.add_argument("--threads", type=int, default=_usable_cpus(), help="threads for onnxruntime and PyTorch")
    parser.add_argument("--model", help="a registered style model id (default: the untrained default architecture)")
    parser.add_argument("--tile", type=int, default=0, help="tile size (default: the model's; --quick: 256)")
    parser.add_argument("--worker", nargs=3, metavar=("ONNX", "SIZE", "TILE"), help=argparse.SUPPRESS)
    return parser.parse_args(argv)


ARGS = parse_args() if __name__ == "__main__" else None
if ARGS is not None:
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = str(ARGS.threads)
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from common import print_plain_table  # noqa: E402


def session(path: str, threads: int):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def canvas(size: int) -> np.ndarray:
    """A smooth, textured RGBA canvas (content does not change the speed of a convolutional network)."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    rgba = np.empty((size, size, 4), np.uint8)
    rgba[..., 0] = (128 + 100 * np.sin(xx / 37.0)).astype(np.uint8)
    rgba[..., 1] = (128 + 100 * np.cos(yy / 53.0)).astype(np.uint8)
    rgba[..., 2] = (128 + 100 * np.sin((xx + yy) / 71.0)).astype(np.uint8)
    rgba[..., 3] = 255
    return rgba


def photo(size: int) -> np.ndarray:
    """A real photo with sky, buildings and water (tiles with different statistics) when the shared data is there,
    else the synthetic canvas."""
    path = ROOT.parent / "shared" / "data" / "content" / "tubingen_neckarfront.jpg"
    if not path.is_file():
        return canvas(size)[..., :3]
    from genart_desktop.core.images import flatten_alpha, open_image_rgba, resize

    return resize(flatten_alpha(open_image_rgba(path)), size, size)


def peak_rss() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


def worker(onnx_path: str, size: int, tile: int, threads: int) -> None:
    """One full-resolution apply in this (fresh) process; prints JSON with time, tiles and peak RSS."""
    from genart_desktop.engine.pipelines.style import StylePipeline, StyleSettings

    pipeline = StylePipeline(session(onnx_path, threads), **({"tile": tile, "overlap": min(96, tile // 4)}
                                                             if tile else {}))
    pixels = canvas(size)
    tiles = pipeline.tile_count(size, size)
    started = time.perf_counter()
    result = pipeline.apply(pixels, StyleSettings(strength=0.8, preserve_colors=True))
    elapsed = time.perf_counter() - started
    assert result.shape == pixels.shape
    print(json.dumps({"size": size, "tiles": tiles, "tile": pipeline.tile, "seconds": elapsed,
                      "peak_rss": peak_rss()}))


def measure_child(onnx_path: Path, size: int, tile: int, threads: int) -> dict:
    command = [sys.executable, __file__, "--threads", str(threads), "--worker", str(onnx_path), str(size), str(tile)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=str(ROOT))
    if done.returncode != 0:
        return {"size": size, "error": (done.stderr.strip().splitlines() or ["failed"])[-1][:200]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def prepare_network(model_id: str | None, folder: Path):
    """(onnx path, torch module or None, description)."""
    if model_id:
        from genart_desktop.engine.registry import ModelRegistry

        entry = ModelRegistry().get(model_id)
        return entry.files["stylizer"], None, f"model {model_id}"
    try:
        import torch
    except ModuleNotFoundError:
        raise SystemExit("PyTorch (the train extra) is needed to build the default network; or pass --model ID.")
    from genart_desktop.training.style.export import export_stylizer_onnx
    from genart_desktop.training.style.network import StyleNet

    torch.manual_seed(0)
    net = StyleNet().eval()
    path = export_stylizer_onnx(net, folder / "stylizer.onnx")
    return path, net, "untrained default architecture (speed only)"


def median_seconds(fn, repeats: int) -> float:
    fn()
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return float(np.median(samples))


def runtime_comparison(onnx_path: Path, net, side: int, threads: int, repeats: int, input_name: str = "content",
                       value_range: tuple[float, float] = (-1.0, 1.0)) -> tuple[float, float | None, float | None]:
    """Median seconds of onnxruntime and PyTorch eager on one random (1, 3, side, side) input in ``value_range``
    fed as ``input_name``, and their max difference."""
    low, high = value_range
    x = (np.random.default_rng(0).random((1, 3, side, side), np.float32) * (high - low) + low).astype(np.float32)
    ort_session = session(str(onnx_path), threads)
    ours = median_seconds(lambda: ort_session.run(None, {input_name: x}), repeats)
    if net is None:
        return ours, None, None
    import torch

    torch.set_num_threads(threads)
    torch.set_flush_denormal(True)
    tensor = torch.from_numpy(x)

    def eager():
        with torch.inference_mode():
            return net(tensor)

    theirs = median_seconds(eager, repeats)
    diff = float(np.abs(ort_session.run(None, {input_name: x})[0] - eager().numpy()).max())
    return ours, theirs, diff


def seam_check(onnx_path: Path, size: int, tile: int, threads: int) -> dict[bool, tuple[float, float]]:
    """Mean |tiled - whole| in 8-bit levels, overall and for the tone (structures above 16 px), without and with
    the pipeline's tone harmonisation, on a canvas small enough to render whole."""
    from genart_desktop.engine.pipelines.style import StylePipeline, lowpass

    run = session(str(onnx_path), threads)
    pixels = photo(size)
    whole = StylePipeline(run, tile=size + 64, overlap=0).stylize(pixels).astype(np.float32)
    found = {}
    for harmonize in (False, True):
        tiled = StylePipeline(run, tile=tile, overlap=min(96, tile // 4), harmonize=harmonize).stylize(pixels)
        diff = tiled.astype(np.float32) - whole
        found[harmonize] = (float(np.abs(diff).mean()), float(np.abs(lowpass(diff, 16)).mean()))
    return found


def main(args: argparse.Namespace) -> int:
    if args.worker:
        worker(args.worker[0], int(args.worker[1]), int(args.worker[2]), args.threads)
        return 0
    sizes = (512, 1024) if args.quick else (1024, 4096)
    tile = args.tile or (256 if args.quick else 0)
    repeats = 2 if args.quick else 5
    side = 256 if args.quick else 512
    with tempfile.TemporaryDirectory() as tmp:
        onnx_path, net, weights = prepare_network(args.model, Path(tmp))
        rows = []
        for size in sizes:
            result = measure_child(Path(onnx_path), size, tile, args.threads)
            if "error" in result:
                rows.append((f"apply {size}x{size}", "failed", "", result["error"]))
                continue
            rows.append((f"apply {size}x{size} (strength 0.8, preserve colours)", f"{result['seconds']:.2f} s",
                         f"{result['peak_rss'] / 2**20:,.0f} MiB",
                         f"{result['tiles']} tile(s) of {result['tile']} px; "
                         f"{size * size / result['seconds'] / 1e6:.2f} Mpx/s"))
        ours, theirs, diff = runtime_comparison(Path(onnx_path), net, side, args.threads, repeats)
        ratio = f"PyTorch time / ours {theirs / ours:.2f}x; max |diff| {diff:.1e}" if theirs else "PyTorch: n/a"
        rows.append((f"network {side}x{side}, onnxruntime", f"{ours * 1000:.1f} ms", "", ratio))
        if theirs is not None:
            rows.append((f"network {side}x{side}, PyTorch eager", f"{theirs * 1000:.1f} ms", "", ""))
        seam_size = 512 if args.quick else 1024
        seam_tile = tile or 384
        for harmonize, (mean, tone) in seam_check(Path(onnx_path), seam_size, seam_tile, args.threads).items():
            label = "harmonised" if harmonize else "plain"
            rows.append((f"tiled ({seam_tile} px, {label}) vs whole {seam_size}x{seam_size}",
                         f"mean {mean:.2f} levels", "", f"tone (above 16 px) {tone:.2f} levels"))
    print_plain_table(f"Style transfer, {weights}, {args.threads} thread(s), onnxruntime CPU; each apply in a fresh process.", rows)
    return 0


if __name__ == "__main__":
    sys.exit(main(ARGS))
