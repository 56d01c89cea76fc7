"""Measure an exported text- or class-conditioned diffusion model the way the app runs it (onnxruntime, engine).

For every caption category of the training dataset, prompts are drawn from that category's own captions and one
image is generated per prompt; a :mod:`label_classifier` trained on the dataset judges which category each image
shows. Prompt adherence is the share judged to be the prompt's category (chance is about 1 / categories). The same
images give the diversity ratio against as many real images and the mean nearest-training-image distance, with
the real hold-out's own nearest distance as the yardstick for "clearly above zero".
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from genart_desktop.core.errors import InputError, ModelError
from genart_desktop.training.data.cached import ImageDataset
from genart_desktop.training.evaluation.card_metrics import open_model_folder, record_quality
from genart_desktop.training.evaluation.label_classifier import (
    TrainedClassifier,
    train_label_classifier,
)
from genart_desktop.training.metrics import diversity_score, nearest_distance


@dataclass
class DiffusionQuality:
    prompt_adherence: float
    chance: float
    per_label: dict[str, float]
    classifier_holdout_accuracy: float
    classifier_holdout_count: int
    samples: int
    diversity_ratio: float
    nearest_train_distance: float
    real_holdout_nearest_distance: float
    guidance: float
    steps: int
    sampler: str
    seed: int
    prompts: dict[str, list[str]] = field(default_factory=dict)
    # Variety among seeds of one prompt, relative to the variety of real images of that prompt's category (the
    # across-prompt ratio above hides a model that draws one picture per prompt). Measured on one prompt per category.
    within_prompt_diversity_ratio: float | None = None
    within_prompt_seeds: int = 0
    # Binomial standard error of prompt_adherence: two models whose figures differ by less than about two of these
    # (288 prompts give roughly 3 points) follow prompts equally well as far as this measurement can tell.
    prompt_adherence_stderr: float = 0.0
    # 1 where the judge named the prompt's category, per generated image in prompt order: pairs two models measured
    # on the same prompts and seeds (see paired_adherence).
    judged_correct: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> dict[str, Any]:
        """What a card and the command print: the figures, without the prompt lists and per-image verdicts."""
        summary = self.to_dict()
        summary.pop("prompts")
        summary.pop("judged_correct")
        return summary


@dataclass
class PairedAdherence:
    """Two models judged on the same prompts, seeds and judge. Pairing cancels the prompts' own difficulty, so the
    difference's standard error is smaller than either figure's alone."""

    against: str
    prompt_adherence: float
    against_adherence: float
    difference: float
    difference_stderr: float
    only_this_model_right: int
    only_against_right: int
    samples: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def paired_adherence(this: DiffusionQuality, other: DiffusionQuality, against: str) -> PairedAdherence:
    """Compare ``this`` with ``other`` image by image (McNemar's pairing); both must come from one judge."""
    if this.prompts != other.prompts or this.seed != other.seed or len(this.judged_correct) != len(other.judged_correct):
        raise InputError("The two models were measured on different prompts or seeds; a paired comparison needs the "
                         "same ones.")
    mine = np.asarray(this.judged_correct, np.float64)
    theirs = np.asarray(other.judged_correct, np.float64)
    difference = mine - theirs
    n = len(difference)
    stderr = float(difference.std(ddof=1) / np.sqrt(n)) if n > 1 else 0.0
    return PairedAdherence(against=against, prompt_adherence=float(mine.mean()), against_adherence=float(theirs.mean()),
                           difference=float(difference.mean()), difference_stderr=stderr,
                           only_this_model_right=int((difference > 0).sum()),
                           only_against_right=int((difference < 0).sum()), samples=n)


def train_judge(dataset: ImageDataset, seed: int = 0, log: Callable[[str], None] = print) -> TrainedClassifier:
    """The category classifier that judges prompt adherence, trained on the whole dataset (seeded)."""
    labels, names = dataset_labels(dataset)
    log(f"training the judge: a {len(names)}-category classifier on {len(dataset)} images")
    return train_label_classifier(dataset.batch(torch.arange(len(dataset))), labels, names, seed=seed, log=log)


def dataset_labels(dataset: ImageDataset) -> tuple[torch.Tensor, list[str]]:
    items = dataset.meta.get("items", [])
    names = sorted({str(item["label"]) for item in items if item.get("label")})
    if len(items) != len(dataset) or len(names) < 2 or any(not item.get("label") for item in items):
        raise InputError("The dataset needs a category label on every image (at least two categories) to measure "
                         "prompt adherence; `genart-train dataset-emoji` writes them.")
    index = {name: i for i, name in enumerate(names)}
    return torch.tensor([index[str(item["label"])] for item in items]), names


def choose_prompts(dataset: ImageDataset, names: list[str], per_label: int, seed: int) -> dict[str, list[str]]:
    """``per_label`` distinct captions of each category (fewer when it has fewer), seeded."""
    rng = random.Random(seed)
    prompts: dict[str, list[str]] = {}
    for name in names:
        captions = sorted({str(item["caption"]) for item in dataset.meta["items"]
                           if item.get("label") == name and item.get("caption")})
        rng.shuffle(captions)
        prompts[name] = captions[:per_label]
    if not any(prompts.values()):
        raise InputError("The dataset has no captions to prompt with.")
    return prompts


def load_model(model_dir: str | Path) -> Any:
    """The exported model through the engine's registry, with its paired VAE looked up beside it."""
    from genart_desktop.engine.pipelines.diffusion_model import CardDiffusionModel

    registry, entry, _card = open_model_folder(model_dir)
    model_id = entry.id
    model = CardDiffusionModel.from_registry(registry, model_id)
    if model.conditioning.kind == "none":
        raise ModelError(f"{model_id} is unconditional: prompt adherence needs a text- or class-conditioned model.")
    return model


def evaluate_diffusion(model: Any, dataset: ImageDataset, per_label: int = 16, steps: int | None = None,
                       guidance: float | None = None, sampler: str = "dpmpp_2m", seed: int = 0,
                       classifier: TrainedClassifier | None = None,
                       log: Callable[[str], None] = print, within_seeds: int = 6) -> tuple[DiffusionQuality, torch.Tensor, list[str]]:
    """(quality, generated images (N, 3, H, W) in [-1, 1] grouped by category, the category of each row)."""
    labels, names = dataset_labels(dataset)
    if classifier is None:
        classifier = train_judge(dataset, seed, log)
    log(f"judge held-out accuracy {classifier.holdout_accuracy:.1%} on {classifier.holdout_count} images")
    prompts = choose_prompts(dataset, names, per_label, seed)
    images, targets = [], []
    for label, texts in prompts.items():
        for i, text in enumerate(texts):
            result = model.generate(text, steps=steps, guidance=guidance, sampler=sampler, seed=seed + 1000 * i + 7)
            images.append(torch.from_numpy(np.ascontiguousarray(result.images[0])))
            targets.append(names.index(label))
        log(f"generated {len(texts)} images for '{label}'")
    generated = torch.stack(images).float()
    predicted = classifier.predict(generated)
    truth = torch.tensor(targets)
    correct = predicted == truth
    per_label_accuracy = {name: float(correct[truth == i].float().mean())
                          for i, name in enumerate(names) if bool((truth == i).any())}
    real = dataset.batch(torch.randperm(len(dataset), generator=torch.Generator().manual_seed(seed))[:len(generated)])
    held = max(2, len(dataset) // 10)
    order = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(seed + 3))
    all_real = dataset.batch(torch.arange(len(dataset)))
    adherence = float(correct.float().mean())
    quality = DiffusionQuality(
        prompt_adherence=adherence, chance=1.0 / len(names),
        prompt_adherence_stderr=float(np.sqrt(adherence * (1.0 - adherence) / len(generated))),
        per_label=per_label_accuracy, classifier_holdout_accuracy=classifier.holdout_accuracy,
        classifier_holdout_count=classifier.holdout_count, samples=len(generated),
        diversity_ratio=diversity_score(generated) / max(diversity_score(real), 1e-12),
        nearest_train_distance=nearest_distance(generated, all_real),
        real_holdout_nearest_distance=nearest_distance(all_real[order[:held]], all_real[order[held:]]),
        guidance=float(model.default_guidance if guidance is None else guidance),
        steps=int(steps or model.default_steps), sampler=sampler, seed=seed, prompts=prompts,
        judged_correct=[int(v) for v in correct.tolist()])
    if within_seeds >= 2:
        quality.within_prompt_diversity_ratio = within_prompt_diversity(
            model, dataset, labels, names, prompts, within_seeds, steps, guidance, sampler, seed, log)
        quality.within_prompt_seeds = within_seeds
    return quality, generated, [names[t] for t in targets]


def within_prompt_diversity(model: Any, dataset: ImageDataset, labels: torch.Tensor, names: list[str],
                            prompts: dict[str, list[str]], seeds: int, steps: int | None, guidance: float | None,
                            sampler: str, seed: int, log: Callable[[str], None] = print) -> float:
    """Mean over categories of (diversity of ``seeds`` images of the category's first prompt) / (diversity of the
    category's real images); 1 means one prompt varies as much as its category does, near 0 one picture per prompt."""
    ratios = []
    for index, name in enumerate(names):
        texts = prompts.get(name) or []
        members = torch.nonzero(labels == index).flatten()
        if not texts or len(members) < 2:
            continue
        images = torch.stack([torch.from_numpy(np.ascontiguousarray(
            model.generate(texts[0], steps=steps, guidance=guidance, sampler=sampler,
                           seed=seed + 7919 * k + 11).images[0])) for k in range(seeds)]).float()
        real = dataset.batch(members[:64])
        ratios.append(diversity_score(images) / max(diversity_score(real), 1e-12))
        log(f"'{texts[0]}': {seeds} seeds vary {ratios[-1]:.2f}x as much as real '{name}' images")
    if not ratios:
        raise InputError("No category has a prompt and two real images to measure within-prompt diversity.")
    return float(np.mean(ratios))


def record_in_card(model_dir: str | Path, quality: DiffusionQuality, paired: PairedAdherence | None = None) -> None:
    """Add the measurement (and the paired comparison, if any) to the card's ``metrics.quality``."""
    record_quality(model_dir, card_summary(quality, paired))


def card_summary(quality: DiffusionQuality, paired: PairedAdherence | None = None) -> dict[str, Any]:
    """The figures as the card records them and the command prints them."""
    summary = quality.summary()
    if paired is not None:
        summary["paired"] = paired.to_dict()
    return summary


def prompt_sheet(model: Any, prompts: list[str], columns: int = 6, seed: int = 0, scale: int = 2,
                 steps: int | None = None, guidance: float | None = None) -> Any:
    """One labelled row per prompt, ``columns`` seeds each, images enlarged ``scale`` times (nearest)."""
    from PIL import Image, ImageDraw

    from genart_desktop.core.images import flatten_alpha
    from genart_desktop.engine.alpha import tensor_pixels

    if not prompts or columns < 1:
        raise InputError("A prompt sheet needs at least one prompt and one column.")
    label_w, rows = 150, []
    for text in prompts:
        rows.append([flatten_alpha(tensor_pixels(model.generate(text, seed=seed + i, steps=steps,
                                                                guidance=guidance).images[0]))
                     for i in range(columns)])
    h, w = rows[0][0].shape[:2]
    cell_w, cell_h = w * scale, h * scale
    sheet = Image.new("RGB", (label_w + columns * cell_w, len(prompts) * cell_h), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    for r, (text, row) in enumerate(zip(prompts, rows)):
        draw.text((6, r * cell_h + cell_h // 2 - 6), f'"{text}"', fill=(0, 0, 0))
        for c, pixels in enumerate(row):
            tile = Image.fromarray(pixels).resize((cell_w, cell_h), Image.Resampling.NEAREST)
            sheet.paste(tile, (label_w + c * cell_w, r * cell_h))
    return sheet
