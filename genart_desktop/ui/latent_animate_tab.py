"""An interpolation path through the ticked bookmarks: a scrubber with a preview, and GIF/WebP/APNG/MP4/PNG export.

MP4 needs an ffmpeg the app does not ship; the tab says which one it found, or disables MP4 and says what to install.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QLabel, QSlider, QSpinBox, QVBoxLayout, QWidget

from genart_desktop.engine.latent import animation
from genart_desktop.ui import dialogs
from genart_desktop.ui.latent_host import ExplorerHost
from genart_desktop.ui.qimage import picture_to_qimage
from genart_desktop.ui.widgets import button, wrapped_label
from genart_desktop.workspace.latent import GridResult, mp4
from genart_desktop.workspace.latent.requests import ExportAnimation

FORMAT_LABELS = [("GIF", animation.GIF), ("Animated WebP", animation.WEBP), ("APNG (animated PNG)", animation.APNG),
                 ("MP4 video", mp4.MP4), ("PNG sequence", animation.PNG_SEQUENCE)]
SUFFIXES = {animation.GIF: ".gif", animation.WEBP: ".webp", animation.APNG: ".png", mp4.MP4: ".mp4",
            animation.PNG_SEQUENCE: ".png"}
SCRUB_STEPS = 1000


class AnimateTab(QWidget):
    def __init__(self, host: ExplorerHost, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.host = host
        self.scrub_image: np.ndarray | None = None
        layout = QVBoxLayout(self)
        layout.addWidget(wrapped_label("A path through the ticked bookmarks, in list order."))
        self.preview = QLabel()
        self.preview.setFixedSize(160, 160)
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setStyleSheet("background: #242427; border: 1px solid #1d1d20;")
        layout.addWidget(self.preview, 0, Qt.AlignmentFlag.AlignHCenter)
        self.scrubber = QSlider(Qt.Orientation.Horizontal)
        self.scrubber.setRange(0, SCRUB_STEPS)
        self.scrubber.setToolTip("Scrub along the path")
        self.scrubber.valueChanged.connect(self._scrubbed)
        layout.addWidget(self.scrubber)
        form = QFormLayout()
        self.frames = QSpinBox()
        self.frames.setRange(2, 2000)
        self.frames.setValue(48)
        self.fps = QSpinBox()
        self.fps.setRange(1, animation.MAX_FPS)
        self.fps.setValue(24)
        self.width_spin = QSpinBox()
        self.width_spin.setRange(16, 4096)
        self.width_spin.setValue(256)
        self.width_spin.setSuffix(" px")
        self.width_spin.setToolTip("Frames are resampled smoothly to this width")
        self.loop = QCheckBox("Loop back to the start")
        self.format = QComboBox()
        for label, fmt in FORMAT_LABELS:
            self.format.addItem(label, fmt)
        encoder = mp4.find_encoder()
        self.mp4_note = wrapped_label(mp4.UNAVAILABLE if encoder is None else encoder.describe())
        if encoder is None:
            item = self.format.model().item(self.format.findData(mp4.MP4))
            item.setEnabled(False)
            item.setToolTip(mp4.UNAVAILABLE)
        form.addRow("Frames", self.frames)
        form.addRow("Frames/s", self.fps)
        form.addRow("Width", self.width_spin)
        form.addRow("Format", self.format)
        form.addRow(self.mp4_note)
        form.addRow(self.loop)
        layout.addLayout(form)
        self.export_button = button("Export\u2026", "Render the path and save it as an animation", self.ask_export)
        layout.addWidget(self.export_button)
        host.bind([(host.controller.scrub_ready, self._show_scrub), (host.controller.exported, self._exported),
                   (host.controller.model_changed, lambda _space: self.reset())])
        self.scrub_image = None
        self.last_export: Path | None = None

    def reset(self) -> None:
        """Another model is open: the old model's frame and path no longer apply."""
        self.scrub_image = None
        self.preview.clear()
        self.scrubber.blockSignals(True)
        self.scrubber.setValue(0)
        self.scrubber.blockSignals(False)

    def _scrubbed(self, value: int) -> None:
        host = self.host
        doc = host.document()
        ticked = host.ticked_bookmarks()
        path = host.controller.animation
        if path.path_ids != ticked and not host.attempt(lambda: path.set_path(ticked, doc)):
            return
        request = host.call(lambda: path.scrub_request(value / SCRUB_STEPS, doc))
        if request is not None:
            host.controller.submit(request, "scrub")

    def _show_scrub(self, result: GridResult) -> None:
        self.scrub_image = result.images[0]
        pixmap = QPixmap.fromImage(picture_to_qimage(result.images[0]))
        self.preview.setPixmap(pixmap.scaled(self.preview.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                             Qt.TransformationMode.SmoothTransformation))

    def ask_export(self) -> None:
        """Ask where to save (a PNG sequence is named by its first file: walk.png -> walk_0001.png ...)."""
        fmt = self.format.currentData()
        suffix = SUFFIXES[fmt]
        path = dialogs.ask_save_path(self, "Export animation", f"{self.format.currentText()} (*{suffix})",
                                     f"latent-walk{suffix}")
        if path:
            if not path.lower().endswith(suffix):
                path += suffix
            self.export_to(path)

    def export_to(self, path: str | Path, fmt: str | None = None) -> int | None:
        """Start exporting the ticked path to ``path`` (format from the combo unless given); returns the job id."""
        host = self.host
        doc = host.document()
        fmt = fmt or self.format.currentData()
        animation_path = host.controller.animation

        def make() -> ExportAnimation:
            animation_path.set_path(host.ticked_bookmarks(), doc)
            return animation_path.export_request(path, fmt, self.frames.value(), self.fps.value(),
                                                 self.width_spin.value(), self.loop.isChecked(), doc)

        request = host.call(make)
        if request is None:
            return None
        host.set_status(f"Exporting {Path(path).name}\u2026")
        return host.controller.submit(request, "export").job_id

    def _exported(self, paths: list[Path]) -> None:
        """Say where the file went, with a way to open its folder."""
        where = paths[0].name if len(paths) == 1 else f"{len(paths)} frames"
        self.last_export = paths[0]
        self.host.set_status(f"Exported {where} to {paths[0].parent}.")
        dialogs.show_exported(self, f"Exported {where}.", paths[0].parent)
