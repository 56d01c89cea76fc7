"""Edit > Copy, Copy merged and Paste as new layer through the system clipboard, so images move to and from other
programs. The pixels themselves are decided by :mod:`genart_desktop.workspace.clipboard`."""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication, QImage

from genart_desktop.core.errors import InputError
from genart_desktop.document.document import Document
from genart_desktop.document.layer import Layer
from genart_desktop.ui.qimage import qimage_to_rgba, rgba_to_qimage
from genart_desktop.workspace.clipboard import copied_pixels, paste_as_layer


def copy_image(doc: Document, merged: bool = False) -> tuple[int, int]:
    """Put the active layer (or the merged image) inside the selection on the clipboard; returns its size."""
    pixels = copied_pixels(doc, merged)
    QGuiApplication.clipboard().setImage(rgba_to_qimage(pixels, premultiply=False))
    return pixels.shape[1], pixels.shape[0]


def clipboard_image() -> QImage | None:
    """The clipboard's image (copied here or in another program), or None."""
    image = QGuiApplication.clipboard().image()
    return None if image.isNull() else image


def paste_image(doc: Document) -> Layer:
    """Add the clipboard's image as a new layer; InputError when the clipboard holds no image."""
    image = clipboard_image()
    if image is None:
        raise InputError("The clipboard holds no image to paste.")
    return paste_as_layer(doc, qimage_to_rgba(image))
