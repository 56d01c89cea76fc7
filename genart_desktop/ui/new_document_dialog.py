"""The New Document dialog: size presets, custom size and the background."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtWidgets import (
    QComboBox, QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QLabel, QSpinBox, QToolButton, QWidget,
)

from genart_desktop.core.images import MAX_IMAGE_SIDE

PRESETS: tuple[tuple[str, int, int], ...] = (
    ("Full HD 1920 \u00d7 1080", 1920, 1080),
    ("Square 1024 \u00d7 1024", 1024, 1024),
    ("Square 2048 \u00d7 2048", 2048, 2048),
    ("Model native 512 \u00d7 512", 512, 512),
    ("Portrait 1080 \u00d7 1350", 1080, 1350),
    ("4K UHD 3840 \u00d7 2160", 3840, 2160),
    ("A4 150 dpi 1240 \u00d7 1754", 1240, 1754),
    ("A4 300 dpi 2480 \u00d7 3508", 2480, 3508),
)

BACKGROUNDS: tuple[tuple[str, tuple[int, int, int, int] | None], ...] = (
    ("White", (255, 255, 255, 255)),
    ("Paper (warm white)", (246, 242, 233, 255)),
    ("Black", (0, 0, 0, 255)),
    ("Transparent", None),
)


@dataclass(frozen=True)
class NewDocumentSpec:
    width: int
    height: int
    background: tuple[int, int, int, int] | None


class NewDocumentDialog(QDialog):
    def __init__(self, parent: QWidget | None = None, width: int = 1920, height: int = 1080):
        super().__init__(parent)
        self.setWindowTitle("New Document")
        self.preset = QComboBox()
        for label, w, h in PRESETS:
            self.preset.addItem(label, (w, h))
        self.preset.addItem("Custom", None)
        self.width_box = QSpinBox()
        self.height_box = QSpinBox()
        for box, value in ((self.width_box, width), (self.height_box, height)):
            box.setRange(1, MAX_IMAGE_SIDE)
            box.setSuffix(" px")
            box.setValue(value)
            box.valueChanged.connect(self._sizes_edited)
        swap = QToolButton()
        swap.setText("\u21c4")
        swap.setToolTip("Swap width and height")
        swap.clicked.connect(self._swap)
        size_row = QHBoxLayout()
        size_row.addWidget(self.width_box)
        size_row.addWidget(QLabel("\u00d7"))
        size_row.addWidget(self.height_box)
        size_row.addWidget(swap)
        self.background = QComboBox()
        for label, colour in BACKGROUNDS:
            self.background.addItem(label, colour)
        self.memory = QLabel()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("Preset", self.preset)
        form.addRow("Size", size_row)
        form.addRow("Background", self.background)
        form.addRow("", self.memory)
        form.addRow(buttons)
        self.preset.currentIndexChanged.connect(self._preset_chosen)
        self._sizes_edited()

    def _preset_chosen(self, _index: int) -> None:
        size = self.preset.currentData()
        if size is None:
            return
        for box, value in zip((self.width_box, self.height_box), size):
            box.blockSignals(True)
            box.setValue(value)
            box.blockSignals(False)
        self._update_memory()

    def _sizes_edited(self, *_args) -> None:
        size = (self.width_box.value(), self.height_box.value())
        match = next((i for i, (_l, w, h) in enumerate(PRESETS) if (w, h) == size), len(PRESETS))
        self.preset.blockSignals(True)
        self.preset.setCurrentIndex(match)
        self.preset.blockSignals(False)
        self._update_memory()

    def _swap(self) -> None:
        w, h = self.width_box.value(), self.height_box.value()
        self.width_box.setValue(h)
        self.height_box.setValue(w)

    def _update_memory(self) -> None:
        megabytes = self.width_box.value() * self.height_box.value() * 4 / 2**20
        self.memory.setText(f"{megabytes:.1f} MB per layer")

    def spec(self) -> NewDocumentSpec:
        return NewDocumentSpec(self.width_box.value(), self.height_box.value(), self.background.currentData())
