"""Training patches for the upscaler: random crops (with flips and quarter turns) of cached picture sets.

The photos are split by file into training and held-out pictures once (seeded), so the measurement never sees a
picture the network trained on. Extra sets (paintings, ...) only train. Patches depend on a ``torch.Generator``
passed in, never on hidden state, so a resumed run cuts the same patches.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from genart_desktop.core.errors import InputError
from genart_desktop.training.data.builder import build_dataset
from genart_desktop.training.data.cached import ImageDataset
from genart_desktop.training.data.store import is_dataset
from genart_desktop.training.runs import RunFolder


@dataclass
class PatchSource:
    """Picture sets (uint8 ``(N, R, R, 3)``) and the share of patches each provides."""

    sets: list[torch.Tensor]
    shares: list[float]

    def sample(self, gen: torch.Generator, count: int, patch: int, augment: bool = True) -> torch.Tensor:
        """``count`` patches ``(count, 3, patch, patch)`` in [0, 1]."""
        choice = torch.multinomial(torch.tensor(self.shares, dtype=torch.float64), count, replacement=True,
                                   generator=gen)
        out = []
        for which in choice.tolist():
            images = self.sets[which]
            side = images.shape[1]
            index = int(torch.randint(images.shape[0], (), generator=gen))
            top, left = (int(v) for v in torch.randint(side - patch + 1, (2,), generator=gen))
            crop = images[index, top:top + patch, left:left + patch].permute(2, 0, 1)
            if augment:
                turns, flip = (int(v) for v in torch.randint(4, (2,), generator=gen))
                crop = crop.rot90(turns, (1, 2))
                crop = crop.flip(2) if flip % 2 else crop
            out.append(crop)
        return torch.stack(out).float() / 255.0


def split_photos(dataset: ImageDataset, holdout: float, seed: int) -> tuple[ImageDataset, list[str]]:
    """The training part of ``dataset`` and the source file names of the held-out part (split by file)."""
    train, held = dataset.split(holdout, seed)
    names = [item.get("source", "") for item in held.meta.get("items", [])] if held is not None else []
    return train, names


def load_extra_sets(folders: list[str], resolution: int, run: RunFolder | None) -> list[ImageDataset]:
    """Each extra folder as a dataset: used as is when it is one, else fitted once into the run's ``extra-K``."""
    sets = []
    for number, folder in enumerate(folders):
        path = Path(folder)
        cached = run.path / f"extra-{number}" if run is not None else None
        if is_dataset(path):
            sets.append(ImageDataset.load(path))
        elif cached is not None and is_dataset(cached):
            sets.append(ImageDataset.load(cached))
        elif cached is not None and path.is_dir():
            build_dataset(path, cached, resolution, "crop", report=run.log)
            sets.append(ImageDataset.load(cached))
        else:
            raise InputError(f"The extra training data {path} does not exist or is not a folder.")
    return sets


def build_source(train: ImageDataset, extras: list[ImageDataset], extra_fraction: float, patch: int) -> PatchSource:
    small = [s for s in [train, *extras] if s.resolution < patch]
    if small:
        raise InputError(f"A picture set is {small[0].resolution} px, smaller than the {patch} px patches.")
    if not extras or extra_fraction <= 0:
        return PatchSource([train.images], [1.0])
    share = extra_fraction / len(extras)
    return PatchSource([train.images, *(e.images for e in extras)], [1.0 - extra_fraction] + [share] * len(extras))
