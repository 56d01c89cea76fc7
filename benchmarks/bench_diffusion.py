"""Diffusion sampling speed: steps per second, onnxruntime vs PyTorch eager on the same network and thread count.

1. A pixel-space U-Net of the size our default diffusion model uses (diffusers' UNet2DModel, 64x64 RGB, channels
   64/128/256, self-attention at 16x16 and 8x8, random weights), exported to ONNX. One "step" is one U-Net call with
   batch 2 (the conditional and unconditional rows of classifier-free guidance) plus the numpy sampler update.
2. The tiny Stable Diffusion pipeline of the tests (exported in the Optimum layout): our onnxruntime pipeline
   (StableDiffusionOnnx) vs diffusers' StableDiffusionPipeline in PyTorch, same steps, guidance and threads.

    python benchmarks/bench_diffusion.py [--quick] [--threads N] [--steps N] [--provider auto|cpu|cuda]

Needs torch, diffusers and transformers (the test extra). Prints a table; no targets are asserted.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from genart_desktop.engine.pipelines.diffusion import DiffusionPipeline, DiffusionRequest  # noqa: E402
from genart_desktop.engine.schedules import ScheduleConfig  # noqa: E402
from genart_desktop.engine.sd.components import load_graph  # noqa: E402


def build_unet(size: int, channels: tuple[int, ...]):
    from diffusers import UNet2DModel

    import torch

    torch.manual_seed(0)
    blocks = len(channels)
    down = ["DownBlock2D"] + ["AttnDownBlock2D"] * (blocks - 1)
    up = ["AttnUpBlock2D"] * (blocks - 1) + ["UpBlock2D"]
    return UNet2DModel(sample_size=size, in_channels=3, out_channels=3, layers_per_block=2,
                       block_out_channels=channels, down_block_types=down, up_block_types=up,
                       norm_num_groups=32).eval()


def export_unet(unet, size: int, path: Path) -> Path:
    import torch

    class Wrapper(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, sample, timestep):
            return self.inner(sample, timestep, return_dict=False)[0]

    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(Wrapper(unet), (torch.zeros(2, 3, size, size), torch.tensor([500.0, 500.0])), str(path),
                          input_names=["sample", "timestep"], output_names=["prediction"],
                          dynamic_axes={"sample": {0: "batch"}, "timestep": {0: "batch"}}, opset_version=17,
                          dynamo=False)
    return path


def time_loop(step, steps: int, repeats: int) -> float:
    """Best steps/s over ``repeats`` runs of ``steps`` calls (after one warm-up call)."""
    step(0)
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        for i in range(steps):
            step(i)
        best = max(best, steps / (time.perf_counter() - start))
    return best


def bench_unet(size: int, channels: tuple[int, ...], steps: int, repeats: int, settings: dict) -> list[tuple]:
    import torch

    unet = build_unet(size, channels)
    params = sum(p.numel() for p in unet.parameters()) / 1e6
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        session, _ = load_graph(export_unet(unet, size, Path(tmp) / "unet.onnx"), settings, "bench unet")
        schedule = ScheduleConfig(beta_schedule="cosine")

        def ort_denoiser(x, t, cond):
            return session.run({"sample": x, "timestep": t.astype(np.float32)})["prediction"]

        pipe = DiffusionPipeline(ort_denoiser, schedule, channels=3)
        x = np.random.default_rng(0).standard_normal((2, 3, size, size), dtype=np.float32)
        t = np.array([500.0, 500.0], np.float32)
        ort_raw = time_loop(lambda i: session.run({"sample": x, "timestep": t}), steps, repeats)
        start = time.perf_counter()
        pipe.run(DiffusionRequest(size, size, steps=steps, sampler="dpmpp_2m", batch=2))
        ort_pipeline = steps / (time.perf_counter() - start)
        xt, tt = torch.from_numpy(x), torch.from_numpy(t)
        with torch.inference_mode():
            torch_eager = time_loop(lambda i: unet(xt, tt, return_dict=False)[0], steps, repeats)
        label = f"U-Net {size}px {'/'.join(map(str, channels))} ({params:.1f}M params), batch 2"
        rows.append((label, f"onnxruntime ({session.provider.removesuffix('ExecutionProvider')})", ort_raw))
        rows.append((label, "onnxruntime + DPM++ 2M pipeline", ort_pipeline))
        rows.append((label, "PyTorch eager", torch_eager))
    return rows


def bench_tiny_sd(steps: int, repeats: int, settings: dict) -> list[tuple]:
    import torch
    from diffusers import DDIMScheduler, StableDiffusionPipeline
    from transformers import CLIPTokenizer

    from genart_desktop.engine.sd import StableDiffusionOnnx
    from tests.engine.tiny_sd import SAMPLE_SIZE, export_tiny_sd

    rows = []
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        folder = Path(tmp) / "tiny-sd"
        modules = export_tiny_sd(folder)
        ours = StableDiffusionOnnx.load(folder, settings)
        size = SAMPLE_SIZE * 2

        def run_ours() -> None:
            ours.generate("a red fox", "blurry", steps=steps, sampler="ddim", guidance=7.5, seed=0)

        config = {k: v for k, v in modules.scheduler_config.items()
                  if not k.startswith("_") and k not in ("skip_prk_steps", "trained_betas")}
        theirs = StableDiffusionPipeline(
            vae=modules.vae, text_encoder=modules.text_encoder, unet=modules.unet,
            tokenizer=CLIPTokenizer.from_pretrained(folder / "tokenizer"), scheduler=DDIMScheduler(**config),
            safety_checker=None, feature_extractor=None, requires_safety_checker=False)
        theirs.set_progress_bar_config(disable=True)

        def run_theirs() -> None:
            with torch.inference_mode():
                theirs("a red fox", negative_prompt="blurry", num_inference_steps=steps, guidance_scale=7.5,
                       height=size, width=size, output_type="np")

        for name, fn in ((f"onnxruntime ({ours.provider.removesuffix('ExecutionProvider')})", run_ours),
                         ("PyTorch eager (diffusers)", run_theirs)):
            fn()
            best = min(_seconds(fn) for _ in range(repeats))
            rows.append((f"tiny SD pipeline {size}px, {steps} steps, CFG", name, steps / best))
    return rows


def _seconds(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small U-Net, few steps (a smoke run)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--provider", default="cpu", choices=["auto", "cpu", "cuda"])
    args = parser.parse_args(argv)
    try:
        import torch
    except ModuleNotFoundError:
        print("bench_diffusion needs torch, diffusers and transformers (pip install 'genart-desktop[test,train]').")
        return 2
    torch.set_num_threads(args.threads)
    settings = {"execution_provider": args.provider, "intra_op_threads": args.threads}
    steps = args.steps or (4 if args.quick else 20)
    repeats = 1 if args.quick else 3
    size, channels = (32, (32, 64)) if args.quick else (64, (64, 128, 256))
    rows = bench_unet(size, channels, steps, repeats, settings) + bench_tiny_sd(steps, repeats, settings)
    print(f"threads: {args.threads}   onnxruntime provider setting: {args.provider}   torch {torch.__version__}")
    width = max(len(r[0]) for r in rows)
    print(f"{'network':<{width}}  {'runtime':<34} {'steps/s':>9}")
    for label, runtime, rate in rows:
        print(f"{label:<{width}}  {runtime:<34} {rate:>9.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
