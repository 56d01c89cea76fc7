"""File > Import model...: the guessed card of a foreign ONNX model, editable, with a preview render, then saved.

The guessing, checking, rendering and installing are workspace/model_import.py's (the same as ``genart
import-model``); this dialog only shows the guess, lets the user fix the id, the name and the value ranges, and
calls it. Renders are small probe images of the model itself, so they run on the GUI thread behind a busy cursor.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QPixmap
from PySide6.QtWidgets import (
    QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget,
)

from genart_desktop.core.failure import report
from genart_desktop.core.paths import user_models_dir
from genart_desktop.core.text import shown
from genart_desktop.ui import dialogs
from genart_desktop.ui.qimage import picture_to_qimage
from genart_desktop.workspace.model_import import RANGES, ImportProposal, edited, install, preview, propose

ONNX_FILTER = "ONNX models (*.onnx);;All files (*)"
PREVIEW_SIDE = 192


class ImportModelDialog(QDialog):
    """Shows one :class:`ImportProposal`; ``installed`` is the new folder once Save succeeded."""

    def __init__(self, proposal: ImportProposal, parent: QWidget | None = None,
                 models_dir: Path | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import Model")
        self.proposal = proposal
        self.models_dir = models_dir
        self.installed: Path | None = None
        layout = QVBoxLayout(self)
        form = QFormLayout()
        form.addRow("Source:", QLabel(shown(proposal.source.name)))
        form.addRow("Family:", QLabel(proposal.family))
        self.id_edit = QLineEdit(proposal.model_id)
        self.name_edit = QLineEdit(str(proposal.card.get("name", "")))
        form.addRow("Id:", self.id_edit)
        form.addRow("Name:", self.name_edit)
        self.range_boxes: dict[str, QComboBox] = {}
        for key, value_range in proposal.ranges().items():
            box = QComboBox()
            for label, candidate in RANGES.items():
                box.addItem(label.replace("..", " to "), candidate)
            index = next((i for i, r in enumerate(RANGES.values()) if r == tuple(value_range)), -1)
            if index < 0:
                box.addItem(f"{value_range[0]:g} to {value_range[1]:g}", tuple(value_range))
                index = box.count() - 1
            box.setCurrentIndex(index)
            self.range_boxes[key] = box
            form.addRow(f"Range of {shown(key.split('.', 1)[1])}:", box)
        layout.addLayout(form)
        notes = QLabel("\n".join(shown(note) for note in proposal.notes))
        notes.setWordWrap(True)
        layout.addWidget(notes)
        self.preview_label = QLabel("No preview yet.")
        self.preview_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview_label.setMinimumSize(PREVIEW_SIDE, PREVIEW_SIDE)
        layout.addWidget(self.preview_label)
        self.preview_button = QPushButton("Render &Preview")
        self.preview_button.clicked.connect(lambda _=False: self.render_preview())
        layout.addWidget(self.preview_button)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def current(self) -> ImportProposal:
        """The proposal with the fields' edits (raises InputError for a bad id, name or range)."""
        ranges = {key: box.currentData() for key, box in self.range_boxes.items()}
        return edited(self.proposal, model_id=self.id_edit.text().strip(), name=self.name_edit.text(),
                      ranges=ranges)

    def _busy(self, action: Any, context: str) -> Any:
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            return action()
        except Exception as exc:  # noqa: BLE001 - one line in the dialog, the traceback in the log
            self.status.setText(shown(report(exc, context)))
            return None
        finally:
            QGuiApplication.restoreOverrideCursor()

    def render_preview(self) -> np.ndarray | None:
        pixels = self._busy(lambda: preview(self.current()), "import preview")
        if pixels is not None:
            self._show(pixels)
            self.status.setText("")
        return pixels

    def _show(self, pixels: np.ndarray) -> None:
        image = QPixmap.fromImage(picture_to_qimage(pixels))
        self.preview_label.setPixmap(image.scaled(PREVIEW_SIDE, PREVIEW_SIDE, Qt.AspectRatioMode.KeepAspectRatio,
                                                  Qt.TransformationMode.FastTransformation))

    def save(self) -> None:
        target = self.models_dir or user_models_dir()
        result = self._busy(lambda: install(self.current(), target), "import model")
        if result is None:
            return
        self.installed, pixels = result
        if pixels is not None:
            self._show(pixels)
        self.accept()


def run_import(parent: QWidget | None, registry: Any = None) -> Path | None:
    """Ask for a file, guess its card, show the dialog; on Save the registry rescans. Returns the new folder."""
    path = dialogs.ask_open_path(parent, "Import Model", ONNX_FILTER)
    if not path:
        return None
    try:
        proposal = propose(path)
    except Exception as exc:  # noqa: BLE001 - one line for the user, the traceback in the log
        dialogs.show_error(parent, "Import Model", shown(report(exc, "import model")))
        return None
    dialog = ImportModelDialog(proposal, parent)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    if registry is not None:
        registry.rescan()
    return dialog.installed
