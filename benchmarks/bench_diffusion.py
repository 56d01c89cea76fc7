"""Diffusion sampling speed: onnxruntime vs PyTorch eager on the same network, weights and thread count.

0. One live frame of the shipped text model (emoji-diffusion-64): an 8-step DDIM frame at 64x64 with guidance (the
   conditional and unconditional rows in one U-Net call per step) and the VAE decode, through the app's own
   ``CardDiffusionModel.generate``, in milliseconds. PyTorch rebuilds the U-Net and the VAE decoder from the
   training architecture with the ONNX files' weights (``training/init_weights.py``, forward-order matching, checked
   against onnxruntime) and drives the same numpy pipeline and sampler. The two sides run in turns; each frame's
   wall time and CPU time (all threads) are recorded, so on a shared machine the CPU times and the ratio of the
   same run are the numbers to compare. Needs only onnxruntime; without torch the PyTorch cells say so.
1. A pixel-space U-Net of the size our default diffusion model uses (diffusers' UNet2DModel, 64x64 RGB, channels
   64/128/256, self-attention at 16x16 and 8x8, random weights), exported to ONNX. One "step" is one U-Net call with
   batch 2 (the conditional and unconditional rows of classifier-free guidance) plus the numpy sampler update.
2. The tiny Stable Diffusion pipeline of the tests (exported in the Optimum layout): our onnxruntime pipeline
   (StableDiffusionOnnx) vs diffusers' StableDiffusionPipeline in PyTorch, same steps, guidance and threads.

    python benchmarks/bench_diffusion.py [--quick] [--threads N] [--steps N] [--provider auto|cpu|cuda]

Rows 1 and 2 need torch, diffusers and transformers (the test extra). Prints a Markdown table; no targets are
asserted.
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as run.py: idle PyTorch workers must not spin

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from genart_desktop.core.errors import GenArtError  # noqa: E402
from genart_desktop.engine.pipelines.diffusion import DiffusionPipeline, DiffusionRequest  # noqa: E402
from genart_desktop.engine.pipelines.diffusion_model import CardCodec, CardDiffusionModel  # noqa: E402
from genart_desktop.engine.registry import ModelRegistry  # noqa: E402
from genart_desktop.engine.schedules import ScheduleConfig  # noqa: E402
from genart_desktop.engine.sd.components import load_graph  # noqa: E402


FRAME_MODEL = "emoji-diffusion-64"
FRAME_PROMPT = "red apple"
FRAME_STEPS = 8


def frame_label(model_id: str, size: tuple[int, int] = (64, 64)) -> str:
    return f"{FRAME_STEPS}-step {size[0]}x{size[1]} frame incl. decode (ms), {model_id}"


@dataclass
class FrameTimes:
    """Per-frame wall and CPU milliseconds of one side."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def add(self, fn) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        self.cpu.append((time.process_time() - cpu) * 1e3)
        self.wall.append((time.perf_counter() - wall) * 1e3)

    def describe(self) -> str:
        return (f"{np.median(self.wall):.1f} ms (best {min(self.wall):.1f}; CPU {np.median(self.cpu):.1f}, best "
                f"{min(self.cpu):.1f})")


class TorchGraph:
    """A torch network behind the ``run(feeds, run_options, outputs)`` call the engine's codec makes."""

    def __init__(self, module, input_name: str, output_name: str) -> None:
        self.module, self.input_name, self.output_name = module, input_name, output_name

    def run(self, feeds, run_options=None, outputs=None) -> dict[str, np.ndarray]:
        import torch

        with torch.inference_mode():
            out = self.module(torch.from_numpy(np.ascontiguousarray(feeds[self.input_name], np.float32)))
        return {self.output_name: out.float().numpy()}


def frame_model(threads: int, root: Path, model_id: str) -> tuple[ModelRegistry, CardDiffusionModel]:
    settings = {"execution_provider": "cpu", "intra_op_threads": threads}
    registry = ModelRegistry(roots=[(root, "builtin")], settings=settings)
    return registry, CardDiffusionModel.from_registry(registry, model_id)


