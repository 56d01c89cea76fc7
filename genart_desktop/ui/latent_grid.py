"""A grid of rendered latent images that reports which cell was clicked (neighbour grid, children strip)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from genart_desktop.ui.qimage import picture_to_qimage

GAP = 4


class ImageGrid(QWidget):
    """``columns`` square cells filled row by row; images are drawn smoothly scaled; one cell may be marked."""

    cell_clicked = Signal(int)

    def __init__(self, columns: int = 3, marked: int | None = None, min_cell: int = 40,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._columns = columns
        self._images: list[QImage] = []
        self._count = columns * columns
        self._marked = marked
        self._hover = -1
        self._min_cell = min_cell
        self._busy = False
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    # -- content ---------------------------------------------------------------------------------------------------
    def set_layout(self, columns: int, count: int, marked: int | None = None) -> None:
        self._columns, self._count, self._marked = max(1, columns), max(0, count), marked
        self._images = self._images[: self._count]
        self.updateGeometry()
        self.update()

    def set_images(self, images: np.ndarray | list[np.ndarray]) -> None:
        self._images = [picture_to_qimage(img) for img in images]
        self._count = max(self._count, len(self._images))
        self._busy = False
        self.update()

    def set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.update()

    def image_count(self) -> int:
        return len(self._images)

    @property
    def columns(self) -> int:
        return self._columns

    # -- geometry --------------------------------------------------------------------------------------------------
    def _rows(self) -> int:
        return max(1, -(-self._count // self._columns))

    def _cell_size(self, width: int | None = None) -> int:
        width = self.width() if width is None else width
        return max(self._min_cell, (width - GAP * (self._columns - 1)) // self._columns)

    def cell_rect(self, index: int) -> QRect:
        size = self._cell_size()
        row, col = divmod(index, self._columns)
        total = size * self._columns + GAP * (self._columns - 1)
        left = max(0, (self.width() - total) // 2)
        return QRect(left + col * (size + GAP), row * (size + GAP), size, size)

    def index_at(self, point: QPoint) -> int:
        for index in range(self._count):
            if self.cell_rect(index).contains(point):
                return index
        return -1

    def hasHeightForWidth(self) -> bool:  # noqa: N802 - Qt API
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802 - Qt API
        rows = self._rows()
        return rows * self._cell_size(width) + GAP * (rows - 1)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        width = max(240, self._columns * 80)
        return QSize(width, self.heightForWidth(width))

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt API
        width = self._columns * self._min_cell + GAP * (self._columns - 1)
        return QSize(width, self.heightForWidth(width))

    # -- events ----------------------------------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt API
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        for index in range(self._count):
            rect = self.cell_rect(index)
            painter.fillRect(rect, QColor(36, 36, 39))  # the cell, also behind a cut-out's transparent ground
            if index < len(self._images):
                painter.drawImage(rect, self._images[index])
            if self._busy:
                painter.fillRect(rect, QColor(0, 0, 0, 70))
            if index == self._marked:
                painter.setPen(QPen(QColor(74, 144, 226), 3))
                painter.drawRect(rect.adjusted(1, 1, -2, -2))
            elif index == self._hover:
                painter.setPen(QPen(QColor(220, 220, 230, 180), 2))
                painter.drawRect(rect.adjusted(1, 1, -2, -2))
        painter.end()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        hover = self.index_at(event.position().toPoint())
        if hover != self._hover:
            self._hover = hover
            self.update()

    def leaveEvent(self, event) -> None:  # noqa: N802 - Qt API
        self._hover = -1
        self.update()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        if event.button() != Qt.MouseButton.LeftButton:
            return
        index = self.index_at(event.position().toPoint())
        if 0 <= index < len(self._images):
            self.cell_clicked.emit(index)
