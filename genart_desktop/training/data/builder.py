"""Build a cached dataset from a folder tree of images (``genart-train dataset``)."""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from genart_desktop.core.errors import InputError
from genart_desktop.core.images import open_image_rgba
from genart_desktop.training.data.captions import read_sidecar, text_sidecar
from genart_desktop.training.data.fit import FITS, fit_square
from genart_desktop.training.data.store import caption_vocabulary, write_dataset
from genart_desktop.training.runs import now_iso

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff"}


@dataclass
class BuildReport:
    out: Path
    count: int
    skipped: list[tuple[str, str]] = field(default_factory=list)


def random_crops(width: int, height: int, count: int, min_crop: float,
                 rng: np.random.Generator) -> list[tuple[int, int, int]]:
    """``count`` square boxes (left, top, side) inside a width x height picture, sides from ``min_crop`` of the short
    side up to all of it, uniformly placed."""
    short = min(width, height)
    boxes = []
    for _ in range(count):
        side = max(1, int(round(short * rng.uniform(min_crop, 1.0))))
        left = int(rng.integers(0, width - side + 1))
        top = int(rng.integers(0, height - side + 1))
        boxes.append((left, top, side))
    return boxes


def find_images(src: Path) -> list[Path]:
    found = []
    for root, dirs, files in os.walk(src):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith(".") and Path(name).suffix.lower() in IMAGE_SUFFIXES:
                found.append(Path(root) / name)
    return found


def read_exclusions(path: str | os.PathLike[str] | None) -> set[str]:
    """File names (or paths relative to the image folder) to leave out, one per line; ``#`` starts a comment."""
    if not path:
        return set()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"Cannot read the exclusion list {path}: {getattr(exc, 'strerror', None) or exc}.") from None
    return {line.split("#", 1)[0].strip() for line in text.splitlines()} - {""}


def build_dataset(src: str | os.PathLike[str], out: str | os.PathLike[str], resolution: int = 64, fit: str = "crop",
                  background: tuple[int, int, int] = (255, 255, 255), captions: str | os.PathLike[str] | None = None,
                  report: Callable[[str], None] | None = None, crops: int = 1, min_crop: float = 0.35,
                  exclude: set[str] | None = None, seed: int = 0) -> BuildReport:
    """Read, fit and cache every readable image below ``src``; unreadable files are reported and skipped.

    ``crops`` above 1 cuts that many random square crops (a side of ``min_crop`` to all of the short side, seeded per
    file) from each picture instead of one centre crop: a few large photos become a dataset of many scenes.
    ``exclude`` names files (or relative paths) that stay out, such as a held-out split.
    """
    src, out = Path(src), Path(out)
    say = report or (lambda message: print(message, file=sys.stderr))
    if not src.is_dir():
        raise InputError(f"The image folder {src} does not exist or is not a folder.")
    if resolution < 8 or resolution > 1024:
        raise InputError(f"--resolution must be between 8 and 1024 pixels, not {resolution}.")
    if fit not in FITS:
        raise InputError(f"--fit must be crop or pad, not {fit!r}.")
    if crops < 1 or crops > 256:
        raise InputError(f"--crops must be between 1 and 256, not {crops}.")
    if not 0.05 <= min_crop <= 1.0:
        raise InputError(f"--min-crop must be between 0.05 and 1, not {min_crop}.")
    if out.resolve() == src.resolve() or src.resolve() in out.resolve().parents:
        raise InputError("Write the dataset outside the image folder, so it is not read back as images.")
    sidecar = read_sidecar(captions) if captions else {}
    excluded = exclude or set()
    paths = [p for p in find_images(src) if p.name not in excluded and p.relative_to(src).as_posix() not in excluded]
    if not paths:
        raise InputError(f"No images (PNG, JPEG, WebP, ...) were found in {src}.")
    tiles, items, skipped = [], [], []
    for path in paths:
        relative = path.relative_to(src).as_posix()
        try:
            data = path.read_bytes()
            rgba = open_image_rgba(data)
        except InputError as exc:
            reason = str(exc).replace("Cannot open image data: ", "")
            skipped.append((relative, reason))
            say(f"skipped {relative}: {reason}")
            continue
        except OSError as exc:
            skipped.append((relative, exc.strerror or str(exc)))
            say(f"skipped {relative}: {exc.strerror or exc}")
            continue
        digest = hashlib.sha256(data).hexdigest()
        item = {"source": relative, "sha256": digest}
        extra = sidecar.get(relative, {})
        caption = extra.get("caption") or text_sidecar(path)
        if caption:
            item["caption"] = caption
        if extra.get("label"):
            item["label"] = extra["label"]
        if crops == 1:
            tiles.append(fit_square(rgba, resolution, fit, background))
            items.append(item)
            continue
        rng = np.random.default_rng([seed, int(digest[:8], 16)])
        for box in random_crops(rgba.shape[1], rgba.shape[0], crops, min_crop, rng):
            left, top, side = box
            tiles.append(fit_square(rgba[top:top + side, left:left + side], resolution, "crop", background))
            items.append({**item, "crop": list(box)})
    if not tiles:
        raise InputError(f"None of the {len(paths)} files in {src} could be read as an image; nothing was written.")
    captions_list = [i.get("caption") for i in items]
    labels = sorted({i["label"] for i in items if "label" in i})
    extra_meta = {"fit": fit, "background": list(background), "source_dir": str(src.resolve()), "created": now_iso(),
                  "skipped": [{"source": s, "reason": r} for s, r in skipped]}
    if crops > 1:
        extra_meta["crops"] = {"per_file": crops, "min_side": min_crop, "seed": seed}
    if excluded:
        extra_meta["excluded"] = sorted(excluded)
    if any(captions_list):
        extra_meta["vocabulary"] = caption_vocabulary(captions_list)
    if labels:
        extra_meta["labels"] = labels
    write_dataset(out, np.stack(tiles), items, extra_meta)
    return BuildReport(out, len(tiles), skipped)