def torch_frame_model(registry: ModelRegistry, model: CardDiffusionModel) -> tuple[CardDiffusionModel, dict]:
    """The same model with its U-Net and VAE decoder rebuilt in PyTorch from the ONNX files' weights (read back as
    ``--init-from`` reads them) around the same pipeline, sampler and codec arithmetic; and each network's largest
    difference to onnxruntime on random inputs."""
    import torch
    from bench_models import _config_from_card, _diffusion_twin

    from genart_desktop.training.diffusion.export import ExportedUNet
    from genart_desktop.training.diffusion.sampling import TorchDenoiser
    from genart_desktop.training.init_weights import load_onnx_initialisers
    from genart_desktop.training.vae.config import VaeConfig
    from genart_desktop.training.vae.models import Decoder

    entry = registry.get(FRAME_MODEL)
    codec = model.codec
    unet = _diffusion_twin(entry).eval()
    generator = torch.Generator().manual_seed(0)
    width = model.conditioning.max_tokens
    unet_inputs = {"sample": torch.randn(2, codec.channels, 8, 8, generator=generator),
                   "timestep": torch.tensor([999.0, 500.0]),
                   "cond": torch.randint(0, len(model.conditioning.vocabulary) + 2, (2, width), generator=generator)}
    load_onnx_initialisers(ExportedUNet(unet, True), entry.files["unet"], unet_inputs)
    vae_cfg = _config_from_card(registry.get(str(entry.card.config["latent"]["vae"])), VaeConfig)
    decoder = Decoder(vae_cfg.resolution, vae_cfg.latent_shape(), vae_cfg.channels, vae_cfg.max_channels,
                      vae_cfg.convs).eval()
    latent = torch.randn(2, *vae_cfg.latent_shape(), generator=generator)
    load_onnx_initialisers(decoder, entry.files["vae_decoder"], {"latent": latent})
    with torch.inference_mode():
        ours_unet = registry.session(FRAME_MODEL, "unet").run({k: v.numpy() for k, v in unet_inputs.items()})
        parity = {"unet": float(np.abs(ours_unet["prediction"] - unet(*unet_inputs.values()).numpy()).max()),
                  "vae_decoder": float(np.abs(codec.decoder.run({codec.latent_name: latent.numpy()})[
                      codec.image_name] - decoder(latent).numpy()).max())}
    theirs = copy.copy(model)
    torch_codec = CardCodec(TorchGraph(decoder, codec.latent_name, codec.image_name), None, codec.channels,
                            codec.factor, codec.scaling_factor,
                            {"latent": codec.latent_name, "image": codec.image_name}, codec.image_range)
    theirs.pipeline = DiffusionPipeline(TorchDenoiser(unet, torch.device("cpu")), model.schedule,
                                        channels=model.pipeline.channels, codec=torch_codec)
    return theirs, parity


