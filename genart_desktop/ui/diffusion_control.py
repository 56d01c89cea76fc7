"""The Control box of the Diffusion dock: a layer's drawing as the control picture of a control-trained model.

"Use layer as control" makes the active layer the control (the controller keeps which layer; its pixels are read
when a generation is queued, so strokes drawn after choosing it count); its thumbnail shows here, on white as the
model sees it, and Clear drops it. The mode says whether the layer is a sketch or a picture to derive lines or
colour blocks from; the strength scales the control's effect. The box is enabled only for models that take a
control (:attr:`ModelInfo.control`); the mode and strength are dock settings, bound by the panel's table. Opening a
recipe PNG or restoring a history entry with a control makes it a layer again and chooses it (the controller's
``restore_onto``); the box follows through ``control_changed``. It is a collapsible section of the dock, folded
while no control is chosen and opened when one is; its header sums up the choice ("Control: Sketch, 0.8").
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shiboken6
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from genart_desktop.core.errors import GenArtError
from genart_desktop.core.images import flatten_alpha
from genart_desktop.document.document import Document
from genart_desktop.engine.pipelines.control import MAX_CONTROL_STRENGTH
from genart_desktop.ui.binding import follow
from genart_desktop.ui.collapsible import CollapsibleSection
from genart_desktop.ui.qimage import rgb_to_qimage
from genart_desktop.ui.widgets import ValueSlider
from genart_desktop.workspace.diffusion import DiffusionController, ModelInfo
from genart_desktop.workspace.diffusion_control import CONTROL_MODE_LABELS

THUMBNAIL_SIDE = 72


class ControlBox(CollapsibleSection):
    """Choose a layer as the control, see it, clear it; its mode and strength."""

    message = Signal(str, bool)  # (text, is_error) for the dock's status line

    def __init__(self, controller: DiffusionController, parent: QWidget | None = None) -> None:
        super().__init__("Control", "diffusion-control", parent=parent)
        self.controller = controller
        self._document: Document | None = None
        self._info: ModelInfo | None = None
        self._shown_uid: int | None = None  # the control layer last shown: a new one opens the section
        layout = self.content
        row = QHBoxLayout()
        self.thumbnail = QLabel("No control")
        self.thumbnail.setFixedSize(THUMBNAIL_SIDE, THUMBNAIL_SIDE)
        self.thumbnail.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.thumbnail.setStyleSheet("border: 1px solid #555;")
        buttons = QVBoxLayout()
        self.use_button = QPushButton("Use layer as control")
        self.use_button.setToolTip("The active layer's drawing (lines or flat colour regions) steers the picture")
        self.use_button.clicked.connect(lambda: self.use_active_layer())
        self.clear_button = QPushButton("Clear")
        self.clear_button.setToolTip("Generate without a control picture")
        self.clear_button.clicked.connect(lambda: controller.clear_control())
        self.mode_combo = QComboBox()
        for mode, label in CONTROL_MODE_LABELS.items():
            self.mode_combo.addItem(label, mode)
        self.mode_combo.setToolTip("A sketch is used as drawn; from a photo or painting, lines or colour blocks are "
                                   "derived as the model was trained")
        for widget in (self.use_button, self.clear_button, self.mode_combo):
            buttons.addWidget(widget)
        row.addWidget(self.thumbnail)
        row.addLayout(buttons, 1)
        layout.addLayout(row)
        self.strength = ValueSlider("Strength", 0.0, MAX_CONTROL_STRENGTH, 1.0, decimals=2)
        self.strength.setToolTip("How strongly the control steers the picture (0: not at all)")
        layout.addWidget(self.strength)
        self._later = QTimer(self)  # painting changes pixels many times a second: redraw the thumbnail once
        self._later.setSingleShot(True)
        self._later.setInterval(150)
        self._later.timeout.connect(self.refresh)
        controller.control_changed.connect(self.refresh)
        controller.settings_changed.connect(self._show_summary)  # the strength, however it changed
        self.destroyed.connect(lambda *_: (controller.control_changed.disconnect(self.refresh),
                                           controller.settings_changed.disconnect(self._show_summary)))
        self.set_model(None)

    # -- binding helpers (the panel's settings table) --------------------------------------------------------------
    def mode(self) -> str:
        return str(self.mode_combo.currentData())

    def set_mode(self, mode: str) -> None:
        self.mode_combo.setCurrentIndex(max(0, self.mode_combo.findData(mode)))

    # -- model and document ----------------------------------------------------------------------------------------
    def set_model(self, info: ModelInfo | None) -> None:
        self._info = info
        takes = info is not None and bool(info.control)
        self.setEnabled(takes)
        self.setTitle(f"Control ({info.control})" if takes and info is not None else
                      "Control (this model takes none)" if info is not None else "Control")
        self.refresh()

    def set_document(self, document: Document | None) -> None:
        self._document = follow(self._document, document, self._document_changed)
        self.refresh()

    def _document_changed(self, change: Any) -> None:
        if shiboken6.isValid(self) and self.controller.control_layer_uid is not None:
            self._later.start()

    def use_active_layer(self) -> bool:
        if self._document is None:
            self.message.emit("Open a document first.", True)
            return False
        try:
            layer = self.controller.use_layer_as_control(self._document)
        except GenArtError as exc:
            self.message.emit(str(exc), True)
            return False
        self.message.emit(f"\u201c{layer.name}\u201d is the control picture.", False)
        return True

    def _show_summary(self, *_settings: Any) -> None:
        """The header's line: the control layer's name and the strength."""
        if not shiboken6.isValid(self):
            return
        layer = self.controller.control_layer(self._document)
        uid = self.controller.control_layer_uid
        strength = round(self.controller.settings.control_strength, 2)
        self.set_summary("" if uid is None else "layer gone" if layer is None else f"{layer.name}, {strength:g}")

    def refresh(self) -> None:
        """Show the control layer's thumbnail on white (or that there is none)."""
        if not shiboken6.isValid(self):
            return
        layer = self.controller.control_layer(self._document)
        uid = self.controller.control_layer_uid
        self.clear_button.setEnabled(uid is not None)
        if uid is not None and uid != self._shown_uid:
            self.set_expanded(True)  # just chosen (or restored with a recipe): show it
        self._shown_uid = uid
        self._show_summary()
        if layer is None:
            self.thumbnail.setPixmap(QPixmap())
            self.thumbnail.setText("No control" if self.controller.control_layer_uid is None else "Layer gone")
            return
        rgb = flatten_alpha(np.asarray(layer.pixels, np.uint8))
        pixmap = QPixmap.fromImage(rgb_to_qimage(np.ascontiguousarray(rgb)))
        self.thumbnail.setPixmap(pixmap.scaled(THUMBNAIL_SIDE - 2, THUMBNAIL_SIDE - 2,
                                               Qt.AspectRatioMode.KeepAspectRatio,
                                               Qt.TransformationMode.SmoothTransformation))
        self.thumbnail.setToolTip(f"Control: {layer.name}")
