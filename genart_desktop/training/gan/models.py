"""Generators and discriminator for 32, 64 and 128 px.

The generators upsample then convolve (no transposed convolutions: they checkerboard, and they were slow in bf16 on
CPU) and normalise features per pixel, which behaves the same in training and export (no batch statistics).
``Generator`` draws its picture once, at full size; ``SkipGenerator`` (StyleGAN2's "skip" layout) draws a picture at
every size and adds each one, upsampled, to the next, so coarse shapes settle first and the finest block only adds
detail: the cure for the grid and stripe textures that narrow 64 px generators grew here.
The discriminator uses strided convolutions, optional spectral norm and a minibatch-deviation feature that lets it
spot a generator producing too-similar images.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm as _spectral_norm

RESOLUTIONS = (32, 64, 128)


def _check_resolution(resolution: int) -> int:
    if resolution not in RESOLUTIONS:
        raise ValueError(f"resolution must be one of {RESOLUTIONS}, not {resolution}")
    return int(math.log2(resolution)) - 2  # doublings from 4x4


def _width(base: int, maximum: int, resolution: int, size: int) -> int:
    return min(maximum, base * resolution // size)


class PixelNorm(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.square().mean(dim=1, keepdim=True) + 1e-8)


UPSAMPLE_MODES = ("nearest", "bilinear")


def _upsample(mode: str) -> nn.Upsample:
    if mode not in UPSAMPLE_MODES:
        raise ValueError(f"upsample mode must be one of {UPSAMPLE_MODES}, not {mode!r}")
    return nn.Upsample(scale_factor=2, mode=mode, **({"align_corners": False} if mode == "bilinear" else {}))


def _generator_widths(resolution: int, channels: int, max_channels: int) -> list[int]:
    """Feature widths at 4, 8, ... resolution px: both generators share them, so their costs compare directly."""
    doublings = _check_resolution(resolution)
    return [_width(channels, max_channels, resolution, 4 * 2 ** i) for i in range(doublings + 1)]


def _up_block(width: int, out: int, upsample: str) -> list[nn.Module]:
    return [_upsample(upsample), nn.Conv2d(width, out, 3, padding=1), PixelNorm(), nn.LeakyReLU(0.2)]


class _ProjectedGenerator(nn.Module):
    """What both generators share: a width per size, and z projected to the 4x4 feature map they grow from."""

    def __init__(self, latent_dim: int, resolution: int, channels: int, max_channels: int):
        super().__init__()
        self.widths = _generator_widths(resolution, channels, max_channels)
        self.latent_dim, self.resolution, self.start_width = latent_dim, resolution, self.widths[0]
        self.project = nn.Linear(latent_dim, self.widths[0] * 16)

    def projected(self, z: torch.Tensor) -> torch.Tensor:
        return self.project(z).view(z.shape[0], self.start_width, 4, 4)


class Generator(_ProjectedGenerator):
    def __init__(self, latent_dim: int = 128, resolution: int = 64, channels: int = 64, max_channels: int = 512,
                 upsample: str = "nearest"):
        super().__init__(latent_dim, resolution, channels, max_channels)
        widths = self.widths
        blocks: list[nn.Module] = [PixelNorm(), nn.LeakyReLU(0.2)]
        for width, out in zip(widths, widths[1:]):
            blocks += _up_block(width, out, upsample)
        blocks += [nn.Conv2d(widths[-1], 3, 3, padding=1), nn.Tanh()]
        self.body = nn.Sequential(*blocks)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.body(self.projected(z))


class SkipGenerator(_ProjectedGenerator):
    """Same widths as ``Generator``; a 1x1 RGB head at every size from 8 px up, summed coarse to fine, then tanh."""

    def __init__(self, latent_dim: int = 128, resolution: int = 64, channels: int = 64, max_channels: int = 512,
                 upsample: str = "bilinear"):
        super().__init__(latent_dim, resolution, channels, max_channels)
        widths = self.widths
        self.start = nn.Sequential(PixelNorm(), nn.LeakyReLU(0.2))
        self.blocks = nn.ModuleList(nn.Sequential(*_up_block(w, out, upsample)) for w, out in zip(widths, widths[1:]))
        self.to_rgb = nn.ModuleList(nn.Conv2d(out, 3, 1) for out in widths[1:])
        self.upsample_rgb = _upsample("bilinear")

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = self.start(self.projected(z))
        rgb: torch.Tensor | None = None
        for block, head in zip(self.blocks, self.to_rgb):
            x = block(x)
            rgb = head(x) if rgb is None else self.upsample_rgb(rgb) + head(x)
        assert rgb is not None
        return torch.tanh(rgb)


class MinibatchStd(nn.Module):
    """Append the mean standard deviation across contiguous groups of the batch as an extra feature map."""

    def __init__(self, group: int = 4):
        super().__init__()
        self.group = group

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        group = self.group if n % self.group == 0 else 1
        if group == 1:
            std = torch.zeros(n, 1, h, w, dtype=x.dtype, device=x.device)
        else:
            y = x.float().view(n // group, group, c, h, w)
            y = (y.var(dim=1, unbiased=False) + 1e-8).sqrt().mean(dim=(1, 2, 3))
            std = y.repeat_interleave(group).view(n, 1, 1, 1).expand(n, 1, h, w).to(x.dtype)
        return torch.cat([x, std], dim=1)


class Discriminator(nn.Module):
    def __init__(self, resolution: int = 64, channels: int = 64, max_channels: int = 512,
                 spectral_norm: bool = False):
        super().__init__()
        doublings = _check_resolution(resolution)
        norm = _spectral_norm if spectral_norm else (lambda layer: layer)
        width = _width(channels, max_channels, resolution, resolution)
        layers: list[nn.Module] = [norm(nn.Conv2d(3, width, 3, padding=1)), nn.LeakyReLU(0.2)]
        size = resolution
        for _ in range(doublings):
            size //= 2
            out = _width(channels, max_channels, resolution, size)
            layers += [norm(nn.Conv2d(width, out, 4, stride=2, padding=1)), nn.LeakyReLU(0.2)]
            width = out
        layers += [MinibatchStd(), norm(nn.Conv2d(width + 1, width, 3, padding=1)), nn.LeakyReLU(0.2),
                   nn.Flatten(), norm(nn.Linear(width * 16, 1))]
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x).squeeze(1)
