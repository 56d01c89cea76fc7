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


def find_images(src: Path) -> list[Path]:
    found = []
    for root, dirs, files in os.walk(src):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith(".") and Path(name).suffix.lower() in IMAGE_SUFFIXES:
                found.append(Path(root) / name)
    return found


def build_dataset(src: str | os.PathLike[str], out: str | os.PathLike[str], resolution: int = 64, fit: str = "crop",
                  background: tuple[int, int, int] = (255, 255, 255), captions: str | os.PathLike[str] | None = None,
                  report: Callable[[str], None] | None = None) -> BuildReport:
    """Read, fit and cache every readable image below ``src``; unreadable files are reported and skipped."""
    src, out = Path(src), Path(out)
    say = report or (lambda message: print(message, file=sys.stderr))
    if not src.is_dir():
        raise InputError(f"The image folder {src} does not exist or is not a folder.")
    if resolution < 8 or resolution > 1024:
        raise InputError(f"--resolution must be between 8 and 1024 pixels, not {resolution}.")
    if fit not in FITS:
        raise InputError(f"--fit must be crop or pad, not {fit!r}.")
    if out.resolve() == src.resolve() or src.resolve() in out.resolve().parents:
        raise InputError("Write the dataset outside the image folder, so it is not read back as images.")
    sidecar = read_sidecar(captions) if captions else {}
    paths = find_images(src)
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
        tiles.append(fit_square(rgba, resolution, fit, background))
        item = {"source": relative, "sha256": hashlib.sha256(data).hexdigest()}
        extra = sidecar.get(relative, {})
        caption = extra.get("caption") or text_sidecar(path)
        if caption:
            item["caption"] = caption
        if extra.get("label"):
            item["label"] = extra["label"]
        items.append(item)
    if not tiles:
        raise InputError(f"None of the {len(paths)} files in {src} could be read as an image; nothing was written.")
    captions_list = [i.get("caption") for i in items]
    labels = sorted({i["label"] for i in items if "label" in i})
    extra_meta = {"fit": fit, "background": list(background), "source_dir": str(src.resolve()), "created": now_iso(),
                  "skipped": [{"source": s, "reason": r} for s, r in skipped]}
    if any(captions_list):
        extra_meta["vocabulary"] = caption_vocabulary(captions_list)
    if labels:
        extra_meta["labels"] = labels
    write_dataset(out, np.stack(tiles), items, extra_meta)
    return BuildReport(out, len(tiles), skipped)
