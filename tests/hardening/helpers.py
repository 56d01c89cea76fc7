"""Shared checks for the hardening suite: snapshots of folders and documents, and the app's open-as-layer path."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from genart_desktop.document import Document
from genart_desktop.document.io.raster import load_image_pixels, open_document

SETTINGS = {"execution_provider": "cpu", "intra_op_threads": 1, "session_cache_size": 2}


def tree_digest(folder: str | os.PathLike[str]) -> dict[str, str]:
    """Every entry below ``folder``: file -> sha256, link -> its target, folder -> "dir" (links are not followed)."""
    folder = Path(folder)
    found: dict[str, str] = {}
    for root, dirs, files in os.walk(folder, followlinks=False):
        for name in dirs + files:
            path = Path(root) / name
            key = str(path.relative_to(folder))
            if path.is_symlink():
                found[key] = "link->" + os.readlink(path)
            elif path.is_dir():
                found[key] = "dir"
            else:
                found[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def sample_document() -> Document:
    """A small document with some history, a selection and two layers: the state a failed open must not touch."""
    doc = Document(24, 16)
    doc.add_layer("Sketch")
    doc.active_layer  # noqa: B018 - property access only
    doc.fill(3, 3, (200, 10, 10, 255))
    doc.select_rect(_rect(2, 2, 10, 8))
    return doc


def _rect(x: int, y: int, w: int, h: int) -> Any:
    from genart_desktop.document.geometry import Rect

    return Rect(x, y, w, h)


def document_state(doc: Document) -> tuple:
    layers = tuple((layer.name, layer.opacity, layer.visible, layer.blend_mode, layer.locked,
                    hashlib.sha256(np.ascontiguousarray(layer.pixels).tobytes()).hexdigest())
                   for layer in doc.layers)
    return (doc.width, doc.height, layers, doc.active_index, doc.history.undo_count, doc.history.redo_count,
            doc.dirty, doc.path, hashlib.sha256(np.ascontiguousarray(doc.selection.mask).tobytes()).hexdigest(),
            hashlib.sha256(doc.composite().tobytes()).hexdigest())


def open_as_layer(doc: Document, path: str | os.PathLike[str]) -> Any:
    """What File > Open as Layer does (ui/main_window.py), without Qt: decode first, then one undoable add."""
    path = Path(path)
    pixels = open_document(path).composite() if path.suffix.lower() == ".ora" else load_image_pixels(path)
    height, width = pixels.shape[:2]
    origin = ((doc.width - width) // 2, (doc.height - height) // 2)
    return doc.add_layer(name=path.stem, pixels=pixels, origin=origin)


def assert_clear_message(message: str, names: list[str], reason: str) -> None:
    """The message names the file (one of ``names``) and says what is wrong (``reason``, a regex)."""
    assert any(name and name in message for name in names), f"no file name {names} in: {message}"
    if reason:
        assert re.search(reason, message, re.IGNORECASE | re.DOTALL), f"{reason!r} not in: {message}"
    assert "Traceback" not in message and len(message) < 2000
