"""Direction sliders: one row per latent direction; dragging reports values continuously (-1..1)."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QLabel, QSlider, QToolButton, QWidget

STEPS = 100


class DirectionSliders(QWidget):
    """``moved(index, value)`` fires on every slider step (coalesced renders keep up); ``delete_requested(name)``
    comes from the small button beside a user direction."""

    moved = Signal(int, float)
    released = Signal(int, float)
    delete_requested = Signal(str)
    rename_requested = Signal(int)  # the pencil beside a principal direction

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QGridLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setHorizontalSpacing(6)
        self._layout.setVerticalSpacing(2)
        self._layout.setColumnStretch(1, 1)
        self.sliders: list[QSlider] = []
        self._values: list[QLabel] = []
        self._empty = QLabel("No directions yet.")
        self._empty.setStyleSheet("color: #8a8a92;")
        self._layout.addWidget(self._empty, 0, 0, 1, 4)

    def set_directions(self, rows: Sequence[tuple[str, str, bool]], values: Sequence[float]) -> None:
        """``rows`` are (name, tooltip, deletable); ``values`` in -1..1."""
        while self._layout.count():
            item = self._layout.takeAt(0)
            widget = item.widget()
            if widget is not None and widget is not self._empty:
                widget.deleteLater()
        self.sliders, self._values = [], []
        if not rows:
            self._layout.addWidget(self._empty, 0, 0, 1, 4)
            self._empty.show()
            return
        self._empty.hide()
        for index, ((name, tip, deletable), value) in enumerate(zip(rows, values)):
            label = QLabel(name)
            label.setToolTip(tip)
            label.setMinimumWidth(70)
            slider = QSlider(Qt.Orientation.Horizontal)
            slider.setRange(-STEPS, STEPS)
            slider.setValue(int(round(value * STEPS)))
            slider.setToolTip(tip)
            slider.setObjectName(f"direction_{index}")
            readout = QLabel(f"{value:+.2f}")
            readout.setFixedWidth(40)
            readout.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            slider.valueChanged.connect(lambda raw, i=index: self._changed(i, raw))
            slider.sliderReleased.connect(lambda i=index: self.released.emit(i, self.sliders[i].value() / STEPS))
            self._layout.addWidget(label, index, 0)
            self._layout.addWidget(slider, index, 1)
            self._layout.addWidget(readout, index, 2)
            if deletable:
                button = QToolButton()
                button.setText("\u00d7")
                button.setToolTip(f"Delete the saved direction \u201c{name}\u201d")
                button.clicked.connect(lambda _=False, n=name: self.delete_requested.emit(n))
                self._layout.addWidget(button, index, 3)
            else:
                button = QToolButton()
                button.setText("\u270e")
                button.setToolTip(f"Name the direction \u201c{name}\u201d (kept for this model)")
                button.clicked.connect(lambda _=False, i=index: self.rename_requested.emit(i))
                self._layout.addWidget(button, index, 3)
            self.sliders.append(slider)
            self._values.append(readout)

    def set_values(self, values: Sequence[float]) -> None:
        """Show values without emitting (history navigation, reset)."""
        for slider, readout, value in zip(self.sliders, self._values, values):
            slider.blockSignals(True)
            slider.setValue(int(round(value * STEPS)))
            slider.blockSignals(False)
            readout.setText(f"{value:+.2f}")

    def _changed(self, index: int, raw: int) -> None:
        value = raw / STEPS
        self._values[index].setText(f"{value:+.2f}")
        self.moved.emit(index, value)
