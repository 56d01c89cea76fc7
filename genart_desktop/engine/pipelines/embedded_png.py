"""Small pictures carried inside a recipe as base64 PNG text (region masks, control sketches): one writer and one
checked reader, so every embedded picture has the same caps and the same one-line refusals."""

from __future__ import annotations

import base64
import binascii
import io

import numpy as np

from genart_desktop.core.errors import InputError


def to_png_text(array: np.ndarray, mode: str) -> str:
    """An ``L`` or ``RGB`` uint8 array as base64 PNG text."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(array, mode).save(buffer, format="PNG", optimize=True)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def from_png_text(text: str, mode: str, max_side: int, label: str, stored: str) -> np.ndarray:
    """The picture in ``text`` as a ``mode`` uint8 array; InputError naming ``label`` (e.g. "a region's mask") when
    it is not base64 (then ``stored`` names it), not a PNG, or larger than ``max_side``."""
    from genart_desktop.core.images import open_image

    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise InputError(f"{stored} is not valid base64 text.") from None
    with open_image(data, max_pixels=max_side * max_side, name=label) as image:
        if image.format != "PNG" or max(image.size) > max_side:
            raise InputError(f"{label[0].upper()}{label[1:]} must be a PNG of at most {max_side} pixels a side.")
        return np.asarray(image.convert(mode), np.uint8)
