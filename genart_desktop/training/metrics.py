"""Quality measures shared by trainers and cards: the diversity score, memorisation distance and PSNR.

The *diversity score* of a batch is the mean pairwise Euclidean distance of its images in a fixed, parameter-free
feature space: colour averaged over a 16x16 grid plus luminance edge strength on the same grid, each block scaled to
unit weight per element. Being parameter-free it is identical on every machine and every run, so a generator's score
can be compared with the real data's (a collapsing generator's score falls towards zero).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from genart_desktop.training.data.alpha import over_white

GRID = 16


def diversity_features(images: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) in [-1, 1] (premultiplied RGBA seen over white) -> (N, D) float32 features."""
    x = over_white(images.detach().float().clamp(-1, 1))
    x = F.interpolate(x, size=(2 * GRID, 2 * GRID), mode="area")
    colour = F.avg_pool2d(x, 2)
    luma = (0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2]).unsqueeze(1)
    sobel_x = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]]) / 4.0
    kernels = torch.stack([sobel_x, sobel_x.t()]).unsqueeze(1).to(x.device)
    grads = F.conv2d(F.pad(luma, (1, 1, 1, 1), mode="replicate"), kernels)
    edges = F.avg_pool2d(grads.square().sum(1, keepdim=True).add(1e-12).sqrt(), 2)
    colour = colour.flatten(1) / colour[0].numel() ** 0.5
    edges = edges.flatten(1) / edges[0].numel() ** 0.5
    return torch.cat([colour, edges], dim=1)


def diversity_score(images: torch.Tensor) -> float:
    """Mean pairwise feature distance over all distinct pairs (needs at least two images)."""
    features = diversity_features(images)
    count = features.shape[0]
    if count < 2:
        raise ValueError("The diversity score needs at least two images.")
    distances = torch.cdist(features, features)
    return float(distances.sum() / (count * (count - 1)))


def nearest_distance(samples: torch.Tensor, references: torch.Tensor, exclude_self: bool = False) -> float:
    """Mean distance from each sample to its nearest reference: near zero means copies of the training data."""
    a, b = diversity_features(samples), diversity_features(references)
    nearest = []
    for start in range(0, a.shape[0], 256):
        d = torch.cdist(a[start:start + 256], b)
        if exclude_self:
            rows = torch.arange(d.shape[0])
            d[rows, rows + start] = float("inf")
        nearest.append(d.min(dim=1).values)
    return float(torch.cat(nearest).mean())


def psnr(reference: torch.Tensor, estimate: torch.Tensor) -> float:
    """Mean per-image PSNR in dB of [-1, 1] images, measured on the [0, 1] scale."""
    mse = (reference.float().clamp(-1, 1) - estimate.float().clamp(-1, 1)).square().flatten(1).mean(1) / 4.0
    return float((10.0 * torch.log10(1.0 / mse.clamp_min(1e-10))).mean())
