"""Direction sliders, saving a slider mix under a name, and defining a direction from two bookmarked images."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QLineEdit, QVBoxLayout, QWidget

from genart_desktop.engine.latent.bookmarks import Bookmark
from genart_desktop.ui import dialogs
from genart_desktop.ui.latent_host import ExplorerHost
from genart_desktop.ui.widgets import button
from genart_desktop.ui.latent_sliders import STEPS, DirectionSliders


class DirectionsTab(QWidget):
    def __init__(self, host: ExplorerHost, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.host = host
        layout = QVBoxLayout(self)
        self.sliders = DirectionSliders()
        self.sliders.moved.connect(self._moved)
        self.sliders.delete_requested.connect(self.delete_direction)
        self.sliders.rename_requested.connect(self.ask_rename)
        layout.addWidget(self.sliders)
        self.reset_button = button("Reset sliders", "Put every slider back to zero", self.reset)
        layout.addWidget(self.reset_button)
        row = QHBoxLayout()
        self.name = QLineEdit()
        self.name.setPlaceholderText("Name for this slider mix")
        self.save_button = button("Save direction", "Keep what the sliders do now as a named slider", self.save)
        row.addWidget(self.name, 1)
        row.addWidget(self.save_button)
        layout.addLayout(row)
        pair = QGroupBox("From two images")
        form = QFormLayout(pair)
        self.pair_a = QComboBox()
        self.pair_b = QComboBox()
        self.pair_name = QLineEdit()
        self.pair_name.setPlaceholderText("e.g. brighter")
        self.define_button = button("Define direction", "A slider that moves from image A toward image B",
                                    self.define)
        form.addRow("From (A)", self.pair_a)
        form.addRow("To (B)", self.pair_b)
        form.addRow("Name", self.pair_name)
        form.addRow(self.define_button)
        layout.addWidget(pair)

    def refresh(self) -> None:
        """Rebuild the slider rows from the explorer's directions and values."""
        rows = []
        state = self.host.controller.state
        for direction in state.directions:
            if direction.kind == "principal":
                share = f"({100 * direction.variance:.1f}% of the variation)" if direction.variance else ""
                label = self.host.controller.directions.label(direction)
                rows.append((label, f"Principal direction {direction.name} {share}".strip(), False))
            else:
                rows.append((direction.name, f"Your direction \u201c{direction.name}\u201d", True))
        self.sliders.set_directions(rows, state.sliders)

    def ask_rename(self, index: int) -> None:
        direction = self.host.controller.state.directions[index]
        name = dialogs.ask_text(self, "Name the direction", f"A name for {direction.name}:",
                                self.host.controller.directions.label(direction))
        if name is not None:
            self.rename(direction.name, name)

    def rename(self, key: str, name: str) -> bool:
        """Name the principal direction ``key``; an empty name puts its own back."""
        return self.host.attempt(lambda: self.host.controller.directions.rename(key, name))

    def show_values(self) -> None:
        self.sliders.set_values(self.host.controller.state.sliders)

    def set_bookmarks(self, marks: Sequence[Bookmark]) -> None:
        for combo in (self.pair_a, self.pair_b):
            combo.clear()
            for mark in marks:
                combo.addItem(mark.name, mark.bookmark_id)
        if self.pair_b.count() > 1:
            self.pair_b.setCurrentIndex(1)

    def set_slider(self, index: int, value: float) -> None:
        """Move a slider exactly as a drag step does."""
        self.sliders.sliders[index].setValue(int(round(value * STEPS)))

    def _moved(self, index: int, value: float) -> None:
        self.host.attempt(lambda: self.host.controller.state.set_slider(index, value))

    def reset(self) -> None:
        self.host.controller.state.reset_sliders()

    def save(self) -> None:
        saved = self.host.call(lambda: self.host.controller.directions.save_current(self.name.text()))
        if saved is not None:
            self.name.clear()
            self.host.set_status(f"Saved the direction \u201c{saved.name}\u201d.")

    def define(self) -> None:
        controller = self.host.controller
        marks = {m.bookmark_id: m for m in controller.bookmarks.all(self.host.document())}
        a, b = marks.get(self.pair_a.currentData()), marks.get(self.pair_b.currentData())
        if a is None or b is None:
            self.host.set_status("Bookmark two images first, then choose them as A and B.", error=True)
            return
        name = self.pair_name.text().strip() or f"{a.name} \u2192 {b.name}"
        saved = self.host.call(lambda: controller.directions.define(a.latent, b.latent, name))
        if saved is not None:
            self.pair_name.clear()
            self.host.set_status(f"New direction \u201c{saved.name}\u201d: slide it to move from A toward B.")

    def delete_direction(self, name: str) -> None:
        self.host.attempt(lambda: self.host.controller.directions.delete(name))
