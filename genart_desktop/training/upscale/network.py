"""The upscaler networks: a small residual network (EDSR-style, no batch norm) and an ESPCN-class one for speed.

Both work on low-resolution RGB in [0, 1], compute every feature at the low resolution and end in one convolution
to ``3 * scale**2`` sub-pixels and a pixel shuffle (ESPCN; Real-ESRGAN's compact model does the same). Measured on
this 2-core CPU (batch 8 of 40x40 patches, x4): EDSR's two x2 shuffle stages with convolutions at the higher
resolutions cost twice the time per training step of the same body with the one-shot shuffle, so within an hour's
training budget the one-shot tail trains twice as many steps. The result is added to a bilinear upsampling of the
input, so an untrained network already returns a bilinear enlargement and training only learns the detail.
Every layer is a plain convolution, ReLU, pixel shuffle or bilinear resize: all export to ONNX with dynamic
height and width and run in onnxruntime at the same numbers (see export.py's parity check).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from genart_desktop.core.errors import InputError

ARCHITECTURES = ("residual", "espcn")
SCALES = (2, 4)


@dataclass(frozen=True)
class UpscaleNetConfig:
    scale: int = 4
    arch: str = "residual"
    width: int = 32
    blocks: int = 8

    def __post_init__(self) -> None:
        if self.scale not in SCALES:
            raise InputError(f"The upscale factor must be one of {', '.join(map(str, SCALES))}, not {self.scale}.")
        if self.arch not in ARCHITECTURES:
            raise InputError(f"Unknown upscaler architecture {self.arch!r}; choose {' or '.join(ARCHITECTURES)}.")
        if not 8 <= self.width <= 128 or not 0 <= self.blocks <= 32:
            raise InputError("--width must be 8..128 and --blocks 0..32.")

    def to_dict(self) -> dict:
        return asdict(self)


class ResidualBlock(nn.Module):
    """conv-ReLU-conv with a scaled skip (EDSR): no normalisation, so tiles and whole images compute the same."""

    def __init__(self, width: int, scale: float = 0.2) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(width, width, 3, padding=1)
        self.conv2 = nn.Conv2d(width, width, 3, padding=1)
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.scale * self.conv2(torch.relu(self.conv1(x)))


class UpscaleNet(nn.Module):
    """``low (N, 3, h, w)`` in [0, 1] -> ``high (N, 3, h*scale, w*scale)`` (not clamped; the pipeline clamps)."""

    def __init__(self, config: UpscaleNetConfig = UpscaleNetConfig()) -> None:
        super().__init__()
        self.config = config
        width, scale = config.width, config.scale
        if config.arch == "espcn":
            # Shi et al. 2016: two feature convs at low resolution, one conv to scale^2 sub-pixels per channel.
            self.body = nn.Sequential(nn.Conv2d(3, width * 2, 5, padding=2), nn.Tanh(),
                                      nn.Conv2d(width * 2, width, 3, padding=1), nn.Tanh())
        else:
            self.head = nn.Conv2d(3, width, 3, padding=1)
            self.body = nn.Sequential(*[ResidualBlock(width) for _ in range(config.blocks)],
                                      nn.Conv2d(width, width, 3, padding=1))
        self.tail = nn.Sequential(nn.Conv2d(width, 3 * scale * scale, 3, padding=1), nn.PixelShuffle(scale))

    def forward(self, low: torch.Tensor) -> torch.Tensor:
        base = F.interpolate(low, scale_factor=self.config.scale, mode="bilinear", align_corners=False)
        if self.config.arch == "espcn":
            return base + self.tail(self.body(low))
        features = self.head(low)
        return base + self.tail(features + self.body(features))


def parameter_count(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())