def bench_frame(threads: int, repeats: int, torch_reason: str | None, root: Path = ROOT / "models",
                model_id: str = FRAME_MODEL, prompt: str = FRAME_PROMPT) -> list[tuple[str, str, str, str, str]]:
    """One 8-step guided frame with its decode, ours and (when torch is there) PyTorch's, in turns."""
    try:
        registry, model = frame_model(threads, root, model_id)
    except GenArtError as exc:
        return [(frame_label(model_id), f"n/a ({exc})", "", "", "")]

    def frame(which: CardDiffusionModel):
        return lambda: which.generate(prompt, steps=FRAME_STEPS, sampler="ddim", seed=0)

    sides = {"ours": (frame(model), FrameTimes())}
    notes = [(f"prompt {prompt!r}, DDIM, guidance {model.default_guidance:g} (cond + uncond one batch of 2), "
              f"{repeats} frames each in turns after a warm-up")]
    if torch_reason is None:
        theirs, parity = torch_frame_model(registry, model)
        sides["theirs"] = (frame(theirs), FrameTimes())
        image_diff = float(np.abs(sides["ours"][0]().images - sides["theirs"][0]().images).max())
        notes.append(f"same weights: max diff U-Net {parity['unet']:.1e}, decoder {parity['vae_decoder']:.1e}, "
                     f"frame {image_diff:.1e}")
    for run, _ in sides.values():
        run()
    for _ in range(repeats):
        for run, times in sides.values():
            times.add(run)
    ours, label = sides["ours"][1], frame_label(model_id, model.default_size())
    if "theirs" not in sides:
        return [(label, ours.describe(), torch_reason or "", "", "; ".join(notes))]
    theirs_times = sides["theirs"][1]
    ratio = (f"{np.median(theirs_times.wall) / np.median(ours.wall):.2f}x "
             f"(CPU {np.median(theirs_times.cpu) / np.median(ours.cpu):.2f}x)")
    return [(label, ours.describe(), theirs_times.describe(), ratio, "; ".join(notes))]


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
        label = f"U-Net {size}px {'/'.join(map(str, channels))} ({params:.1f}M params, random), batch 2 (steps/s)"
        rows.append(rate_row(label, ort_raw, torch_eager, f"onnxruntime {session.provider.removesuffix('ExecutionProvider')}; "
                             f"with the DPM++ 2M pipeline {ort_pipeline:.2f} steps/s"))
    return rows


def bench_tiny_sd(steps: int, repeats: int, settings: dict) -> list[tuple]:
    import torch
    from diffusers import DDIMScheduler, StableDiffusionPipeline
    from transformers import CLIPTokenizer

    from genart_desktop.engine.sd import StableDiffusionOnnx
    from tests.engine.tiny_sd import SAMPLE_SIZE, export_tiny_sd

    rates = {}
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

        for name, fn in (("ours", run_ours), ("theirs", run_theirs)):
            fn()
            rates[name] = steps / min(_seconds(fn) for _ in range(repeats))
    return [rate_row(f"tiny SD pipeline {size}px, {steps} DDIM steps, CFG (steps/s)", rates["ours"], rates["theirs"],
                     "PyTorch side: diffusers' StableDiffusionPipeline")]


def rate_row(label: str, ours: float, theirs: float, notes: str) -> tuple[str, str, str, str, str]:
    """A Markdown row for two rates (higher is better): PyTorch / ours is ours over theirs."""
    return (label, f"{ours:.2f}", f"{theirs:.2f}", f"{ours / theirs:.2f}x", notes)


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
    parser.add_argument("--frames", type=int, default=15, help="frames per side for the frame row (default 15)")
    args = parser.parse_args(argv)
    torch_reason = torch_missing()
    if torch_reason is None:
        import torch

        torch.set_num_threads(args.threads)
        torch.set_flush_denormal(True)
    settings = {"execution_provider": args.provider, "intra_op_threads": args.threads}
    steps = args.steps or (4 if args.quick else 20)
    repeats = 1 if args.quick else 3
    size, channels = (32, (32, 64)) if args.quick else (64, (64, 128, 256))
    rows = bench_frame(args.threads, 2 if args.quick else args.frames, torch_reason)
    if torch_reason is None:
        rows += bench_unet(size, channels, steps, repeats, settings) + bench_tiny_sd(steps, repeats, settings)
    print(f"threads: {args.threads}   onnxruntime provider setting: {args.provider}   "
          f"torch: {torch_reason or torch.__version__}")
    print("| diffusion benchmark | ours (onnxruntime) | PyTorch eager | PyTorch / ours | notes |")
    print("|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return 0


def torch_missing() -> str | None:
    """None when the PyTorch side can run (torch, diffusers, transformers and the training module), else why not."""
    try:
        import diffusers  # noqa: F401
        import torch  # noqa: F401
        import transformers  # noqa: F401

        import genart_desktop.training.init_weights  # noqa: F401
    except ModuleNotFoundError as exc:
        return f"n/a ({exc.name} not installed)"
    return None


if __name__ == "__main__":
    sys.exit(main())
