"""The style palette's preview area: an image scaled to fit, over a checkerboard where it is transparent."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QMargins, QRect, QSize, Qt
from PySide6.QtGui import QBrush, QColor, QImage, QPainter, QPaintEvent, QPixmap
from PySide6.QtWidgets import QSizePolicy, QWidget

from genart_desktop.ui.qimage import rgba_to_qimage

_MARGINS = QMargins(4, 4, 4, 4)


def _checker(cell: int = 6) -> QBrush:
    pixmap = QPixmap(cell * 2, cell * 2)
    pixmap.fill(QColor(92, 92, 98))
    painter = QPainter(pixmap)
    painter.fillRect(0, 0, cell, cell, QColor(70, 70, 76))
    painter.fillRect(cell, cell, cell, cell, QColor(70, 70, 76))
    painter.end()
    return QBrush(pixmap)


class StylePreviewView(QWidget):
    """Shows one RGBA image (or a short message) in the space it is given, keeping the aspect ratio."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._image: QImage | None = None
        self._message = ""
        self._dimmed = False
        self._checker: QBrush | None = None
        self.setMinimumSize(120, 120)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def sizeHint(self) -> QSize:
        return QSize(240, 200)

    def set_image(self, pixels: np.ndarray | None) -> None:
        self._image = None if pixels is None else rgba_to_qimage(np.ascontiguousarray(pixels))
        self._dimmed = False
        self.update()

    def set_message(self, text: str) -> None:
        self._message = text
        self.update()

    def set_dimmed(self, dimmed: bool) -> None:
        """A stale preview stays visible but dimmed while a newer one renders."""
        self._dimmed = dimmed
        self.update()

    def has_image(self) -> bool:
        return self._image is not None

    def image_size(self) -> tuple[int, int] | None:
        return None if self._image is None else (self._image.width(), self._image.height())

    def image_rect(self) -> QRect:
        if self._image is None:
            return QRect()
        size = self._image.size().scaled(self.size().shrunkBy(_MARGINS), Qt.AspectRatioMode.KeepAspectRatio)
        return QRect((self.width() - size.width()) // 2, (self.height() - size.height()) // 2,
                     size.width(), size.height())

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(36, 36, 39))
        if self._image is not None:
            target = self.image_rect()
            if self._checker is None:
                self._checker = _checker()
            painter.fillRect(target, self._checker)
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            painter.setOpacity(0.45 if self._dimmed else 1.0)
            painter.drawImage(target, self._image)
            painter.setOpacity(1.0)
        if self._message:
            painter.setPen(QColor(190, 196, 206))
            box = self.rect().adjusted(10, 10, -10, -10)
            flags = Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap
            if self._image is not None:
                bounds = painter.boundingRect(box, flags, self._message).adjusted(-6, -3, 6, 3)
                painter.fillRect(bounds, QColor(20, 20, 22, 200))
            painter.drawText(box, flags, self._message)
        painter.end()

