"""The Layers dock: the document's layer stack, top layer first, bound both ways.

Every edit goes through the document's undoable operations; the list is rebuilt from the document whenever it
reports a layer, active-layer or document change (so undo and redo show up here too).
"""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView, QCheckBox, QComboBox, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QToolButton,
    QVBoxLayout, QWidget,
)

from genart_desktop.core.errors import GenArtError
from genart_desktop.document.layer import BLEND_MODES
from genart_desktop.ui.binding import follow
from genart_desktop.ui.icons import icon
from genart_desktop.ui.qimage import thumbnail
from genart_desktop.ui.widgets import ValueSlider

THUMB = 40


def _checker_brush(cell: int = 4) -> QBrush:
    pixmap = QPixmap(cell * 2, cell * 2)
    pixmap.fill(QColor(200, 200, 200))
    painter = QPainter(pixmap)
    painter.fillRect(0, 0, cell, cell, QColor(150, 150, 150))
    painter.fillRect(cell, cell, cell, cell, QColor(150, 150, 150))
    painter.end()
    return QBrush(pixmap)


_CHECKER: QBrush | None = None


class LayerList(QListWidget):
    """A list whose drag-and-drop reorders through the document instead of moving items itself."""

    row_moved = Signal(int, int)  # from row, to row (rows count from the top of the list)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setIconSize(QSize(THUMB, THUMB))
        self.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked | QAbstractItemView.EditTrigger.EditKeyPressed)
        self.setSpacing(1)

    def dropEvent(self, event) -> None:
        source = self.currentRow()
        target_item = self.itemAt(event.position().toPoint())
        if target_item is None:
            insert_at = self.count()
        else:
            insert_at = self.row(target_item)
            if self.dropIndicatorPosition() == QAbstractItemView.DropIndicatorPosition.BelowItem:
                insert_at += 1
        destination = insert_at - 1 if insert_at > source else insert_at
        event.setDropAction(Qt.DropAction.IgnoreAction)
        event.accept()
        if source >= 0 and destination != source:
            self.row_moved.emit(source, max(0, min(destination, self.count() - 1)))


