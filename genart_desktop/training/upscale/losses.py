"""The upscaler's losses: L1 on pixels, a relative L1 on SqueezeNet features, an optional patch discriminator.

The feature loss compares the output and the original at SqueezeNet's first three taps (edges and fine textures,
before the second pooling: the deeper taps tripled the cost of a training step on this CPU for features that
matter little to an upscaler) and divides each difference by the original's mean activation, so the weight means
the same at every layer. Images are RGB in
[0, 1] here; SqueezeNet takes [-1, 1].
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import spectral_norm

from genart_desktop.training.style.perceptual import LossNetwork

FEATURE_LAYERS = ("conv1", "fire2", "fire3")
EPS = 1e-6


class FeatureLoss(nn.Module):
    def __init__(self, network: LossNetwork, layers: tuple[str, ...] = FEATURE_LAYERS) -> None:
        super().__init__()
        self.network = network
        self.features = network.module
        self.layers = layers

    def forward(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        count = output.shape[0]
        feats = self.features(torch.cat([output, target]) * 2 - 1, self.layers)
        terms = []
        for name in self.layers:
            mine, theirs = feats[name].float()[:count], feats[name].float()[count:].detach()
            terms.append(F.l1_loss(mine, theirs) / (theirs.abs().mean() + EPS))
        return torch.stack(terms).mean()


class PatchDiscriminator(nn.Module):
    """A small spectral-normalised PatchGAN: one real/fake score per ~40 px receptive field."""

    def __init__(self, width: int = 32) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = 3
        for out in (width, width * 2, width * 4):
            layers += [spectral_norm(nn.Conv2d(channels, out, 4, stride=2, padding=1)), nn.LeakyReLU(0.2, True)]
            channels = out
        layers.append(spectral_norm(nn.Conv2d(channels, 1, 3, padding=1)))
        self.net = nn.Sequential(*layers)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.net(images * 2 - 1)
