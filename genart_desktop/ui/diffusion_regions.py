"""The Regions box of the Diffusion dock: the document's regional prompts, one row each with its own prompt.

Rows are made from the selection or from the active layer's alpha and edit the document's :class:`PromptRegions`
(the generation reads them when it is queued); each edit (add, remove, a name or prompt cell committed once per
editing session) is one undo step of the document, and the list follows the document's ``regions`` changes, undo
included. While
the list has focus, the chosen region is offered as a tinted patch (:meth:`RegionsBox.highlight`) for the canvas.
It is a collapsible section of the dock, folded while unused, opened when a region is added; the header counts the
regions ("Regions: 2").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import shiboken6
from PySide6.QtCore import QEvent, QObject, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from genart_desktop.core.errors import GenArtError
from genart_desktop.document.document import Document
from genart_desktop.ui.binding import follow
from genart_desktop.ui.collapsible import CollapsibleSection
from genart_desktop.workspace.diffusion_regions import layer_region, selection_region

NAME_COLUMN, PROMPT_COLUMN = 0, 1
TINT = (64, 200, 255)  # the highlight's colour, drawn at TINT_ALPHA of the mask over the canvas
TINT_ALPHA = 0.45


class RegionsBox(CollapsibleSection):
    """Regional prompts: add from the selection or a layer's alpha, name them, type each one's prompt, remove."""

    message = Signal(str, bool)  # (text, is_error) for the dock's status line
    highlight_changed = Signal()  # the list gained or lost focus, or another region was chosen

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Regions", "diffusion-regions", parent=parent)
        self._document: Document | None = None
        self._count = 0  # the regions last shown: more of them opens the section
        self._filling = False
        self._tint: tuple[Any, np.ndarray, tuple[int, int]] | None = None  # (region, patch, origin) last drawn
        self.setToolTip("Each region follows its own prompt; the main prompt fills the rest of the picture")
        layout = self.content
        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels(["Region", "Prompt"])
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(PROMPT_COLUMN, QHeaderView.ResizeMode.Stretch)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setMaximumHeight(150)
        self.table.itemChanged.connect(self._item_edited)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.itemSelectionChanged.connect(self.highlight_changed)
        self.table.installEventFilter(self)
        layout.addWidget(self.table)
        row = QHBoxLayout()
        self.selection_button = self._button("From selection", "Add the selection as a region",
                                             self.add_from_selection)
        self.layer_button = self._button("From layer alpha", "Add the active layer's opaque pixels as a region",
                                         self.add_from_layer)
        self.remove_button = QPushButton("Remove")
        self.remove_button.setToolTip("Remove the chosen region")
        self.remove_button.clicked.connect(self.remove_selected)
        for button in (self.selection_button, self.layer_button, self.remove_button):
            row.addWidget(button)
        layout.addLayout(row)
        self._update_buttons()

    @staticmethod
    def _button(text: str, tip: str, slot: Callable[[], bool]) -> QPushButton:
        button = QPushButton(text)
        button.setToolTip(tip)
        button.clicked.connect(lambda: slot())
        return button

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.table and event.type() in (QEvent.Type.FocusIn, QEvent.Type.FocusOut):
            self.highlight_changed.emit()
        return False

    def highlight(self) -> tuple[np.ndarray, tuple[int, int]] | None:
        """(RGBA patch, its canvas origin) tinting the chosen region while the list has focus; None otherwise."""
        row = self.table.currentRow()
        if self._document is None or not self.table.hasFocus() or not 0 <= row < len(self._document.regions):
            return None
        region = self._document.regions[row]
        if self._tint is None or self._tint[0] is not region:  # the same object each time: the canvas keeps it
            rows, cols = np.flatnonzero(region.mask.any(axis=1)), np.flatnonzero(region.mask.any(axis=0))
            mask = region.mask[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
            patch = np.empty((*mask.shape, 4), np.uint8)
            patch[..., :3] = TINT
            patch[..., 3] = np.round(mask * TINT_ALPHA).astype(np.uint8)
            self._tint = (region, patch, (int(cols[0]), int(rows[0])))
        return self._tint[1], self._tint[2]

    # -- document ---------------------------------------------------------------------------------------------
    def set_document(self, document: Document | None) -> None:
        self._document = follow(self._document, document, self._document_changed)
        self.refresh()

    def _document_changed(self, change: Any) -> None:
        if shiboken6.isValid(self) and change.kind in ("regions", "document"):
            self.refresh()

    def refresh(self) -> None:
        """Show the document's regions (keeping the chosen row where it still exists)."""
        chosen = self.table.currentRow()
        regions = list(self._document.regions) if self._document is not None else []
        self._filling = True
        try:
            self.table.setRowCount(len(regions))
            for index, region in enumerate(regions):
                for column, text in ((NAME_COLUMN, region.name), (PROMPT_COLUMN, region.prompt)):
                    current = self.table.item(index, column)
                    if current is None or current.text() != text:
                        self.table.setItem(index, column, QTableWidgetItem(text))
        finally:
            self._filling = False
        if 0 <= chosen < len(regions):
            self.table.selectRow(chosen)
        if len(regions) > self._count:
            self.set_expanded(True)  # a region was added (or a document brought some): show them
        self._count = len(regions)
        self.set_summary(str(len(regions)) if regions else "")
        self._update_buttons()

    # -- edits ------------------------------------------------------------------------------------------------
    def _add(self, add: Callable[[Document], None]) -> bool:
        if self._document is None:
            self.message.emit("Open a document first.", True)
            return False
        try:
            add(self._document)
        except GenArtError as exc:
            self.message.emit(str(exc), True)
            return False
        row = len(self._document.regions) - 1
        self.table.selectRow(row)
        self.table.editItem(self.table.item(row, PROMPT_COLUMN))
        self.message.emit("Added a region: type the prompt it should follow", False)
        return True

    def add_from_selection(self) -> bool:
        return self._add(selection_region)

    def add_from_layer(self) -> bool:
        return self._add(layer_region)

    def set_prompt(self, row: int, prompt: str) -> None:
        """Type ``prompt`` into a region's row (what editing the cell does)."""
        self.table.item(row, PROMPT_COLUMN).setText(prompt)

    def _item_edited(self, item: QTableWidgetItem) -> None:
        """A committed cell (once per editing session, not per key): the region's new name or prompt."""
        if self._filling or self._document is None:
            return
        regions = self._document.regions
        edit = regions.rename if item.column() == NAME_COLUMN else regions.set_prompt
        try:
            edit(item.row(), item.text())
        except (GenArtError, IndexError) as exc:
            self.message.emit(str(exc), True)
            self.refresh()

    def remove_selected(self) -> bool:
        row = self.table.currentRow()
        if self._document is None or not 0 <= row < len(self._document.regions):
            return False
        self._document.regions.remove(row)
        return True

    def _update_buttons(self) -> None:
        has_doc = self._document is not None
        self.selection_button.setEnabled(has_doc)
        self.layer_button.setEnabled(has_doc)
        self.remove_button.setEnabled(has_doc and self.table.currentRow() >= 0 and self.table.rowCount() > 0)
