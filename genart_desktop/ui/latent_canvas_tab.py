"""The explorer and the canvas: encode the selection or a layer (VAE), and place the current image as a layer."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QSpinBox, QVBoxLayout, QWidget

from genart_desktop.ui.latent_host import ExplorerHost
from genart_desktop.ui.widgets import button, compact_combo
from genart_desktop.workspace.latent import GridResult


class CanvasTab(QWidget):
    layer_added = Signal(object)

    def __init__(self, host: ExplorerHost, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.host = host
        layout = QVBoxLayout(self)
        encode = QGroupBox("Encode (VAE)")
        encode_layout = QVBoxLayout(encode)
        self.source = compact_combo(QComboBox(), 12)
        self.source.addItem("Visible image (in the selection)", "selection")
        self.source.addItem("Active layer (in the selection)", "layer")
        self.encode_button = button("Encode into latent space", "Bring the canvas into the model's latent space "
                                    "and explore around it", self.encode)
        encode_layout.addWidget(self.source)
        encode_layout.addWidget(self.encode_button)
        layout.addWidget(encode)
        place = QGroupBox("Place on canvas")
        form = QFormLayout(place)
        self.place_width = QSpinBox()
        self.place_height = QSpinBox()
        for spin in (self.place_width, self.place_height):
            spin.setRange(1, 16384)
            spin.setValue(256)
            spin.setSuffix(" px")
        self.fit_button = button("Fit", "The size of the encoded region, else the selection, else 4x the model's "
                                 "size", self.fit)
        form.addRow("Width", self.place_width)
        height_row = QHBoxLayout()
        height_row.addWidget(self.place_height, 1)
        height_row.addWidget(self.fit_button)
        form.addRow("Height", height_row)
        self.place_button = button("Place current image", "Add the current image as a new layer, resampled "
                                   "smoothly to this size (cut to the selection, if any)", self.place)
        form.addRow(self.place_button)
        layout.addWidget(place)
        layout.addStretch(1)
        host.bind([(host.controller.encoded, self._encoded), (host.controller.current_ready, self._place)])

    def update_for_model(self) -> None:
        space = self.host.controller.state.space
        can = space is not None and space.can_encode
        self.encode_button.setEnabled(can)
        self.source.setEnabled(can)
        self.encode_button.setToolTip("Bring the canvas into the model's latent space and explore around it" if can
                                      else "Only VAE models (with an encoder) can encode images")

    def encode(self) -> None:
        host = self.host
        doc = host.document()
        if doc is None:
            host.set_status("Open or create a document first.", error=True)
            return
        request = host.call(lambda: host.controller.encoding.encode_request(doc, self.source.currentData()))
        if request is not None:
            host.set_status("Encoding\u2026")
            host.controller.submit(request, "encode")

    def _encoded(self) -> None:
        self.fit()
        self.host.set_status("Encoded: explore around it, then place the result back on the canvas.")

    def fit(self) -> None:
        doc = self.host.document()
        if doc is None or self.host.controller.state.space is None:
            return
        rect = self.host.call(lambda: self.host.controller.encoding.default_placement(doc))
        if rect is not None:
            self.place_width.setValue(rect.width)
            self.place_height.setValue(rect.height)

    def place(self) -> None:
        """Render the current image and enlarge it to the chosen size (through the upscaler) off the GUI thread, then
        add it to the canvas."""
        host = self.host
        if host.document() is None or host.controller.state.space is None:
            host.set_status("Open a document and choose a model first.", error=True)
            return
        size = (self.place_width.value(), self.place_height.value())
        request = host.call(lambda: host.controller.encoding.current_request(*size))
        if request is not None:
            host.controller.submit(request, "current")

    def _place(self, result: GridResult) -> None:
        host = self.host
        doc = host.document()
        if doc is None:
            return
        image: np.ndarray = result.images[0]
        width, height = self.place_width.value(), self.place_height.value()
        encoding = host.controller.encoding
        rect = encoding.default_placement(doc)
        origin = (rect.x + (rect.width - width) // 2, rect.y + (rect.height - height) // 2)
        layer = host.call(lambda: encoding.place_on_canvas(doc, image, width, height, origin,
                                                           latent=result.latents[0]))
        if layer is not None:
            host.set_status(f"Added the layer \u201c{layer.name}\u201d ({width}\u00d7{height}).")
            self.layer_added.emit(layer)
