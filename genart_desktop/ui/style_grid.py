"""The grid of style cards: a thumbnail and a name per style (fixed networks, the arbitrary model's paintings, the
user's own pictures). A click chooses one style, Ctrl+click adds or removes one of a blend (2 to 4); the user's own
styles have a context menu to rename or remove them."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QItemSelectionModel, QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QListView,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QWidget,
)

from genart_desktop.ui.qimage import rgba_to_qimage

ICON = 72
CELL = QSize(ICON + 18, ICON + 34)
MODEL_ID_ROLE = Qt.ItemDataRole.UserRole
KIND_ROLE = Qt.ItemDataRole.UserRole + 1
MAX_SELECTED = 4  # styles one blend may hold
KIND_NOTES = {"preset": "Painting (arbitrary style model)", "user": "Your style (right-click to rename or remove)"}
# A corner mark tells a painting of the arbitrary model ("A") and the user's own styles (a star) from the fixed
# networks, which may carry the same painting's name.
KIND_BADGES = {"preset": "A", "user": "\u2605"}


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


def thumbnail_icon(pixels: np.ndarray, badge: str | None = None) -> QIcon:
    """An RGBA thumbnail centred on a square tile (so cards line up whatever the image's aspect ratio), with an
    optional ``badge`` letter in its corner."""
    image = rgba_to_qimage(np.ascontiguousarray(pixels))
    scaled = image.scaled(ICON, ICON, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
    pixmap = QPixmap(ICON, ICON)
    pixmap.fill(QColor(36, 36, 39))
    painter = QPainter(pixmap)
    painter.drawImage((ICON - scaled.width()) // 2, (ICON - scaled.height()) // 2, scaled)
    if badge:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        corner = QRect(ICON - 20, ICON - 20, 18, 18)
        painter.setBrush(QColor(20, 20, 24, 220))
        painter.setPen(QColor(200, 206, 216))
        painter.drawRoundedRect(corner, 4, 4)
        font = QFont()
        font.setPixelSize(12)
        font.setBold(True)
        painter.setFont(font)
        painter.drawText(corner, Qt.AlignmentFlag.AlignCenter, badge)
    painter.end()
    return QIcon(pixmap)


class StyleGrid(QListWidget):
    """Styles as cards that wrap to the dock's width. ``styles_chosen(list)`` gives the chosen styles in the order
    they were picked (one on a plain click or the keyboard, up to four with Ctrl+click); ``too_many()`` when a fifth
    was refused; ``remove_requested(choice)`` / ``rename_requested(choice)`` from a user style's context menu."""

    styles_chosen = Signal(list)
    too_many = Signal()
    remove_requested = Signal(str)
    rename_requested = Signal(str)

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
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self._order: list[str] = []  # the selected styles in the order they were picked
        self._pressing = False
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._context_menu)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.setMinimumHeight(CELL.height() + 8)
        self.itemClicked.connect(self._clicked)
        self.itemActivated.connect(self._clicked)
        self.currentItemChanged.connect(lambda item, _previous: self._keyboard(item))

    def set_models(self, models: list[tuple[str, ...]]) -> None:
        """``models`` as ``(choice, name, description[, kind])``; the chosen styles are kept when still present."""
        chosen = self.chosen()
        self.blockSignals(True)
        self.clear()
        for model_id, name, description, *rest in models:
            kind = rest[0] if rest else "network"
            item = QListWidgetItem(placeholder_icon(name), name)
            item.setData(MODEL_ID_ROLE, model_id)
            item.setData(KIND_ROLE, kind)
            note = "<br>".join(text for text in (KIND_NOTES.get(kind, ""), description) if text)
            item.setToolTip(f"<b>{name}</b><br>{note}" if note else name)
            item.setTextAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
            item.setSizeHint(CELL)
            self.addItem(item)
        self.blockSignals(False)
        self.select_models([choice for choice in chosen if self.item_for(choice) is not None])

    def set_thumbnail(self, model_id: str, pixels: np.ndarray) -> bool:
        item = self.item_for(model_id)
        if item is None:
            return False
        item.setIcon(thumbnail_icon(pixels, KIND_BADGES.get(item.data(KIND_ROLE))))
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

    def kind_of(self, choice: str) -> str | None:
        item = self.item_for(choice)
        return item.data(KIND_ROLE) if item is not None else None

    def chosen(self) -> list[str]:
        """The selected styles, in the order they were picked."""
        selected = {item.data(MODEL_ID_ROLE) for item in self.selectedItems()}
        ordered = [choice for choice in self._order if choice in selected]
        return ordered + sorted(selected - set(ordered))

    def select_model(self, model_id: str) -> None:
        """Mark one style as chosen without emitting (the controller changed, not the user)."""
        self.select_models([model_id])

    def select_models(self, choices: list[str]) -> None:
        """Mark these styles as chosen, in this order, without emitting."""
        self.blockSignals(True)
        self.clearSelection()
        for choice in choices:
            item = self.item_for(choice)
            if item is not None:
                item.setSelected(True)
                self.setCurrentItem(item, QItemSelectionModel.SelectionFlag.NoUpdate)
        self._order = [choice for choice in choices if self.item_for(choice) is not None]
        self.blockSignals(False)

    def _clicked(self, item: QListWidgetItem) -> None:
        if item is None:
            return
        choice = item.data(MODEL_ID_ROLE)
        selected = {i.data(MODEL_ID_ROLE) for i in self.selectedItems()}
        order = [c for c in self._order if c in selected]
        order += [c for c in sorted(selected) if c not in order]
        if len(order) > MAX_SELECTED:  # a fifth style: refuse it, keep the four
            order = [c for c in order if c != choice][:MAX_SELECTED]
            self.select_models(order)
            self.too_many.emit()
        else:
            self._order = order
        if order:
            self.styles_chosen.emit(order)

    def mousePressEvent(self, event) -> None:
        self._pressing = True  # the current item moves with a click too; the click is handled by _clicked
        try:
            super().mousePressEvent(event)
        finally:
            self._pressing = False

    def _keyboard(self, item: QListWidgetItem | None) -> None:
        # arrow keys move the current item: preview that style too (mouse clicks arrive through itemClicked)
        if item is not None and self.hasFocus() and not self._pressing:
            self._order = [item.data(MODEL_ID_ROLE)]
            self.styles_chosen.emit(list(self._order))

    def _context_menu(self, position: QPoint) -> None:
        item = self.itemAt(position)
        if item is None or item.data(KIND_ROLE) != "user":
            return
        choice = item.data(MODEL_ID_ROLE)
        menu = QMenu(self)
        menu.addAction("Rename\u2026", lambda: self.rename_requested.emit(choice))
        menu.addAction("Remove style", lambda: self.remove_requested.emit(choice))
        menu.exec(self.viewport().mapToGlobal(position))
