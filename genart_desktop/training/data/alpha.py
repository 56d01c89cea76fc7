"""Premultiplied RGBA tensors (``engine/alpha.py``'s convention) seen over white, for whatever measures or shows
pictures as RGB: sample grids, the diversity features, the evaluation's judge. Over white is how the RGB emoji
dataset was drawn, so figures from an RGBA model compare with those of its RGB predecessor."""

from __future__ import annotations

import torch


def over_white(images: torch.Tensor) -> torch.Tensor:
    """(N, 4, H, W) premultiplied RGBA in [-1, 1] -> (N, 3, H, W) RGB composited on white; other tensors as they
    are. In [-1, 1] units, colour + (1 - alpha) is the premultiplied colour plus the white that shows through."""
    if images.ndim != 4 or images.shape[1] != 4:
        return images
    colour, alpha = images[:, :3], images[:, 3:]
    return (colour + 1.0 - alpha).clamp(-1.0, 1.0)
