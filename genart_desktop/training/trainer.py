"""What every trainer provides to the shared loop (see loop.py)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import torch

from genart_desktop.core.errors import InputError
from genart_desktop.training.config import TrainConfig
from genart_desktop.training.data.cached import BatchSampler, ImageDataset
from genart_desktop.training.device import Runtime
from genart_desktop.training.init_weights import InitTargets
from genart_desktop.training.runs import RunFolder


class Trainer(ABC):
    family = ""
    #: PNG name -> (title, metric keys) drawn from metrics.jsonl
    plots: dict[str, tuple[str, list[str]]] = {}
    #: channel counts of dataset pictures the family learns (4: premultiplied RGBA, see engine/alpha.py)
    image_channels: tuple[int, ...] = (3,)

    def __init__(self, cfg: TrainConfig, runtime: Runtime, run: RunFolder | None, dataset: ImageDataset):
        if getattr(dataset, "channels", 3) not in self.image_channels:
            raise InputError(f"The dataset's pictures have an alpha channel, which {self.family} models cannot learn; "
                             "build it with a background colour (e.g. --background white).")
        self.cfg, self.runtime, self.run, self.dataset = cfg, runtime, run, dataset
        self.sampler = BatchSampler(len(dataset), cfg.batch_size, cfg.seed, runtime.rank, runtime.world_size)

    def real_batch(self, step: int) -> torch.Tensor:
        x = self.dataset.batch(self.sampler.indices(step))
        if self.cfg.flip:
            flips = torch.rand(x.shape[0]) < 0.5
            x[flips] = x[flips].flip(-1)
        return x.to(self.runtime.device, non_blocking=True)

    @abstractmethod
    def train_step(self, step: int) -> dict[str, float]:
        """One optimisation step; returns the losses to log."""

    @abstractmethod
    def state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        """Tensors and JSON-able extras to checkpoint."""

    @abstractmethod
    def load_state(self, tensors: dict[str, torch.Tensor], extra: dict[str, Any]) -> None:
        """Restore what :meth:`state` saved."""

    @abstractmethod
    def evaluate(self, step: int) -> dict[str, float]:
        """Write a sample grid and return quality measures (run on the main process only)."""

    def init_targets(self) -> InitTargets:
        """What ``--init-from`` may fill: networks by checkpoint prefix, and per card role the network its ONNX
        file holds (see init_weights.py)."""
        raise InputError(f"--init-from is not available for {self.family} runs.")

    def plot_references(self) -> dict[str, dict[str, float]]:
        return {}
