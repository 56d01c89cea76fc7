"""The grid of style cards: a thumbnail and a name per style model; a click chooses the style."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QListView, QListWidget, QListWidgetItem, QWidget

from genart_desktop.ui.qimage import rgba_to_qimage

ICON = 72
CELL = QSize(ICON + 18, ICON + 34)
MODEL_ID_ROLE = Qt.ItemDataRole.UserRole


def placeholder_icon(name: str) -> QIcon:
    """A grey tile with the style's initial, shown until its thumbnail has been loaded or rendered."""
    pixmap = QPixmap(ICON, ICON)
    pixmap.fill(QColor(58, 58, 64))
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QColor(150, 156, 168))
    font = QFont()
    font.setPixelSize(ICON // 2)
    font.setBold(True)
    painter.setFont(font)
    painter.drawText(QRect(0, 0, ICON, ICON), Qt.AlignmentFlag.AlignCenter, (name[:1] or "?").upper())
    painter.end()
    return QIcon(pixmap)


def thumbnail_icon(pixels: np.ndarray) -> QIcon:
    """An RGBA thumbnail centred on a square tile (so cards line up whatever the image's aspect ratio)."""
    image = rgba_to_qimage(np.ascontiguousarray(pixels))
    scaled = image.scaled(ICON, ICON, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
    pixmap = QPixmap(ICON, ICON)
    pixmap.fill(QColor(36, 36, 39))
    painter = QPainter(pixmap)
    painter.drawImage((ICON - scaled.width()) // 2, (ICON - scaled.height()) // 2, scaled)
    painter.end()
    return QIcon(pixmap)


class StyleGrid(QListWidget):
    """Style models as cards that wrap to the dock's width; ``style_chosen(model_id)`` on click or keyboard."""

    style_chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setIconSize(QSize(ICON, ICON))
        self.setGridSize(CELL)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setWrapping(True)
        self.setWordWrap(True)
        self.setUniformItemSizes(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.setMinimumHeight(CELL.height() + 8)
        self.itemClicked.connect(self._clicked)
        self.itemActivated.connect(self._clicked)
        self.currentItemChanged.connect(lambda item, _previous: self._keyboard(item))

    def set_models(self, models: list[tuple[str, str, str]]) -> None:
        """``models`` as ``(model_id, name, description)``; the current choice is kept when still present."""
        current = self.current_model()
        self.blockSignals(True)
        self.clear()
        for model_id, name, description in models:
            item = QListWidgetItem(placeholder_icon(name), name)
            item.setData(MODEL_ID_ROLE, model_id)
            item.setToolTip(f"<b>{name}</b><br>{description}" if description else name)
            item.setTextAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
            item.setSizeHint(CELL)
            self.addItem(item)
            if model_id == current:
                self.setCurrentItem(item)
        self.blockSignals(False)

    def set_thumbnail(self, model_id: str, pixels: np.ndarray) -> bool:
        item = self.item_for(model_id)
        if item is None:
            return False
        item.setIcon(thumbnail_icon(pixels))
        return True

    def item_for(self, model_id: str) -> QListWidgetItem | None:
        for row in range(self.count()):
            item = self.item(row)
            if item.data(MODEL_ID_ROLE) == model_id:
                return item
        return None

    def model_ids(self) -> list[str]:
        return [self.item(row).data(MODEL_ID_ROLE) for row in range(self.count())]

    def current_model(self) -> str | None:
        item = self.currentItem()
        return item.data(MODEL_ID_ROLE) if item is not None else None

    def select_model(self, model_id: str) -> None:
        """Mark a style as chosen without emitting (the model changed, not the user)."""
        item = self.item_for(model_id)
        if item is not None:
            self.blockSignals(True)
            self.setCurrentItem(item)
            self.blockSignals(False)

    def _clicked(self, item: QListWidgetItem) -> None:
        if item is not None:
            self.style_chosen.emit(item.data(MODEL_ID_ROLE))

    def _keyboard(self, item: QListWidgetItem | None) -> None:
        # arrow keys move the current item: preview that style too (mouse clicks arrive through itemClicked)
        if item is not None and self.hasFocus() and not self.underMouse():
            self.style_chosen.emit(item.data(MODEL_ID_ROLE))
