"""The seed control of the diffusion dock: mode (random, fixed, increment), the seed itself, and a dice button.

Seeds go up to 2**63 (what recipes and ``genart generate`` allow), beyond a QSpinBox's 32-bit range, so the seed is a
validated line edit.
"""

from __future__ import annotations

import secrets

from PySide6.QtCore import QRegularExpression, Qt, Signal
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLineEdit, QToolButton, QWidget

from genart_desktop.engine.pipelines.limits import MAX_SEED
from genart_desktop.workspace.diffusion_settings import MAX_BATCH_COUNT, SEED_MODES

MODE_LABELS = {"random": "Random", "fixed": "Fixed", "increment": "Increment"}
MODE_TIPS = {
    "random": "A new random seed every time; the seed used is shown so you can fix it",
    "fixed": "The same seed every time (a batch uses this seed and the ones after it)",
    "increment": "Start from this seed and move on past the used seeds after each run",
}
LARGEST = MAX_SEED - MAX_BATCH_COUNT


class SeedControl(QWidget):
    changed = Signal()  # the seed or the mode changed (by the user or by code)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.mode_combo = QComboBox()
        for mode in SEED_MODES:
            self.mode_combo.addItem(MODE_LABELS[mode], mode)
            self.mode_combo.setItemData(self.mode_combo.count() - 1, MODE_TIPS[mode], Qt.ItemDataRole.ToolTipRole)
        self.mode_combo.setToolTip("How the seed changes between runs")
        self.mode_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.mode_combo.setMinimumContentsLength(6)
        self.edit = QLineEdit("0")
        self.edit.setValidator(QRegularExpressionValidator(QRegularExpression(r"\d{1,19}"), self))
        self.edit.setToolTip("The seed: the same seed and settings give the same image")
        self.edit.setMinimumWidth(60)
        self.dice = QToolButton()
        self.dice.setText("New")
        self.dice.setToolTip("Pick a random seed now")
        self.dice.clicked.connect(lambda _=False: self.set_value(secrets.randbelow(2**32)))
        self.edit.textChanged.connect(lambda _text: self.changed.emit())
        self.mode_combo.currentIndexChanged.connect(lambda _index: self.changed.emit())
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.mode_combo)
        layout.addWidget(self.edit, 1)
        layout.addWidget(self.dice)

    def value(self) -> int:
        text = self.edit.text().strip()
        return min(int(text), LARGEST) if text.isdigit() else 0

    def set_value(self, seed: int) -> None:
        self.edit.setText(str(max(0, min(int(seed), LARGEST))))

    def mode(self) -> str:
        return str(self.mode_combo.currentData())

    def set_mode(self, mode: str) -> None:
        index = self.mode_combo.findData(mode)
        if index >= 0:
            self.mode_combo.setCurrentIndex(index)
