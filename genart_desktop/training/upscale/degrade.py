"""Low-resolution inputs made on the fly from high-resolution patches, in the manner of Real-ESRGAN (Wang et al.
2021): blur (isotropic or anisotropic Gaussian), a random resize with a random kernel, Gaussian noise (colour or
grey) and JPEG, optionally twice over ("second order"), then the final resize to ``patch / scale``.

Everything draws from one ``torch.Generator`` passed in, so a step's inputs depend only on (seed, step) and a
resumed run sees exactly the patches it would have seen. Images are ``(N, 3, H, W)`` float in [0, 1].
"""

from __future__ import annotations

import io
import math

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

RESIZE_MODES = ("area", "bilinear", "bicubic")
KERNEL_SIZE = 15


def _uniform(gen: torch.Generator, low: float, high: float) -> float:
    return low + (high - low) * float(torch.rand((), generator=gen))


def _chance(gen: torch.Generator, p: float) -> bool:
    return float(torch.rand((), generator=gen)) < p


def gaussian_kernel(sigma_x: float, sigma_y: float, angle: float, size: int = KERNEL_SIZE) -> torch.Tensor:
    """A normalised, rotated anisotropic Gaussian ``(size, size)``."""
    half = size // 2
    y, x = torch.meshgrid(torch.arange(-half, half + 1.0), torch.arange(-half, half + 1.0), indexing="ij")
    c, s = math.cos(angle), math.sin(angle)
    u, v = c * x + s * y, -s * x + c * y
    kernel = torch.exp(-0.5 * ((u / sigma_x) ** 2 + (v / sigma_y) ** 2))
    return kernel / kernel.sum()


def blur(images: torch.Tensor, gen: torch.Generator, sigma: tuple[float, float]) -> torch.Tensor:
    """Each image blurred by its own random Gaussian (isotropic half the time)."""
    n, c = images.shape[:2]
    kernels = []
    for _ in range(n):
        sx = _uniform(gen, *sigma)
        sy = sx if _chance(gen, 0.5) else _uniform(gen, *sigma)
        kernels.append(gaussian_kernel(sx, sy, _uniform(gen, 0.0, math.pi)))
    weight = torch.stack(kernels).repeat_interleave(c, 0)[:, None].to(images)
    pad = KERNEL_SIZE // 2
    padded = F.pad(images.reshape(1, n * c, *images.shape[2:]), (pad, pad, pad, pad), mode="reflect")
    return F.conv2d(padded, weight, groups=n * c).reshape(images.shape)


def resize(images: torch.Tensor, size: tuple[int, int], mode: str) -> torch.Tensor:
    if mode == "area":
        return F.interpolate(images, size=size, mode="area")
    return F.interpolate(images, size=size, mode=mode, align_corners=False, antialias=True)


def random_resize(images: torch.Tensor, gen: torch.Generator, factors: tuple[float, float]) -> torch.Tensor:
    factor = _uniform(gen, *factors)
    height, width = images.shape[2:]
    size = (max(8, round(height * factor)), max(8, round(width * factor)))
    mode = RESIZE_MODES[int(torch.randint(len(RESIZE_MODES), (), generator=gen))]
    return resize(images, size, mode)


def add_noise(images: torch.Tensor, gen: torch.Generator, sigma: tuple[float, float]) -> torch.Tensor:
    """Gaussian noise of a random strength per image; grey (the same on all channels) 40 % of the time."""
    n, c, h, w = images.shape
    strength = torch.tensor([_uniform(gen, *sigma) / 255.0 for _ in range(n)]).view(n, 1, 1, 1)
    grey = (torch.rand(n, generator=gen) < 0.4).view(n, 1, 1, 1)
    colour_noise = torch.randn(n, c, h, w, generator=gen)
    grey_noise = torch.randn(n, 1, h, w, generator=gen).expand(n, c, h, w)
    noise = torch.where(grey, grey_noise, colour_noise)
    return (images + noise * strength.to(images)).clamp(0, 1)


def jpeg(images: torch.Tensor, gen: torch.Generator, quality: tuple[int, int]) -> torch.Tensor:
    """Each image through a real JPEG encoder (Pillow) at a random quality."""
    out = []
    pixels = (images.clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
    for array in pixels:
        buffer = io.BytesIO()
        Image.fromarray(array, "RGB").save(buffer, "JPEG", quality=int(torch.randint(quality[0], quality[1] + 1, (),
                                                                                       generator=gen)))
        buffer.seek(0)
        decoded = np.asarray(Image.open(buffer, formats=["JPEG"]).convert("RGB"))
        out.append(torch.from_numpy(decoded.copy()))
    return torch.stack(out).permute(0, 3, 1, 2).to(images.dtype) / 255.0


def quantize(images: torch.Tensor) -> torch.Tensor:
    """Round to 8-bit levels, as every picture a user opens is."""
    return (images.clamp(0, 1) * 255).round() / 255


def bicubic_downscale(images: torch.Tensor, scale: int) -> torch.Tensor:
    """The clean input: an antialiased bicubic downscale (what Pillow's BICUBIC resize does), quantised."""
    height, width = images.shape[2:]
    return quantize(resize(images, (height // scale, width // scale), "bicubic"))


def real_degradation(images: torch.Tensor, scale: int, gen: torch.Generator, second_order: bool) -> torch.Tensor:
    """First order: blur, resize, noise, JPEG; second order repeats them milder; then the final resize + JPEG."""
    height, width = images.shape[2:]
    x = blur(images, gen, (0.2, 3.0))
    x = random_resize(x, gen, (0.3, 1.2))
    x = add_noise(x, gen, (1.0, 20.0))
    x = jpeg(x, gen, (30, 95))
    if second_order:
        if _chance(gen, 0.8):
            x = blur(x, gen, (0.2, 1.5))
        x = random_resize(x, gen, (0.5, 1.2))
        x = add_noise(x, gen, (1.0, 15.0))
    mode = RESIZE_MODES[int(torch.randint(len(RESIZE_MODES), (), generator=gen))]
    x = resize(x, (height // scale, width // scale), mode)
    return quantize(jpeg(x, gen, (30, 95)))


def degrade(images: torch.Tensor, scale: int, gen: torch.Generator, kind: str = "real",
            fraction: float = 1.0, second_order: bool = True) -> torch.Tensor:
    """Low-resolution inputs for ``images``: with ``kind="real"`` a ``fraction`` of them (chosen at random) get
    the real degradations and the others a clean bicubic downscale; ``kind="bicubic"`` downscales them all."""
    clean = bicubic_downscale(images, scale)
    if kind == "bicubic" or fraction <= 0:
        return clean
    chosen = (torch.rand(images.shape[0], generator=gen) < fraction).nonzero().flatten()
    if len(chosen) == 0:
        return clean
    clean[chosen] = real_degradation(images[chosen], scale, gen, second_order).to(clean.dtype)
    return clean
