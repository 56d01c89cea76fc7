"""How much a stylized picture looks like its style and still like its content, on feature statistics.

Both figures use ImageNet SqueezeNet 1.1 (the loss network we have) with its standard padding:
- style distance: mean over ``conv1, fire3, fire5, fire7`` of the squared difference of the per-channel feature
  mean and standard deviation, relative to the style's own magnitude (0 = the same statistics). Reported as the
  output's distance to the style divided by the content photo's distance to it (below 1: the output moved toward
  the style; 0.3: 70% of the way);
- content distance: the relative squared difference of ``fire5`` features between output and content photo.
The nearest-painting test stylizes photos with a network and asks which of several paintings the outputs are
closest to by the style distance; a recognisable style network picks its own painting.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from genart_desktop.training.style.images import fit_long_side, load_rgb, to_tensor
from genart_desktop.training.style.perceptual import load_loss_network

STYLE_LAYERS = ("conv1", "fire3", "fire5", "fire7")
CONTENT_LAYER = "fire5"
EVAL_SIDE = 384  # long side the photos are stylized at (multiple of 8)
STYLE_SIDE = 512  # long side a painting is measured at
EPS = 1e-8

Signature = list[tuple[torch.Tensor, torch.Tensor]]
Stylizer = Callable[[np.ndarray], np.ndarray]  # RGB uint8 -> RGB uint8 of the same size


class FeatureJudge:
    """SqueezeNet statistics of pictures, and the two distances between them."""

    def __init__(self, weights: str | None = None) -> None:
        self.net = load_loss_network("squeezenet", weights, (CONTENT_LAYER,), STYLE_LAYERS).module

    @torch.no_grad()
    def features(self, rgb: np.ndarray) -> dict[str, torch.Tensor]:
        return self.net(to_tensor(rgb), (*STYLE_LAYERS, CONTENT_LAYER))

    def signature(self, rgb: np.ndarray) -> Signature:
        return signature_of(self.features(rgb))


def signature_of(features: dict[str, torch.Tensor]) -> Signature:
    out = []
    for name in STYLE_LAYERS:
        flat = features[name][0].flatten(1)
        out.append((flat.mean(1), flat.std(1, unbiased=False)))
    return out


def style_distance(a: Signature, b: Signature) -> float:
    terms = []
    for (am, as_), (bm, bs) in zip(a, b):
        terms.append(float(((am - bm).pow(2).sum() + (as_ - bs).pow(2).sum()) / (bm.pow(2).sum() + bs.pow(2).sum()
                                                                                + EPS)))
    return float(np.mean(terms))


def content_distance(output: dict[str, torch.Tensor], content: dict[str, torch.Tensor]) -> float:
    o, c = output[CONTENT_LAYER], content[CONTENT_LAYER]
    return float((o - c).pow(2).mean() / (c.pow(2).mean() + EPS))


@dataclass
class PairFigures:
    style_ratio: float  # distance(output, style) / distance(content, style)
    content: float  # relative fire5 difference between output and content


def judge_pair(judge: FeatureJudge, content: np.ndarray, output: np.ndarray, style: Signature) -> PairFigures:
    c_feats, o_feats = judge.features(content), judge.features(output)
    base = style_distance(signature_of(c_feats), style)
    return PairFigures(style_distance(signature_of(o_feats), style) / max(base, EPS),
                       content_distance(o_feats, c_feats))


def load_photos(paths: Sequence[Path]) -> list[np.ndarray]:
    return [fit_long_side(load_rgb(p), EVAL_SIDE, 8) for p in paths]


def painting_signatures(judge: FeatureJudge, paintings: Sequence[Path]) -> dict[str, Signature]:
    return {p.name: judge.signature(fit_long_side(load_rgb(p), STYLE_SIDE, 8)) for p in paintings}


def nearest_painting(judge: FeatureJudge, stylize: Stylizer, photos: Sequence[np.ndarray],
                     paintings: dict[str, Signature]) -> dict[str, object]:
    """Mean style distance of the stylized photos to every painting, and which painting is nearest."""
    sums = dict.fromkeys(paintings, 0.0)
    votes = dict.fromkeys(paintings, 0)
    for photo in photos:
        signature = judge.signature(stylize(photo))
        distances = {name: style_distance(signature, target) for name, target in paintings.items()}
        for name, value in distances.items():
            sums[name] += value / len(photos)
        votes[min(distances, key=distances.__getitem__)] += 1
    ranked = sorted(sums, key=sums.__getitem__)
    return {"nearest": ranked[0], "mean_distance": {k: round(sums[k], 4) for k in ranked},
            "votes": {k: v for k, v in votes.items() if v}}
