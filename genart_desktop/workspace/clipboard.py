"""What Edit > Copy, Copy merged and Paste as new layer take from and give to the document, Qt-free.

Why here: the pixels a copy holds (the active layer or the merged image, cut to the selection with its soft edge) and
where a paste lands (over the selection it came from when it fits, else centred) are the document's business; the
window only moves the array to and from the system clipboard.
"""

from __future__ import annotations

import numpy as np

from genart_desktop.core.errors import InputError
from genart_desktop.document.document import Document
from genart_desktop.document.geometry import Rect
from genart_desktop.document.layer import Layer

MAX_PASTE_PIXELS = 64 * 1024 * 1024


def copied_pixels(doc: Document, merged: bool = False) -> np.ndarray:
    """(h, w, 4) uint8: the active layer (or everything visible, ``merged``) inside the selection's bounds with the
    selection's soft edge in the alpha, or the whole canvas when nothing is selected."""
    doc._finish_stroke()
    bounds = doc.selection.bounds() if not doc.selection.is_empty else None
    rect = bounds if bounds is not None else Rect(0, 0, doc.width, doc.height)
    source = doc.composite() if merged else doc.active_layer.pixels
    pixels = np.array(source[rect.slices()], np.uint8)
    if bounds is not None:
        coverage = doc.selection.mask[rect.slices()].astype(np.uint16)
        pixels[..., 3] = (pixels[..., 3].astype(np.uint16) * coverage // 255).astype(np.uint8)
    if not pixels[..., 3].any():
        raise InputError("Nothing to copy: the selected part of the layer is empty.")
    return pixels


def paste_as_layer(doc: Document, pixels: np.ndarray, name: str = "Pasted") -> Layer:
    """Add ``pixels`` as a new layer (one undoable step): over the selection when it has the same size (a copy
    pasted back lands where it came from), else centred on the canvas."""
    pixels = np.asarray(pixels, np.uint8)
    if pixels.ndim != 3 or pixels.shape[2] != 4 or pixels.shape[0] * pixels.shape[1] > MAX_PASTE_PIXELS:
        raise InputError("The clipboard image is too large or not an image.")
    height, width = pixels.shape[:2]
    bounds = doc.selection.bounds() if not doc.selection.is_empty else None
    if bounds is not None and (bounds.width, bounds.height) == (width, height):
        origin = (bounds.x, bounds.y)
    else:
        origin = ((doc.width - width) // 2, (doc.height - height) // 2)
    return doc.add_layer(name=name, pixels=pixels, origin=origin)
