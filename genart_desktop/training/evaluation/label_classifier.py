"""A small CNN that tells the caption categories of a dataset apart: the judge of diffusion prompt adherence.

It is trained on the dataset's own images and labels (e.g. the emoji groups "Animals & Nature", "Food & Drink") with
flips, small shifts and random blur, so that the softer images a latent diffusion model decodes are still judged
by shape and colour rather than by sharpness. Its own held-out accuracy is reported next to the adherence score:
an adherence figure is only as good as the judge that produced it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from genart_desktop.training.data.alpha import over_white

INPUT_SIZE = 32


def prepare(images: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) in [-1, 1] (premultiplied RGBA seen over white) -> (N, 3, 32, 32) by area averaging (any
    training resolution works)."""
    return F.interpolate(over_white(images.float()), size=(INPUT_SIZE, INPUT_SIZE), mode="area")


class LabelClassifier(nn.Module):
    def __init__(self, labels: int, width: int = 16) -> None:
        super().__init__()

        def block(cin: int, cout: int) -> nn.Sequential:
            return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
                                 nn.Conv2d(cout, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
                                 nn.MaxPool2d(2))

        self.features = nn.Sequential(block(3, width), block(width, 2 * width), block(2 * width, 4 * width))
        self.head = nn.Linear(4 * width, labels)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(prepare(images)).mean(dim=(2, 3)))


def augment(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random flips, shifts of up to 1/16 of the side, and a 2x blur on half of the batch."""
    n, _, h, w = images.shape
    flip = torch.rand(n, generator=generator) < 0.5
    x = torch.where(flip.view(n, 1, 1, 1), images.flip(3), images)
    pad = max(1, h // 16)
    padded = F.pad(x, (pad, pad, pad, pad), mode="replicate")
    dx, dy = (int(v) for v in torch.randint(0, 2 * pad + 1, (2,), generator=generator))
    x = padded[..., dy:dy + h, dx:dx + w]
    blur = (torch.rand(n, generator=generator) < 0.5).view(n, 1, 1, 1)
    soft = F.interpolate(F.avg_pool2d(x, 2), size=(h, w), mode="bilinear", align_corners=False)
    return torch.where(blur, soft, x)


@dataclass
class TrainedClassifier:
    model: LabelClassifier
    label_names: list[str]
    holdout_accuracy: float
    holdout_count: int

    @torch.no_grad()
    def predict(self, images: torch.Tensor, batch: int = 256) -> torch.Tensor:
        self.model.eval()
        return torch.cat([self.model(images[i:i + batch]).argmax(1) for i in range(0, len(images), batch)])


def split_indices(labels: torch.Tensor, holdout: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A stratified split: every label keeps about ``holdout`` of its images for testing."""
    generator = torch.Generator().manual_seed(seed)
    train, test = [], []
    for label in labels.unique().tolist():
        rows = (labels == label).nonzero().flatten()
        rows = rows[torch.randperm(len(rows), generator=generator)]
        held = max(1, round(len(rows) * holdout)) if len(rows) > 1 else 0
        test.append(rows[:held])
        train.append(rows[held:])
    return torch.cat(train), torch.cat(test)


def train_label_classifier(images: torch.Tensor, labels: torch.Tensor, label_names: list[str], steps: int = 1200,
                           batch_size: int = 64, holdout: float = 0.15, seed: int = 0,
                           log: Callable[[str], None] | None = None) -> TrainedClassifier:
    """Train on (1 - holdout) of the images, report the accuracy on the rest; images in [-1, 1]."""
    if images.shape[0] != labels.shape[0]:
        raise ValueError("images and labels differ in length")
    if len(label_names) < 2:
        raise ValueError("a classifier needs at least two labels")
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed + 1)
    train_rows, test_rows = split_indices(labels, holdout, seed)
    model = LabelClassifier(len(label_names))
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=2e-3, total_steps=steps)
    model.train()
    for step in range(steps):
        pick = train_rows[torch.randint(0, len(train_rows), (batch_size,), generator=generator)]
        loss = F.cross_entropy(model(augment(images[pick], generator)), labels[pick], label_smoothing=0.05)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        if log is not None and (step + 1) % 250 == 0:
            log(f"classifier step {step + 1}/{steps}: loss {float(loss.detach()):.3f}")
    trained = TrainedClassifier(model, list(label_names), 0.0, len(test_rows))
    if len(test_rows):
        predicted = trained.predict(images[test_rows])
        trained.holdout_accuracy = float((predicted == labels[test_rows]).float().mean())
    return trained
