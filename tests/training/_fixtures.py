"""Tiny generated image folders and datasets for the training tests (no downloads, a few KB each)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw


def make_image_folder(folder: Path, count: int = 16, size: int = 40, seed: int = 0) -> Path:
    """Coloured discs and squares on varied backgrounds, so real-data diversity is well above zero."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        background = tuple(int(v) for v in rng.integers(0, 256, 3))
        image = Image.new("RGB", (size, size + 8 * (index % 3)), background)
        draw = ImageDraw.Draw(image)
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        x, y = (int(v) for v in rng.integers(2, size // 2, 2))
        r = int(rng.integers(6, size // 2))
        (draw.ellipse if index % 2 else draw.rectangle)([x, y, x + r, y + r], fill=colour)
        image.save(folder / f"img{index:02d}.png")
    return folder


def build_tiny_dataset(tmp_path: Path, resolution: int = 32, count: int = 16) -> Path:
    from genart_desktop.training.data.builder import build_dataset

    src = make_image_folder(tmp_path / "images", count)
    out = tmp_path / "dataset"
    build_dataset(src, out, resolution, report=lambda message: None)
    return out


def train_tiny_run(tmp_path: Path, family: str, options: list[str], *extra: str) -> Path:
    """Train ``family`` on a tiny dataset through the real CLI; returns the new run folder."""
    from genart_desktop.training.cli import main

    data = build_tiny_dataset(tmp_path)
    runs = tmp_path / "runs"
    assert main([family, "--data", str(data), "--runs-dir", str(runs), *options, *extra]) == 0
    return sorted(runs.iterdir())[-1]
