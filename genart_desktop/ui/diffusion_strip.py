"""The two image lists of the diffusion dock: the staging strip (results waiting to be accepted, previews updating
live) and the history (past recipes with thumbnails). Both only show what the controller holds."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QListView, QListWidget, QListWidgetItem, QWidget

from genart_desktop.ui.qimage import picture_to_qimage
from genart_desktop.workspace.diffusion import HistoryItem, StagedResult

ID_ROLE = Qt.ItemDataRole.UserRole
STATE_TEXT = {"queued": "queued", "failed": "failed", "cancelled": "cancelled"}


def _pixmap(image: np.ndarray | None, side: int, progress: float | None = None) -> QPixmap:
    """``image`` fitted into a ``side`` square (smoothly scaled; nearest when enlarging a tiny image, so a 16 px
    preview stays crisp), with a progress bar along the bottom while it is being made. A cut-out (RGBA) is drawn
    through its alpha over the strip's background, as it will land on the painting."""
    canvas = QPixmap(side, side)
    canvas.fill(QColor(40, 44, 52))
    painter = QPainter(canvas)
    if image is not None:
        picture = QPixmap.fromImage(picture_to_qimage(image))
        smooth = picture.width() >= side or picture.height() >= side
        scaled = picture.scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio,
                                Qt.TransformationMode.SmoothTransformation if smooth
                                else Qt.TransformationMode.FastTransformation)
        painter.drawPixmap((side - scaled.width()) // 2, (side - scaled.height()) // 2, scaled)
    if progress is not None:
        painter.fillRect(0, side - 5, side, 5, QColor(20, 22, 26))
        painter.fillRect(0, side - 5, round(side * max(0.0, min(1.0, progress))), 5, QColor(90, 160, 255))
    painter.end()
    return canvas


def _icon(pixmap: QPixmap) -> QIcon:
    """The same picture in every mode: a selected thumbnail is framed by the view, never tinted."""
    icon = QIcon()
    for mode in (QIcon.Mode.Normal, QIcon.Mode.Selected, QIcon.Mode.Active):
        icon.addPixmap(pixmap, mode)
    return icon


class StagingStrip(QListWidget):
    """A horizontal strip of staged results; the item text shows the seed and the state or progress."""

    def __init__(self, side: int = 112, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.side = side
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(False)
        self.setMovement(QListView.Movement.Static)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setIconSize(QSize(side, side))
        self.setSpacing(4)
        self.setUniformItemSizes(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFixedHeight(side + 58)

    def _item(self, result_id: int) -> QListWidgetItem | None:
        for row in range(self.count()):
            item = self.item(row)
            if item.data(ID_ROLE) == result_id:
                return item
        return None

    def sync(self, entries: Iterable[StagedResult]) -> None:
        """Show exactly ``entries`` (in order), keeping the selection when it survives."""
        entries = list(entries)
        selected = self.selected_id()
        wanted = [e.id for e in entries]
        for row in reversed(range(self.count())):
            if self.item(row).data(ID_ROLE) not in wanted:
                self.takeItem(row)
        for index, entry in enumerate(entries):
            item = self._item(entry.id)
            if item is None:
                item = QListWidgetItem()
                item.setData(ID_ROLE, entry.id)
                item.setTextAlignment(Qt.AlignmentFlag.AlignHCenter)
                self.insertItem(index, item)
            self.update_entry(entry)
        if selected in wanted:
            self.select(selected)
        elif self.count() and self.selected_id() is None:
            self.setCurrentRow(self.count() - 1)

    def update_entry(self, entry: StagedResult) -> None:
        item = self._item(entry.id)
        if item is None:
            return
        running = entry.state in ("queued", "running")
        item.setIcon(_icon(_pixmap(entry.image, self.side, entry.progress if running else None)))
        if entry.state == "running":
            state = f"{entry.progress * 100:.0f} %"
        elif entry.state == "done":
            state = f"{entry.recipe.width}\u00d7{entry.recipe.height}"
        else:
            state = STATE_TEXT.get(entry.state, entry.state)
        item.setText(f"seed {entry.recipe.seed}\n{state}")
        item.setToolTip(entry.message or entry.label)

    def selected_id(self) -> int | None:
        item = self.currentItem()
        return None if item is None or not item.isSelected() else int(item.data(ID_ROLE))

    def select(self, result_id: int) -> None:
        item = self._item(result_id)
        if item is not None:
            self.setCurrentItem(item)

    def step(self, offset: int) -> None:
        """Choose the result ``offset`` places along (wrapping), for the canvas's arrow keys and the dock's arrows."""
        if self.count():
            row = self.currentRow() if self.selected_id() is not None else -1 if offset > 0 else 0
            self.setCurrentRow((row + offset) % self.count())


class HistoryList(QListWidget):
    """Past results, newest first: a thumbnail, the prompt and the settings on two lines."""

    def __init__(self, side: int = 44, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.side = side
        self.setIconSize(QSize(side, side))
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setWordWrap(True)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

    def sync(self, items: Iterable[HistoryItem]) -> None:
        items = list(items)
        selected = self.selected_id()
        self.clear()
        for entry in items:
            item = QListWidgetItem(_icon(_pixmap(entry.thumbnail, self.side)), f"{entry.title}\n{entry.summary}")
            item.setData(ID_ROLE, entry.id)
            item.setToolTip(entry.recipe.describe())
            self.addItem(item)
            if entry.id == selected:
                self.setCurrentItem(item)

    def selected_id(self) -> int | None:
        item = self.currentItem()
        return None if item is None or not item.isSelected() else int(item.data(ID_ROLE))
