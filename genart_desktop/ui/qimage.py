"""numpy RGB(A) arrays to and from QImage. Always on the GUI thread; the QImage owns a copy of the pixels."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage


def rgba_to_qimage(pixels: np.ndarray, premultiply: bool = True) -> QImage:
    """A straight-alpha (H, W, 4) uint8 array as a QImage; premultiplied by default because that is what QPainter
    draws fastest."""
    array = np.ascontiguousarray(pixels)
    if array.dtype != np.uint8 or array.ndim != 3 or array.shape[2] != 4:
        raise ValueError(f"expected (H, W, 4) uint8, got {array.shape} {array.dtype}")
    height, width = array.shape[:2]
    image = QImage(array.data, width, height, width * 4, QImage.Format.Format_RGBA8888).copy()
    if premultiply:
        image = image.convertToFormat(QImage.Format.Format_RGBA8888_Premultiplied)
    return image


def rgb_to_qimage(rgb: np.ndarray) -> QImage:
    """(H, W, 3) uint8 (a fourth channel is ignored) -> a QImage that owns its pixels."""
    array = np.ascontiguousarray(rgb[..., :3], dtype=np.uint8)
    height, width = array.shape[:2]
    return QImage(array.data, width, height, width * 3, QImage.Format.Format_RGB888).copy()


def picture_to_qimage(pixels: np.ndarray) -> QImage:
    """A generated picture as a QImage: (H, W, 3) as RGB, (H, W, 4) as a cut-out that draws through its alpha (so a
    transparent ground shows what is behind it, not the black stored under it)."""
    array = np.asarray(pixels)
    return rgba_to_qimage(array) if array.ndim == 3 and array.shape[2] == 4 else rgb_to_qimage(array)


def qimage_to_rgba(image: QImage) -> np.ndarray:
    """A QImage (any format) as a straight-alpha (H, W, 4) uint8 array."""
    converted = image.convertToFormat(QImage.Format.Format_RGBA8888)
    width, height = converted.width(), converted.height()
    buffer = np.frombuffer(converted.constBits(), dtype=np.uint8, count=converted.sizeInBytes())
    rows = buffer.reshape(height, converted.bytesPerLine())
    return rows[:, : width * 4].reshape(height, width, 4).copy()


def thumbnail(pixels: np.ndarray, max_side: int) -> QImage:
    """A small preview of a layer (nearest sampling on a strided view: cheap enough to redo on every change)."""
    height, width = pixels.shape[:2]
    step = max(1, int(np.ceil(max(width, height) / max_side)))
    return rgba_to_qimage(pixels[::step, ::step])
