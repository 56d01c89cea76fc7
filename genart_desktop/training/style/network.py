"""The fast feed-forward style network (after Johnson et al. 2016, with Ulyanov et al.'s instance normalisation).

Two stride-2 convolutions down, residual blocks at a quarter of the resolution, then nearest-neighbour upsampling
followed by a convolution (Odena et al. 2016: transposed convolutions leave checkerboard artefacts, and they are
slow in bf16 on CPU). Reflection padding everywhere keeps tile borders and image edges free of dark rims. Input and
output are RGB in [-1, 1]; height and width must be multiples of 4 (the engine pads tiles to that).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

SIZE_MULTIPLE = 4


@dataclass(frozen=True)
class StyleNetConfig:
    width: int = 32  # channels at full resolution; x2 and x4 after each downsampling
    residual_blocks: int = 5

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


class ConvLayer(nn.Sequential):
    """Reflection pad, convolution, optional instance norm and ReLU."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1, norm: bool = True, relu: bool = True) -> None:
        layers: list[nn.Module] = [nn.ReflectionPad2d(kernel // 2), nn.Conv2d(cin, cout, kernel, stride)]
        if norm:
            layers.append(nn.InstanceNorm2d(cout, affine=True))
        if relu:
            layers.append(nn.ReLU(inplace=True))
        super().__init__(*layers)


class ResidualBlock(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(ConvLayer(channels, channels, 3), ConvLayer(channels, channels, 3, relu=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class UpsampleConv(nn.Module):
    """Nearest x2 upsampling, then a convolution: no checkerboard."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv = ConvLayer(cin, cout, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class StyleNet(nn.Module):
    def __init__(self, config: StyleNetConfig = StyleNetConfig()) -> None:
        super().__init__()
        self.config = config
        w = config.width
        self.encoder = nn.Sequential(ConvLayer(3, w, 9), ConvLayer(w, 2 * w, 3, 2), ConvLayer(2 * w, 4 * w, 3, 2))
        self.residuals = nn.Sequential(*[ResidualBlock(4 * w) for _ in range(config.residual_blocks)])
        self.decoder = nn.Sequential(
            UpsampleConv(4 * w, 2 * w), UpsampleConv(2 * w, w), ConvLayer(w, 3, 9, norm=False, relu=False)
        )

    def forward(self, content: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.decoder(self.residuals(self.encoder(content))))
