"""Measure an exported GAN the way the app runs it: diversity against the real data and distance to the training set.

The trainer's monitor sees 64 samples of the PyTorch EMA generator; a card should state what the shipped ONNX file
does, with enough samples for the numbers to be stable. Samples are drawn like the latent explorer draws them
(seeded N(0, 1), optionally truncated by the card's psi) and judged with the same parameter-free features as training
(:mod:`genart_desktop.training.metrics`). The real hold-out's own nearest-training-image distance is the yardstick
for "clearly above zero": a memorising generator falls far below it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from genart_desktop.core.errors import InputError, ModelError
from genart_desktop.training.data.cached import ImageDataset
from genart_desktop.training.evaluation.card_metrics import open_model_folder
from genart_desktop.training.metrics import diversity_score, nearest_distance


@dataclass
class GeneratorQuality:
    samples: int
    truncation: float
    diversity: float
    real_diversity: float
    diversity_ratio: float
    nearest_train_distance: float
    real_holdout_nearest_distance: float
    seed: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def load_generator(model_dir: str | Path) -> tuple[Any, float]:
    """(the exported GAN's latent space through the engine's registry, the card's recommended truncation psi)."""
    from genart_desktop.engine.latent.space import GAN, space_from_registry

    registry, entry, card = open_model_folder(model_dir)
    model_id = entry.id
    if entry.family != GAN:
        raise ModelError(f"{model_id} is a {entry.family} model; this measure is for GAN generators.")
    psi = card.get("config", {}).get("truncation", 1.0)
    psi = float(psi) if isinstance(psi, (int, float)) and 0.0 < float(psi) <= 1.0 else 1.0
    return space_from_registry(registry, model_id), psi


def evaluate_generator(space: Any, dataset: ImageDataset, count: int = 512, seed: int = 0,
                       truncation: float = 1.0) -> tuple[GeneratorQuality, torch.Tensor]:
    """(quality, the generated images (N, 3, H, W) in [-1, 1])."""
    from genart_desktop.engine.latent.crossbreed import truncate

    if count < 2:
        raise InputError("Measuring diversity needs at least two samples.")
    if len(dataset) < 4:
        raise InputError("The dataset needs at least four images to compare against.")
    latents = truncate(space.sample(seed, count), truncation) if truncation < 1.0 else space.sample(seed, count)
    generated = torch.from_numpy(np.ascontiguousarray(space.decode_tensor(latents))).float()
    if tuple(generated.shape[2:]) != tuple(dataset.batch(torch.arange(1)).shape[2:]):
        raise InputError(f"The generator makes {generated.shape[3]}x{generated.shape[2]} images but the dataset "
                         "has another size; measure it on the dataset it was trained on.")
    all_real = dataset.batch(torch.arange(len(dataset)))
    order = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(seed))
    real = all_real[order[:min(count, len(dataset))]]
    held = max(2, len(dataset) // 10)
    holdout_order = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(seed + 3))
    generated_div, real_div = diversity_score(generated), diversity_score(real)
    quality = GeneratorQuality(
        samples=count, truncation=float(truncation), diversity=generated_div, real_diversity=real_div,
        diversity_ratio=generated_div / max(real_div, 1e-12),
        nearest_train_distance=nearest_distance(generated, all_real),
        real_holdout_nearest_distance=nearest_distance(all_real[holdout_order[:held]],
                                                       all_real[holdout_order[held:]]),
        seed=seed)
    return quality, generated
