"""Flat raster images: open any still image as a document or layer pixels, export the flattened canvas, and
dispatch saving and opening on the file extension."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
from PIL import Image

from genart_desktop.core.atomic import atomic_write_bytes
from genart_desktop.core.errors import InputError
from genart_desktop.core.images import flatten_alpha, open_image_rgba
from genart_desktop.document.document import Document
from genart_desktop.document.events import DocumentChange
from genart_desktop.document.layer import Layer

EXPORT_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP"}
IMPORT_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp")
ORA_EXTENSIONS = (".ora",)


def load_image_pixels(path: str | os.PathLike[str]) -> np.ndarray:
    """Any still image (any mode: palette, greyscale, 16-bit, CMYK...) as RGBA uint8; InputError if unusable."""
    return open_image_rgba(path)


def load_image_document(path: str | os.PathLike[str]) -> Document:
    """An image file as a one-layer document named after the file."""
    path = Path(path)
    pixels = open_image_rgba(path)
    doc = Document.from_layers(pixels.shape[1], pixels.shape[0], [Layer(path.stem or "Background", pixels)])
    doc.path = path
    doc.mark_clean()
    return doc


def encode_flat(doc: Document, fmt: str, quality: int = 95) -> bytes:
    """The flattened canvas encoded as PNG (keeps alpha), JPEG (on white) or WebP (lossless at quality 100)."""
    if not 1 <= int(quality) <= 100:
        raise InputError(f"Quality must be from 1 to 100, got {quality}.")
    doc._finish_stroke()
    merged = doc.composite()
    buffer = io.BytesIO()
    if fmt == "JPEG":
        Image.fromarray(flatten_alpha(merged), "RGB").save(buffer, "JPEG", quality=int(quality), optimize=True)
    elif fmt == "WEBP":
        Image.fromarray(merged, "RGBA").save(buffer, "WEBP", quality=int(quality), lossless=int(quality) >= 100)
    else:
        Image.fromarray(merged, "RGBA").save(buffer, "PNG", compress_level=6)
    return buffer.getvalue()


def export_format(path: str | os.PathLike[str]) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in EXPORT_FORMATS:
        raise InputError(f"Cannot export to {Path(path).name}: use .png, .jpg, .jpeg or .webp.")
    return EXPORT_FORMATS[suffix]


def export_flat(doc: Document, path: str | os.PathLike[str], quality: int = 95) -> None:
    """Write the flattened image atomically; the document keeps its own path and unsaved state."""
    atomic_write_bytes(path, encode_flat(doc, export_format(path), quality))


def save_document(doc: Document, path: str | os.PathLike[str]) -> None:
    """Save As: .ora keeps layers; a flat format flattens. Either way the document now belongs to ``path``."""
    from genart_desktop.document.io.ora import save_ora

    suffix = Path(path).suffix.lower()
    if suffix in ORA_EXTENSIONS:
        save_ora(doc, path)
        return
    export_flat(doc, path)
    doc.path = Path(path)
    doc.mark_clean()
    doc.changed.emit(DocumentChange("document", None))


def open_document(path: str | os.PathLike[str]) -> Document:
    """Open .ora with its layers, any other supported image as one layer."""
    from genart_desktop.document.io.ora import load_ora

    path = Path(path)  # each loader checks that it is a regular file (not a folder, pipe or device) and says why not
    if path.suffix.lower() in ORA_EXTENSIONS:
        return load_ora(path)
    return load_image_document(path)
