"""Small reusable widgets for the docks: a slider with a number box beside it, buttons, and narrow-dock helpers."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QHBoxLayout, QLabel, QPushButton, QSlider, QWidget


def button(text: str, tip: str, slot: Callable[[], Any]) -> QPushButton:
    """A push button with a tooltip whose click calls ``slot()`` (without the ``checked`` argument Qt passes)."""
    widget = QPushButton(text)
    widget.setToolTip(tip)
    widget.clicked.connect(lambda _=False: slot())
    return widget


def compact_combo(combo: QComboBox, characters: int) -> QComboBox:
    """Let a combo box shrink with a narrow dock instead of forcing the panel wider than it."""
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(characters)
    return combo


def wrapped_label(text: str) -> QLabel:
    """A label that wraps to the dock's width rather than widening it."""
    label = QLabel(text)
    label.setWordWrap(True)
    return label


LOG_STEPS = 1000


class ValueSlider(QWidget):
    """A labelled slider and spin box bound together, values in display units.

    ``value_changed`` fires continuously (live settings such as brush size); ``value_committed`` fires once per
    gesture (slider released, number typed, a key or wheel step) for changes that become undo steps. ``log`` maps the
    slider geometrically (for sizes: each step along it is the same ratio, so 1-500 px has 22 px at its middle and
    small sizes are not squeezed into its first pixels); the spin box still takes any value.
    """

    value_changed = Signal(float)
    value_committed = Signal(float)

    def __init__(self, label: str, minimum: float, maximum: float, value: float, decimals: int = 0,
                 suffix: str = "", parent: QWidget | None = None, log: bool = False):
        super().__init__(parent)
        if log and minimum <= 0:
            raise ValueError("a logarithmic slider needs a positive minimum")
        self._log = (float(minimum), math.log(maximum / minimum)) if log else None
        self._decimals = decimals
        self._scale = 10 ** decimals
        self._committed = float(value)
        self._label = QLabel(label)
        self._label.setMinimumWidth(62)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        if self._log is not None:
            self.slider.setRange(0, LOG_STEPS)
        else:
            self.slider.setRange(int(round(minimum * self._scale)), int(round(maximum * self._scale)))
        self.spin = QDoubleSpinBox()
        self.spin.setRange(minimum, maximum)
        self.spin.setDecimals(decimals)
        self.spin.setSuffix(suffix)
        self.spin.setButtonSymbols(QDoubleSpinBox.ButtonSymbols.NoButtons)
        self.spin.setFixedWidth(64)
        self.spin.setAlignment(Qt.AlignmentFlag.AlignRight)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._label)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.spin)
        self.slider.valueChanged.connect(self._from_slider)
        self.slider.sliderReleased.connect(self._commit)
        self.spin.valueChanged.connect(self._from_spin)
        self.spin.editingFinished.connect(self._commit)
        self.set_value(value)

    def value(self) -> float:
        return float(self.spin.value())

    def set_value(self, value: float) -> None:
        """Set without emitting anything (used when the model changed, not the user)."""
        self.spin.blockSignals(True)
        self.slider.blockSignals(True)
        self.spin.setValue(value)
        self.slider.setValue(self._to_slider(self.value()))
        self.spin.blockSignals(False)
        self.slider.blockSignals(False)
        self._committed = self.value()

    def _commit(self) -> None:
        if self.value() != self._committed:
            self._committed = self.value()
            self.value_committed.emit(self._committed)

    def _to_slider(self, value: float) -> int:
        if self._log is None:
            return int(round(value * self._scale))
        low, span = self._log
        return int(round(LOG_STEPS * math.log(max(value, low) / low) / span))

    def _slider_value(self, raw: int) -> float:
        if self._log is None:
            return raw / self._scale
        low, span = self._log
        return round(low * math.exp(span * raw / LOG_STEPS), self._decimals)

    def _from_slider(self, raw: int) -> None:
        self.spin.blockSignals(True)
        self.spin.setValue(self._slider_value(raw))
        self.spin.blockSignals(False)
        self.value_changed.emit(self.value())
        if not self.slider.isSliderDown():
            self._commit()

    def _from_spin(self, value: float) -> None:
        self.slider.blockSignals(True)
        self.slider.setValue(self._to_slider(value))
        self.slider.blockSignals(False)
        self.value_changed.emit(float(value))
        if not self.spin.hasFocus():
            self._commit()
