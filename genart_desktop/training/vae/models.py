"""Encoder, decoder and patch discriminator. GroupNorm keeps outputs independent of the batch, so the exported
networks behave exactly as in training; the decoder upsamples then convolves (no transposed convolutions).
``image_channels`` is 3 (RGB) or 4 (premultiplied RGBA, for datasets with alpha)."""

from __future__ import annotations

import math

import torch
from torch import nn


def _groups(channels: int) -> int:
    return math.gcd(channels, 8)


def _conv_block(cin: int, cout: int, stride: int = 1, convs: int = 2) -> list[nn.Module]:
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, 3, stride=stride, padding=1), nn.GroupNorm(_groups(cout), cout),
                               nn.SiLU()]
    for _ in range(convs - 1):
        layers += [nn.Conv2d(cout, cout, 3, padding=1), nn.GroupNorm(_groups(cout), cout), nn.SiLU()]
    return layers


def _width(base: int, maximum: int, resolution: int, size: int) -> int:
    return min(maximum, base * resolution // size)


class Encoder(nn.Module):
    """image [N, C, R, R] -> (mean, logvar), each [N, *latent_shape]."""

    def __init__(self, resolution: int, latent_shape: list[int], channels: int = 32, max_channels: int = 256,
                 convs: int = 2, image_channels: int = 3):
        super().__init__()
        self.latent_shape = list(latent_shape)
        vector = len(latent_shape) == 1
        end = 4 if vector else latent_shape[1]
        width = _width(channels, max_channels, resolution, resolution)
        layers: list[nn.Module] = [nn.Conv2d(image_channels, width, 3, padding=1), nn.SiLU()]
        size = resolution
        while size > end:
            size //= 2
            out = _width(channels, max_channels, resolution, size)
            layers += _conv_block(width, out, stride=2, convs=convs)
            width = out
        self.body = nn.Sequential(*layers)
        if vector:
            self.head: nn.Module = nn.Sequential(nn.Flatten(), nn.Linear(width * 16, 2 * latent_shape[0]))
        else:
            self.head = nn.Conv2d(width, 2 * latent_shape[0], 1)

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        stats = self.head(self.body(image))
        mean, logvar = stats.chunk(2, dim=1)
        return mean, logvar.clamp(-30.0, 20.0)


class Decoder(nn.Module):
    """latent [N, *latent_shape] -> image [N, C, R, R] in [-1, 1]."""

    def __init__(self, resolution: int, latent_shape: list[int], channels: int = 32, max_channels: int = 256,
                 convs: int = 2, image_channels: int = 3):
        super().__init__()
        self.latent_shape = list(latent_shape)
        self.vector = len(latent_shape) == 1
        size = 4 if self.vector else latent_shape[1]
        width = _width(channels, max_channels, resolution, size)
        self.start_width = width
        if self.vector:
            self.project: nn.Module = nn.Linear(latent_shape[0], width * 16)
        else:
            self.project = nn.Conv2d(latent_shape[0], width, 3, padding=1)
        layers: list[nn.Module] = [nn.SiLU()]
        while size < resolution:
            size *= 2
            out = _width(channels, max_channels, resolution, size)
            layers += [nn.Upsample(scale_factor=2, mode="nearest"), *_conv_block(width, out, convs=convs)]
            width = out
        layers += [nn.Conv2d(width, image_channels, 3, padding=1), nn.Tanh()]
        self.body = nn.Sequential(*layers)

    def forward(self, latent: torch.Tensor) -> torch.Tensor:
        x = self.project(latent)
        if self.vector:
            x = x.view(latent.shape[0], self.start_width, 4, 4)
        return self.body(x)


class PatchDiscriminator(nn.Module):
    """Scores overlapping patches real or fake, which pushes the decoder towards sharp texture."""

    def __init__(self, channels: int = 32, layers: int = 3, image_channels: int = 3):
        super().__init__()
        blocks: list[nn.Module] = [nn.Conv2d(image_channels, channels, 4, stride=2, padding=1), nn.LeakyReLU(0.2)]
        width = channels
        for _ in range(layers - 1):
            blocks += [nn.Conv2d(width, width * 2, 4, stride=2, padding=1), nn.GroupNorm(_groups(width * 2), width * 2),
                       nn.LeakyReLU(0.2)]
            width *= 2
        blocks.append(nn.Conv2d(width, 1, 3, padding=1))
        self.body = nn.Sequential(*blocks)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)