class LayersPanel(QWidget):
    error = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.document = None
        self._syncing = False
        self.list = LayerList()
        self.list.currentRowChanged.connect(self._on_current_row)
        self.list.itemChanged.connect(self._on_item_changed)
        self.list.row_moved.connect(self.move_row)

        self.opacity = ValueSlider("Opacity", 0, 100, 100, suffix=" %")
        self.opacity.value_committed.connect(lambda v: self._set_property(opacity=v / 100.0))
        self.blend = QComboBox()
        for mode in BLEND_MODES:
            self.blend.addItem(mode.capitalize(), mode)
        self.blend.currentIndexChanged.connect(lambda _i: self._set_property(blend_mode=self.blend.currentData()))
        self.lock = QCheckBox("Lock")
        self.lock.toggled.connect(lambda on: self._set_property(locked=bool(on)))

        blend_row = QHBoxLayout()
        blend_row.addWidget(QLabel("Blend"))
        blend_row.addWidget(self.blend, 1)
        blend_row.addWidget(self.lock)

        self.buttons: dict[str, QToolButton] = {}
        button_row = QHBoxLayout()
        button_row.setSpacing(2)
        for name, tip, slot in (
            ("layer_add", "New layer", self.add_layer),
            ("layer_duplicate", "Duplicate layer", self.duplicate_layer),
            ("layer_up", "Move layer up", lambda: self.raise_layer(1)),
            ("layer_down", "Move layer down", lambda: self.raise_layer(-1)),
            ("layer_merge", "Merge down", self.merge_down),
            ("layer_delete", "Delete layer", self.delete_layer),
        ):
            button = QToolButton()
            button.setIcon(icon(name))
            button.setToolTip(tip)
            button.setAutoRaise(True)
            button.clicked.connect(slot)
            self.buttons[name] = button
            button_row.addWidget(button)
        button_row.addStretch(1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(blend_row)
        layout.addWidget(self.opacity)
        layout.addWidget(self.list, 1)
        layout.addLayout(button_row)

        self._thumb_timer = QTimer(self)
        self._thumb_timer.setSingleShot(True)
        self._thumb_timer.setInterval(250)
        self._thumb_timer.timeout.connect(self.refresh_thumbnails)

    # ---------------------------------------------------------------- binding
    def set_document(self, document) -> None:
        self.document = follow(self.document, document, self._on_document_changed)
        self.refresh()

    def _on_document_changed(self, change) -> None:
        if change.kind in ("layers", "active", "document"):
            self.refresh()
        elif change.kind == "pixels":
            self._thumb_timer.start()

    def row_to_index(self, row: int) -> int:
        return len(self.document.layers) - 1 - row

    def index_to_row(self, index: int) -> int:
        return len(self.document.layers) - 1 - index

    def refresh(self) -> None:
        """Rebuild the list and the property controls from the document."""
        self._syncing = True
        try:
            self.list.clear()
            doc = self.document
            if doc is None:
                return
            for layer in reversed(doc.layers):
                item = QListWidgetItem(layer.name)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable | Qt.ItemFlag.ItemIsUserCheckable
                              | Qt.ItemFlag.ItemIsDragEnabled)
                item.setCheckState(Qt.CheckState.Checked if layer.visible else Qt.CheckState.Unchecked)
                item.setIcon(self._thumbnail(layer))
                tip = f"{layer.name}\n{layer.blend_mode}, {round(layer.opacity * 100)} %"
                if layer.locked:
                    tip += ", locked"
                item.setToolTip(tip)
                self.list.addItem(item)
            self.list.setCurrentRow(self.index_to_row(doc.active_index))
            active = doc.active_layer
            self.opacity.set_value(round(active.opacity * 100))
            self.blend.setCurrentIndex(max(0, self.blend.findData(active.blend_mode)))
            self.lock.setChecked(active.locked)
            self.buttons["layer_delete"].setEnabled(len(doc.layers) > 1)
            self.buttons["layer_merge"].setEnabled(doc.active_index > 0)
            self.buttons["layer_up"].setEnabled(doc.active_index < len(doc.layers) - 1)
            self.buttons["layer_down"].setEnabled(doc.active_index > 0)
        finally:
            self._syncing = False

    def refresh_thumbnails(self) -> None:
        if self.document is None:
            return
        for row, layer in enumerate(reversed(self.document.layers)):
            item = self.list.item(row)
            if item is not None:
                item.setIcon(self._thumbnail(layer))

    @staticmethod
    def _thumbnail(layer) -> QIcon:
        """The layer scaled into a square over a checkerboard, so transparent layers still show their content."""
        global _CHECKER
        if _CHECKER is None:
            _CHECKER = _checker_brush()
        image = thumbnail(layer.pixels, THUMB)
        size = image.size().scaled(THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio)
        pixmap = QPixmap(THUMB, THUMB)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        x, y = (THUMB - size.width()) // 2, (THUMB - size.height()) // 2
        target = QRect(x, y, size.width(), size.height())
        painter.fillRect(target, _CHECKER)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.drawImage(target, image)
        painter.setPen(QColor(20, 20, 22))
        painter.drawRect(target.adjusted(0, 0, -1, -1))
        painter.end()
        return QIcon(pixmap)

    # ---------------------------------------------------------------- user edits
    def _run(self, operation, *args, **kwargs):
        if self.document is None:
            return None
        try:
            return operation(*args, **kwargs)
        except GenArtError as exc:
            self.error.emit(str(exc))
            self.refresh()
            return None

    def _set_property(self, **values) -> None:
        if self._syncing or self.document is None:
            return
        self._run(self.document.set_layer_property, self.document.active_index, **values)

    def _on_current_row(self, row: int) -> None:
        if self._syncing or self.document is None or row < 0:
            return
        self._run(self.document.set_active, self.row_to_index(row))

    def _on_item_changed(self, item: QListWidgetItem) -> None:
        if self._syncing or self.document is None:
            return
        index = self.row_to_index(self.list.row(item))
        layer = self.document.layers[index]
        visible = item.checkState() == Qt.CheckState.Checked
        name = item.text().strip()
        changes = {}
        if visible != layer.visible:
            changes["visible"] = visible
        if name != layer.name:
            changes["name"] = name
        if changes:
            self._run(self.document.set_layer_property, index, **changes)
        else:
            self.refresh()

    def add_layer(self) -> None:
        self._run(self.document.add_layer)

    def duplicate_layer(self) -> None:
        self._run(self.document.duplicate_layer, self.document.active_index)

    def delete_layer(self) -> None:
        self._run(self.document.remove_layer, self.document.active_index)

    def merge_down(self) -> None:
        self._run(self.document.merge_down, self.document.active_index)

    def raise_layer(self, steps: int) -> None:
        doc = self.document
        if doc is None:
            return
        target = doc.active_index + steps
        if 0 <= target < len(doc.layers):
            self._run(doc.move_layer, doc.active_index, target)

    def move_row(self, from_row: int, to_row: int) -> None:
        """Reorder by list rows (what a drag in the list does)."""
        if self.document is None:
            return
        self._run(self.document.move_layer, self.row_to_index(from_row), self.row_to_index(to_row))

    def rename_active(self, name: str) -> None:
        self._run(self.document.set_layer_property, self.document.active_index, name=name)
