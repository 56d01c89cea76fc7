"""Models as other people export them (plain ``torch.onnx.export`` and diffusers, never our exporter), and the way
their authors run them (onnxruntime directly, their own pre- and post-processing), for the import tests.

- a fast style network like the ONNX zoo's: ``input1`` -> ``output1``, values 0..255, fixed 1x3x224x224;
- a DCGAN generator from PyTorch: ``z`` [batch, 100, 1, 1] -> ``img`` in [-1, 1] (tanh), written by torch's
  current exporter as ``model.onnx`` + ``model.onnx.data``;
- a decoder-only VAE: ``latent`` [batch, 4, 4, 4] -> ``x_hat`` in [0, 1] (sigmoid);
- a diffusers ``UNet2DModel`` with its ``DDIMScheduler`` config (``clip_sample`` on).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import onnxruntime as ort

torch = __import__("pytest").importorskip("torch")

ZOO_SIZE = 224


def _export(module, args, path: Path, inputs, outputs, dynamic=None, **options) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer and exporter chatter about other people's code
        torch.onnx.export(module.eval(), args, str(path), input_names=inputs, output_names=outputs,
                          dynamic_axes=dynamic, **({"dynamo": False} | options))
    return path


class _ZooStyle(torch.nn.Module):
    """Conv, instance norm, ReLU, conv, no output activation: the zoo's shape in miniature."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(1)
        self.c1 = torch.nn.Conv2d(3, 8, 3, padding=1)
        self.norm = torch.nn.InstanceNorm2d(8, affine=True)
        self.c2 = torch.nn.Conv2d(8, 3, 3, padding=1)

    def forward(self, x):
        return self.c2(torch.relu(self.norm(self.c1(x)))) * 60.0 + 128.0


def zoo_style(folder: Path) -> Path:
    return _export(_ZooStyle(), (torch.rand(1, 3, ZOO_SIZE, ZOO_SIZE) * 255,), folder / "candy-9.onnx",
                   ["input1"], ["output1"])


def run_zoo_style(path: Path, rgb: np.ndarray) -> np.ndarray:
    """The zoo's own recipe: a 224x224 RGB image as float 0..255, output clipped to 0..255 (rounded here)."""
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x = rgb.astype(np.float32).transpose(2, 0, 1)[None]
    y = session.run(None, {"input1": x})[0][0]
    return np.rint(np.clip(y, 0, 255)).astype(np.uint8).transpose(1, 2, 0)


class _DCGAN(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(2)
        self.net = torch.nn.Sequential(
            torch.nn.ConvTranspose2d(100, 16, 4, 1, 0), torch.nn.BatchNorm2d(16), torch.nn.ReLU(),
            torch.nn.ConvTranspose2d(16, 3, 4, 2, 1), torch.nn.Tanh())

    def forward(self, z):
        return self.net(z)


def dcgan(folder: Path) -> Path:
    """Exported with torch's current (dynamo) exporter and external data, as its default does for big models."""
    return _export(_DCGAN(), (torch.randn(2, 100, 1, 1),), folder / "model.onnx", ["z"], ["img"],
                   dynamo=True, external_data=True, dynamic_shapes={"z": {0: torch.export.Dim("batch")}})


def run_dcgan(path: Path, z: np.ndarray) -> np.ndarray:
    """torchvision.utils.save_image's conversion: (x + 1) / 2 * 255 + 0.5, clamped, truncated."""
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x = session.run(None, {"z": z.reshape(-1, 100, 1, 1).astype(np.float32)})[0]
    return np.clip((x + 1.0) * 127.5 + 0.5, 0, 255).astype(np.uint8).transpose(0, 2, 3, 1)


class _Decoder(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(3)
        self.net = torch.nn.Sequential(torch.nn.ConvTranspose2d(4, 8, 4, 2, 1), torch.nn.ReLU(),
                                       torch.nn.ConvTranspose2d(8, 3, 4, 2, 1), torch.nn.Sigmoid())

    def forward(self, latent):
        return self.net(latent)


def vae_decoder(folder: Path) -> Path:
    return _export(_Decoder(), (torch.randn(1, 4, 4, 4),), folder / "decoder.onnx", ["latent"], ["x_hat"],
                   dynamic={"latent": {0: "batch"}, "x_hat": {0: "batch"}})


def run_vae_decoder(path: Path, latent: np.ndarray) -> np.ndarray:
    """A [0, 1] image to bytes: * 255 + 0.5, truncated."""
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x = session.run(None, {"latent": latent.reshape(-1, 4, 4, 4).astype(np.float32)})[0]
    return np.clip(x * 255.0 + 0.5, 0, 255).astype(np.uint8).transpose(0, 2, 3, 1)


class _UNetWrapper(torch.nn.Module):
    def __init__(self, unet) -> None:
        super().__init__()
        self.unet = unet

    def forward(self, sample, timestep):
        return self.unet(sample, timestep).sample


def diffusers_unet(folder: Path, clip_sample: bool = True) -> Path:
    """A tiny UNet2DModel exported by hand, with a DDIMScheduler config saved beside it (diffusers' layout)."""
    diffusers = __import__("pytest").importorskip("diffusers")
    torch.manual_seed(4)
    unet = diffusers.UNet2DModel(sample_size=8, in_channels=3, out_channels=3, layers_per_block=1,
                                 block_out_channels=(8, 16), norm_num_groups=4,
                                 down_block_types=("DownBlock2D", "DownBlock2D"),
                                 up_block_types=("UpBlock2D", "UpBlock2D"))
    path = _export(_UNetWrapper(unet), (torch.randn(1, 3, 8, 8), torch.tensor([10])), folder / "unet.onnx",
                   ["sample", "timestep"], ["out_sample"],
                   dynamic={"sample": {0: "batch"}, "timestep": {0: "batch"}, "out_sample": {0: "batch"}})
    diffusers.DDIMScheduler(num_train_timesteps=1000, clip_sample=clip_sample).save_config(str(folder))
    return path


def run_diffusers_ddim(path: Path, folder: Path, noise: np.ndarray, steps: int) -> np.ndarray:
    """diffusers' DDIM loop (its default use_clipped_model_output=False) around the ONNX U-Net; diffusers'
    numpy_to_pil conversion."""
    diffusers = __import__("pytest").importorskip("diffusers")
    scheduler = diffusers.DDIMScheduler.from_pretrained(str(folder))
    scheduler.set_timesteps(steps)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    sample = torch.from_numpy(noise.copy())
    for t in scheduler.timesteps:
        out = session.run(None, {"sample": sample.numpy(), "timestep": np.array([int(t)], np.int64)})[0]
        sample = scheduler.step(torch.from_numpy(out), t, sample, eta=0.0).prev_sample
    image = (sample / 2 + 0.5).clamp(0, 1).numpy()
    return (image * 255).round().astype(np.uint8).transpose(0, 2, 3, 1)
