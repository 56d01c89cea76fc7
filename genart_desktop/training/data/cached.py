"""The cached dataset as a torch ``Dataset``, held in memory as one uint8 tensor so batches cost one gather."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import Dataset

from genart_desktop.core.errors import InputError
from genart_desktop.training.data.store import read_dataset


class ImageDataset(Dataset):
    """Images as (C, R, R) float tensors in [-1, 1] (C = 3, or 4 for premultiplied RGBA); ``batch(indices)`` returns
    (B, C, R, R) in one go."""

    def __init__(self, images: torch.Tensor, meta: dict[str, Any], folder: Path | None = None):
        self.images = images  # (N, R, R, C) uint8
        self.meta = meta
        self.folder = folder

    @classmethod
    def load(cls, folder: str | os.PathLike[str]) -> ImageDataset:
        images, meta = read_dataset(folder)
        return cls(torch.from_numpy(images), meta, Path(folder))

    @property
    def resolution(self) -> int:
        return int(self.images.shape[1])

    @property
    def channels(self) -> int:
        """3 for RGB, 4 for premultiplied RGBA."""
        return int(self.images.shape[3])

    @property
    def captions(self) -> list[str | None]:
        return [item.get("caption") for item in self.meta.get("items", [])]

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def __getitem__(self, index: int) -> torch.Tensor:
        return self.batch(torch.tensor([index]))[0]

    def batch(self, indices: torch.Tensor) -> torch.Tensor:
        x = self.images.index_select(0, indices).permute(0, 3, 1, 2).float()
        return x.div_(127.5).sub_(1.0)

    def subset(self, indices: torch.Tensor) -> ImageDataset:
        items = self.meta.get("items", [])
        meta = dict(self.meta, items=[items[i] for i in indices.tolist()] if items else [],
                    count=int(len(indices)))
        return ImageDataset(self.images.index_select(0, indices), meta, self.folder)

    def split(self, holdout: float, seed: int = 0) -> tuple[ImageDataset, ImageDataset | None]:
        """A fixed, seeded hold-out split for measuring reconstruction on unseen images."""
        count = len(self)
        held = int(round(count * holdout)) if holdout > 0 else 0
        if held == 0:
            return self, None
        if count - held < 1:
            raise InputError(f"The dataset has only {count} images: too few to hold out {holdout:.0%}.")
        order = torch.randperm(count, generator=torch.Generator().manual_seed(seed))
        return self.subset(order[held:].sort().values), self.subset(order[:held].sort().values)


class BatchSampler:
    """Epoch-wise shuffled batches whose order depends only on (seed, step, rank): resume needs no sampler state."""

    def __init__(self, count: int, batch_size: int, seed: int, rank: int = 0, world_size: int = 1):
        if count <= 0:
            raise InputError("The dataset is empty.")
        self.count, self.batch_size, self.seed = count, batch_size, seed
        self.rank, self.world_size = rank, world_size
        self._epoch = -1
        self._order = torch.empty(0, dtype=torch.long)

    def _permutation(self, epoch: int) -> torch.Tensor:
        if epoch != self._epoch:
            generator = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            self._order = torch.randperm(self.count, generator=generator)
            self._epoch = epoch
        return self._order

    def indices(self, step: int) -> torch.Tensor:
        """Indices for ``step`` on this rank; batches wrap across epoch boundaries."""
        global_batch = self.batch_size * self.world_size
        start = step * global_batch + self.rank * self.batch_size
        parts, need, position = [], self.batch_size, start
        while need > 0:
            epoch, offset = divmod(position, self.count)
            take = min(need, self.count - offset)
            parts.append(self._permutation(epoch)[offset:offset + take])
            position += take
            need -= take
        return torch.cat(parts)
