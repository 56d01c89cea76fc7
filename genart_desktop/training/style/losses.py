"""Perceptual losses: content (deep features), style (Gram matrices over several layers), total variation.

Content and style terms are normalised by the size of their targets, so the same weights mean roughly the same
balance on VGG-19 and on SqueezeNet (whose activations differ by orders of magnitude). Grams are computed in float32
even under bf16 autocast: they are sums over many pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from genart_desktop.training.style.perceptual import LossNetwork

EPS = 1e-8


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """``(N, C, H, W)`` -> ``(N, C, C)`` channel correlations, divided by ``C * H * W``."""
    n, c, h, w = features.shape
    flat = features.float().reshape(n, c, h * w)
    return torch.bmm(flat, flat.transpose(1, 2)) / (c * h * w)


def total_variation(images: torch.Tensor) -> torch.Tensor:
    """Mean squared difference between neighbouring pixels (horizontal + vertical): penalises speckle."""
    x = images.float()
    return (x[..., 1:, :] - x[..., :-1, :]).pow(2).mean() + (x[..., :, 1:] - x[..., :, :-1]).pow(2).mean()


def content_loss(features: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared feature difference relative to the target's mean square."""
    target = target.float()
    return F.mse_loss(features.float(), target) / (target.pow(2).mean() + EPS)


def style_loss(grams: dict[str, torch.Tensor], targets: dict[str, torch.Tensor]) -> torch.Tensor:
    """Average over layers of the relative squared Gram difference; targets broadcast over the batch."""
    terms = []
    for name, gram in grams.items():
        target = targets[name].to(gram.dtype).expand_as(gram)
        terms.append(F.mse_loss(gram, target) / (target.pow(2).mean() + EPS))
    return torch.stack(terms).mean()


@dataclass(frozen=True)
class LossWeights:
    content: float = 1.0
    style: float = 10.0
    tv: float = 1e-4


class PerceptualLoss(nn.Module):
    """Content + style + TV on top of a frozen :class:`LossNetwork`; images are RGB in [-1, 1]."""

    def __init__(self, network: LossNetwork, weights: LossWeights = LossWeights()) -> None:
        super().__init__()
        self.network = network
        self.features = network.module
        self.weights = weights

    def extract(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.features(images, self.network.taps)

    @torch.no_grad()
    def style_targets(self, style: torch.Tensor) -> dict[str, torch.Tensor]:
        """Gram matrices of the style image(s), averaged over the batch, each ``(1, C, C)``."""
        feats = self.extract(style)
        return {name: gram_matrix(feats[name]).mean(0, keepdim=True) for name in self.network.style_layers}

    @torch.no_grad()
    def content_targets(self, content: torch.Tensor) -> dict[str, torch.Tensor]:
        feats = self.extract(content)
        return {name: feats[name].detach() for name in self.network.content_layers}

    def forward(self, output: torch.Tensor, content_targets: dict[str, torch.Tensor],
                style_targets: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        feats = self.extract(output)
        c_loss = torch.stack([content_loss(feats[name], content_targets[name])
                              for name in self.network.content_layers]).mean()
        s_loss = style_loss({name: gram_matrix(feats[name]) for name in self.network.style_layers}, style_targets)
        tv = total_variation(output)
        total = self.weights.content * c_loss + self.weights.style * s_loss + self.weights.tv * tv
        return {"total": total, "content": c_loss.detach(), "style": s_loss.detach(), "tv": tv.detach()}
