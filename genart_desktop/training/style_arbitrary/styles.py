"""Style pictures for training: the paintings at random places and scales, and (sometimes) other photos.

Each painting is read once, fitted to a long side of at most ``MAX_SIDE``; a step cuts a square of a random side
between the crop size and the painting's short side and scales it to the crop size, so the network sees both fine
brush marks (small squares shown large) and whole compositions.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F

from genart_desktop.core.errors import InputError
from genart_desktop.training.style.images import fit_long_side, load_rgb, to_tensor

MAX_SIDE = 1024
SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"}


def style_files(folder: str | Path, held_out: set[str]) -> tuple[list[Path], list[Path]]:
    """``(training, held_out)`` picture files of ``folder``, sorted by name."""
    files = sorted(p for p in Path(folder).iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES)
    unknown = held_out - {p.name for p in files}
    if unknown:
        raise InputError(f"--held-out-styles names {', '.join(sorted(unknown))}, which is not in {folder}.")
    train = [p for p in files if p.name not in held_out]
    if not train:
        raise InputError(f"{folder} holds no style picture to train on.")
    return train, [p for p in files if p.name in held_out]


class StyleCrops:
    """Random square crops of the training paintings, as ``(N, 3, size, size)`` tensors in [-1, 1]."""

    def __init__(self, files: list[Path], size: int) -> None:
        self.size = size
        self.pictures = [to_tensor(_fitted(load_rgb(path))) for path in files]

    def sample(self, count: int, generator: torch.Generator) -> torch.Tensor:
        crops = []
        for _ in range(count):
            picture = self.pictures[int(torch.randint(len(self.pictures), (1,), generator=generator))]
            _, _, h, w = picture.shape
            short = min(h, w)
            low = min(self.size, short)
            side = int(torch.randint(low, short + 1, (1,), generator=generator))
            top = int(torch.randint(0, h - side + 1, (1,), generator=generator))
            left = int(torch.randint(0, w - side + 1, (1,), generator=generator))
            crop = picture[..., top:top + side, left:left + side]
            crops.append(F.interpolate(crop, size=(self.size, self.size), mode="bilinear", antialias=True,
                                       align_corners=False) if side != self.size else crop)
        return torch.cat(crops)


def _fitted(rgb):
    return fit_long_side(rgb, MAX_SIDE) if max(rgb.shape[:2]) > MAX_SIDE else rgb
