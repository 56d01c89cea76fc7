"""Bookmarks of the current model: add, tick (for breeding and paths), go to, delete."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from genart_desktop.engine.latent.bookmarks import Bookmark
from genart_desktop.ui.latent_host import ExplorerHost
from genart_desktop.ui.qimage import picture_to_qimage
from genart_desktop.ui.widgets import button


THUMBNAIL_SIDE = 40


class BookmarksTab(QWidget):
    def __init__(self, host: ExplorerHost, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.host = host
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        self.name = QLineEdit()
        self.name.setPlaceholderText("Bookmark name")
        self.add_button = button("Bookmark", "Remember the current image (saved with the document and in your "
                                 "library)", self.add)
        row.addWidget(self.name, 1)
        row.addWidget(self.add_button)
        layout.addLayout(row)
        self.list = QListWidget()
        self.list.setToolTip("Tick bookmarks to crossbreed them or to animate a path through them (in list "
                             "order); double-click to go there")
        self.list.itemDoubleClicked.connect(lambda item: self.recall(item.data(Qt.ItemDataRole.UserRole)))
        self.list.setMinimumHeight(120)
        self.list.setIconSize(QSize(THUMBNAIL_SIDE, THUMBNAIL_SIDE))
        self.hint = QLabel("Tick two or more bookmarks to breed them (Breed) or to animate a path through them "
                           "(Animate).")
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color: #9aa4b2;")
        layout.addWidget(self.hint)
        layout.addWidget(self.list)
        buttons = QHBoxLayout()
        buttons.addWidget(button("Go to", "Make the selected bookmark the centre", self._recall_selected))
        buttons.addWidget(button("Delete", "Delete the selected bookmark", self._delete_selected))
        layout.addLayout(buttons)

    def show_bookmarks(self, marks: Sequence[Bookmark]) -> None:
        ticked = set(self.ticked())
        self.list.clear()
        for mark in marks:
            item = QListWidgetItem(mark.name + (f"  (seed {mark.seed})" if mark.seed is not None else ""))
            item.setData(Qt.ItemDataRole.UserRole, mark.bookmark_id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if mark.bookmark_id in ticked else Qt.CheckState.Unchecked)
            self.list.addItem(item)
        self.host.controller.request_thumbnails(list(marks))

    def show_thumbnails(self, result: Any) -> None:
        """The rendered bookmarks (in list order) as the items' icons."""
        images = np.asarray(result.images)
        if len(images) != self.list.count():
            return  # the list changed since: a newer render is on its way
        for row, image in enumerate(images):
            self.list.item(row).setIcon(QIcon(QPixmap.fromImage(picture_to_qimage(image)).scaled(
                THUMBNAIL_SIDE, THUMBNAIL_SIDE, Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation)))

    def ticked(self) -> list[str]:
        """Ids of the ticked bookmarks, in list order."""
        ids = []
        for row in range(self.list.count()):
            item = self.list.item(row)
            if item.checkState() == Qt.CheckState.Checked:
                ids.append(item.data(Qt.ItemDataRole.UserRole))
        return ids

    def tick(self, bookmark_ids: Sequence[str]) -> None:
        for row in range(self.list.count()):
            item = self.list.item(row)
            wanted = item.data(Qt.ItemDataRole.UserRole) in bookmark_ids
            item.setCheckState(Qt.CheckState.Checked if wanted else Qt.CheckState.Unchecked)

    def add(self, name: str | None = None) -> Any:
        text = self.name.text() if name is None else name
        mark = self.host.call(lambda: self.host.controller.bookmarks.add(text, self.host.document()))
        if mark is not None:
            self.name.clear()
            self.host.set_status(f"Bookmarked \u201c{mark.name}\u201d.")
        return mark

    def recall(self, bookmark_id: str) -> None:
        self.host.attempt(lambda: self.host.controller.bookmarks.recall(bookmark_id, self.host.document()))

    def _selected_id(self) -> str | None:
        item = self.list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    def _recall_selected(self) -> None:
        bookmark_id = self._selected_id()
        if bookmark_id is not None:
            self.recall(bookmark_id)

    def _delete_selected(self) -> None:
        bookmark_id = self._selected_id()
        if bookmark_id is not None:
            self.host.attempt(lambda: self.host.controller.bookmarks.delete(bookmark_id, self.host.document()))
