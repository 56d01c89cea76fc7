"""The cached dataset format: ``images.npy`` (N, R, R, 3) uint8 RGB, or (N, R, R, 4) RGBA with the colour
premultiplied by alpha (``channels: 4, alpha: "premultiplied"`` in the description: the tensors a 4-channel VAE
learns, see ``engine/alpha.py``), plus ``dataset.json``.

``dataset.json`` holds ``format``, ``count``, ``resolution``, how images were fitted, one item per image
(``source``, ``sha256``, optional ``caption`` and ``label``), the files that were skipped and why, and optional
``vocabulary``, ``labels``, ``license`` and ``provenance`` entries.
"""

from __future__ import annotations

import io
import json
import os
import re
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from genart_desktop.core.atomic import atomic_write_bytes
from genart_desktop.core.errors import InputError
from genart_desktop.engine.alpha import CONVENTION

DATASET_FORMAT = "genart-dataset/1"
META_FILE = "dataset.json"
IMAGES_FILE = "images.npy"


def is_dataset(folder: str | os.PathLike[str]) -> bool:
    return (Path(folder) / META_FILE).is_file()


def caption_vocabulary(captions: list[str | None], min_count: int = 1) -> list[str]:
    """Lower-case words of the captions that occur at least ``min_count`` times, sorted."""
    counts = Counter(w for c in captions if c for w in caption_words(c))
    return sorted(w for w, n in counts.items() if n >= min_count)


def caption_words(caption: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", caption.lower())


def write_dataset(out: str | os.PathLike[str], images: np.ndarray, items: list[dict[str, Any]],
                  extra: dict[str, Any]) -> Path:
    """Write ``images`` (RGB, or premultiplied RGBA) and their description, each file atomically."""
    out = Path(out)
    if images.ndim != 4 or images.shape[3] not in (3, 4) or images.dtype != np.uint8 \
            or images.shape[1] != images.shape[2]:
        raise InputError(f"Dataset images must be (N, R, R, 3|4) uint8, got {images.shape} {images.dtype}.")
    if len(items) != len(images):
        raise InputError("Dataset items and images differ in number.")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"Cannot create the dataset folder {out}: {exc.strerror or exc}.") from exc
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(images), allow_pickle=False)
    meta = {"format": DATASET_FORMAT, "count": int(len(images)), "resolution": int(images.shape[1]),
            "images": IMAGES_FILE, **extra, "items": items}
    if images.shape[3] == 4:
        meta.update(channels=4, alpha=CONVENTION)
    atomic_write_bytes(out / IMAGES_FILE, buffer.getvalue())
    atomic_write_bytes(out / META_FILE, json.dumps(meta, indent=1, ensure_ascii=False).encode("utf-8"))
    return out


def read_dataset(folder: str | os.PathLike[str]) -> tuple[np.ndarray, dict[str, Any]]:
    folder = Path(folder)
    meta_path = folder / META_FILE
    if not meta_path.is_file():
        raise InputError(f"{folder} is not a dataset folder (no {META_FILE}); build one with `genart-train dataset`.")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"Cannot read {meta_path}: {exc}.") from exc
    if not isinstance(meta, dict) or meta.get("format") != DATASET_FORMAT:
        raise InputError(f"{meta_path} is not a {DATASET_FORMAT} description.")
    images_path = folder / str(meta.get("images", IMAGES_FILE))
    try:
        images = np.load(images_path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise InputError(f"Cannot read the dataset images {images_path.name}: {exc}.") from exc
    resolution, channels = meta.get("resolution"), meta.get("channels", 3)
    if channels == 4 and meta.get("alpha") != CONVENTION:
        raise InputError(f"{meta_path} describes RGBA images without saying their alpha is {CONVENTION}.")
    if images.ndim != 4 or images.dtype != np.uint8 or channels not in (3, 4) \
            or images.shape[1:] != (resolution, resolution, channels):
        kind = "RGBA" if channels == 4 else "RGB"
        raise InputError(f"{images_path.name} holds {images.shape} {images.dtype}, not the "
                         f"{resolution}x{resolution} {kind} images that {META_FILE} describes.")
    if images.shape[0] != meta.get("count") or images.shape[0] == 0:
        raise InputError(f"{images_path.name} holds {images.shape[0]} images but {META_FILE} says {meta.get('count')}.")
    return images, meta
