"""Figures, contact sheet and blend strip of an arbitrary-style network (``genart-train evaluate`` on one).

Photos are the card's held-out photos; styles are split into the paintings it trained on and the ones it never
saw, so the card can say how the network generalises. The figures are those of style_figures.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from genart_desktop.core.errors import InputError
from genart_desktop.training.evaluation.arbitrary_runner import ArbitraryRunner, blend
from genart_desktop.training.evaluation.style_figures import (STYLE_SIDE, FeatureJudge, judge_pair, load_photos,
                                                              nearest_painting)
from genart_desktop.training.style.images import fit_long_side, load_rgb
from genart_desktop.training.style_arbitrary.styles import SUFFIXES

BLEND_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)


def _paintings(styles: Path) -> list[Path]:
    if not styles.is_dir():
        raise InputError(f"The style folder {styles} does not exist.")
    return sorted(p for p in styles.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES)


def evaluate_arbitrary(model_dir: str | Path, data: str | Path, styles: str | Path, max_photos: int = 24,
                       weights: str | None = None) -> tuple[dict[str, Any], ArbitraryRunner, list[np.ndarray],
                                                            dict[str, np.ndarray]]:
    runner = ArbitraryRunner(model_dir)
    held = runner.card.get("provenance", {}).get("held_out", {})
    photo_files = [Path(data) / n for n in held.get("photos", []) if (Path(data) / n).is_file()][:max_photos]
    if not photo_files:
        raise InputError(f"None of the card's held-out photos is in {data}.")
    held_styles = set(held.get("styles", []))
    paintings = _paintings(Path(styles))
    pictures = {p.name: fit_long_side(load_rgb(p), STYLE_SIDE, 8) for p in paintings}
    stats = {name: runner.stats(rgb) for name, rgb in pictures.items()}
    judge = FeatureJudge(weights)
    signatures = {name: judge.signature(rgb) for name, rgb in pictures.items()}
    photos = load_photos(photo_files)
    groups: dict[str, list[Any]] = {"trained_styles": [], "held_out_styles": []}
    for name in pictures:
        group = "held_out_styles" if name in held_styles else "trained_styles"
        for photo in photos:
            groups[group].append(judge_pair(judge, photo, runner.stylize(photo, stats[name]), signatures[name]))
    figures: dict[str, Any] = {"photos": len(photos)}
    for group, pairs in groups.items():
        if pairs:
            figures[group] = {"style_ratio": round(float(np.mean([p.style_ratio for p in pairs])), 4),
                              "content_distance": round(float(np.mean([p.content for p in pairs])), 4),
                              "pairs": len(pairs)}
    correct = 0
    for name in pictures:
        result = nearest_painting(judge, lambda rgb, n=name: runner.stylize(rgb, stats[n]), photos[:8], signatures)
        correct += result["nearest"] == name
    figures["nearest_painting"] = {"correct": correct, "of": len(pictures), "photos": min(8, len(photos))}
    figures["measure"] = ("SqueezeNet 1.1 feature mean/std distance over conv1, fire3, fire5, fire7; style_ratio = "
                          "distance(output, painting) / distance(photo, painting) (lower: closer to the style); "
                          "content_distance = relative fire5 difference to the photo (lower: more of the photo "
                          "kept); photos at 384 px, paintings measured at 512 px")
    return figures, runner, photos, pictures


def _cell(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    """Centre-cropped to the cell's aspect, then resized: every column lines up under its painting."""
    h, w = rgb.shape[:2]
    crop_w, crop_h = min(w, round(h * width / height)), min(h, round(w * height / width))
    left, top = (w - crop_w) // 2, (h - crop_h) // 2
    cropped = Image.fromarray(np.ascontiguousarray(rgb[top:top + crop_h, left:left + crop_w, :3]))
    return np.asarray(cropped.resize((width, height), Image.Resampling.LANCZOS))


def _sheet(rows: list[list[np.ndarray]], height: int, gap: int = 4) -> Image.Image:
    width = round(height * 4 / 3)
    columns = max(len(r) for r in rows)
    sheet = Image.new("RGB", (columns * (width + gap) - gap, len(rows) * (height + gap) - gap), (255, 255, 255))
    for y, row in enumerate(rows):
        for x, image in enumerate(row):
            sheet.paste(Image.fromarray(_cell(image, width, height)), (x * (width + gap), y * (height + gap)))
    return sheet


def contact_sheet(runner: ArbitraryRunner, photos: list[np.ndarray], pictures: dict[str, np.ndarray],
                  held_styles: set[str], height: int = 192) -> Image.Image:
    """Top row: blank, three trained paintings, three held-out ones; then a row per photo (up to four)."""
    names = [n for n in pictures if n not in held_styles][:3] + [n for n in pictures if n in held_styles][:3]
    header = [np.full((height, height, 3), 255, np.uint8)] + [pictures[n] for n in names]  # blank over the photos
    rows = [header]
    for photo in photos[:4]:
        rows.append([photo] + [runner.stylize(photo, runner.stats(pictures[n])) for n in names])
    return _sheet(rows, height)


def blend_strip(runner: ArbitraryRunner, photo: np.ndarray, first: np.ndarray, second: np.ndarray,
                height: int = 192) -> Image.Image:
    """The first painting, the photo blended from all-first to all-second in five steps, the second painting."""
    a, b = runner.stats(first), runner.stats(second)
    images = [first] + [runner.stylize(photo, blend([a, b], [1.0 - w, w])) for w in BLEND_WEIGHTS] + [second]
    return _sheet([images], height)
