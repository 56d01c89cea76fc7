"""Tools > Train a Model...: a style from a picture (a file or the active layer), or a model fine-tuned on a folder.

The dialog only gathers a :class:`~genart_desktop.workspace.training_spec.TrainingSpec`; the queue runs it. Time
estimates are honest: a speed measured on this machine by an earlier run with the same settings, else the panel
measures it from the first steps ("measuring..."). When the app finds no way to start ``genart-train`` (no
training extra here, a packaged app without one on PATH: see training_program), the dialog says so at once and
shows the one command that installs it, rather than a run failing later.
"""

from __future__ import annotations

import html
import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QRadioButton,
    QSizePolicy,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from genart_desktop.core.errors import GenArtError
from genart_desktop.ui import dialogs
from genart_desktop.ui.training_text import duration_text
from genart_desktop.ui.widgets import button, wrapped_label
from genart_desktop.workspace.training_program import (
    INSTALL_COMMAND,
    MISSING_HINT,
    MISSING_TRAINING,
    missing_training_message,
)
from genart_desktop.workspace.training_runs import TrainingRuns
from genart_desktop.workspace.training_spec import (
    TRAINABLE_FAMILIES,
    TrainingSpec,
    model_id_for,
    save_training_picture,
)

STYLE_SIZES = (64, 128, 192, 256)
DEFAULT_STYLE_SIZE = 128
FINE_TUNE_STEPS, SCRATCH_STEPS = 500, 1500  # a fine-tuned style needs about a third of the steps
DEFAULT_STYLE_WEIGHT = 2.0


def ask_folder(parent: QWidget | None, title: str, start: str = "") -> str | None:
    path = QFileDialog.getExistingDirectory(parent, title, start)
    return path or None


class _PathRow(QWidget):
    """A path box with a Browse... button."""

    def __init__(self, placeholder: str, browse) -> None:
        super().__init__()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.edit = QLineEdit()
        self.edit.setPlaceholderText(placeholder)
        layout.addWidget(self.edit, 1)
        layout.addWidget(button("Browse\u2026", placeholder.capitalize(), lambda: self._browse(browse)))

    def _browse(self, browse) -> None:
        path = browse(self.edit.text())
        if path:
            self.edit.setText(path)

    def path(self) -> Path | None:
        text = self.edit.text().strip()
        return Path(text).expanduser() if text else None


class TrainDialog(QDialog):
    def __init__(self, runs: TrainingRuns, document: Any = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Train a Model")
        self.runs = runs
        self.document = document
        self.result_spec: TrainingSpec | None = None
        self.available = runs.program is not None
        self._models = self._trainable_models()
        self._build()
        self._mode_changed()

    # -- building -----------------------------------------------------------------------------------------------------
    def _trainable_models(self) -> list[Any]:
        registry = self.runs.registry
        if registry is None:
            return []
        try:
            return [entry for entry in registry.models() if entry.family in TRAINABLE_FAMILIES]
        except GenArtError:
            return []

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        command = html.escape(INSTALL_COMMAND, quote=False)
        self.missing = wrapped_label(f"{html.escape(MISSING_TRAINING)}<br><code>{command}</code><br>"
                                     f"{html.escape(MISSING_HINT)}")
        self.missing.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.missing.setStyleSheet("color: #f28b82;")
        self.missing.setVisible(not self.available)
        layout.addWidget(self.missing)

        modes = QHBoxLayout()
        self.style_mode = QRadioButton("A style from a picture")
        self.tune_mode = QRadioButton("Fine-tune a model on a folder of pictures")
        self.style_mode.setChecked(True)
        self._modes = QButtonGroup(self)
        for choice in (self.style_mode, self.tune_mode):
            self._modes.addButton(choice)
            modes.addWidget(choice)
            choice.toggled.connect(lambda _on: self._mode_changed())
        layout.addLayout(modes)

        self.pages = QStackedWidget()
        self.pages.addWidget(self._style_page())
        self.pages.addWidget(self._tune_page())
        layout.addWidget(self.pages)

        common = QFormLayout()
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("the name shown in the palette")
        common.addRow("Name:", self.name_edit)
        self.steps = QSpinBox()
        self.steps.setRange(1, 1_000_000)
        self.steps.setSingleStep(100)
        self.steps.valueChanged.connect(lambda _v: self._update_estimate())
        common.addRow("Steps:", self.steps)
        self.threads = QSpinBox()
        self.threads.setRange(1, max(1, os.cpu_count() or 1))
        self.threads.setValue(max(1, self.threads.maximum() - 1))  # one core left for painting meanwhile
        self.threads.setToolTip("CPU threads the training may use (fewer leaves the machine more responsive)")
        self.threads.valueChanged.connect(lambda _v: self._update_estimate())
        common.addRow("CPU threads:", self.threads)
        self.estimate = wrapped_label("")
        common.addRow("Time:", self.estimate)
        layout.addLayout(common)

        self.error = wrapped_label("")
        self.error.setStyleSheet("color: #f28b82;")
        layout.addWidget(self.error)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.train_button = self.buttons.addButton("Train", QDialogButtonBox.ButtonRole.AcceptRole)
        self.train_button.setEnabled(self.available)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(560)

    def _style_page(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        form.setContentsMargins(0, 0, 0, 0)
        layer = getattr(getattr(self.document, "active_layer", None), "name", None)
        self.from_layer = QRadioButton(f"The active layer \u201c{layer}\u201d" if layer else "The active layer")
        self.from_layer.setEnabled(layer is not None)
        self.from_file = QRadioButton("A picture file:")
        (self.from_layer if layer is not None else self.from_file).setChecked(True)
        self._sources = QButtonGroup(self)
        self._sources.addButton(self.from_layer)
        self._sources.addButton(self.from_file)
        self.picture = _PathRow("a painting or any picture", lambda start: dialogs.ask_open_path(
            self, "A picture to learn the style of", dialogs.LAYER_FILTER, start))
        self.picture.edit.textChanged.connect(lambda _t: self._suggest_name())
        self.from_file.toggled.connect(lambda _on: self._suggest_name())
        source = QVBoxLayout()
        source.addWidget(self.from_layer)
        row = QHBoxLayout()
        row.addWidget(self.from_file)
        row.addWidget(self.picture, 1)
        source.addLayout(row)
        form.addRow("Style of:", source)
        self.photos = _PathRow("a folder of photos to learn on (a few dozen)", lambda start: ask_folder(
            self, "Photos to learn on", start))
        self.photos.edit.setText(self._last_folder(style=True))
        form.addRow("Photos:", self.photos)
        self.start_from = QComboBox()
        for entry in self._models:
            if entry.family == "style":
                self.start_from.addItem(f"{entry.name} (fine-tune: fastest)", str(entry.folder))
        self.start_from.addItem("Nothing: train from scratch (about 3\u00d7 the steps)", None)
        self.start_from.currentIndexChanged.connect(lambda _i: self._start_changed())
        form.addRow("Start from:", self.start_from)
        self.strength = QDoubleSpinBox()
        self.strength.setRange(0.2, 20.0)
        self.strength.setSingleStep(0.5)
        self.strength.setValue(DEFAULT_STYLE_WEIGHT)
        self.strength.setToolTip("How strongly the painting's texture wins over the photo's content")
        form.addRow("Style strength:", self.strength)
        self.size = QComboBox()
        for side in STYLE_SIZES:
            self.size.addItem(f"{side} px", side)
        self.size.setCurrentIndex(STYLE_SIZES.index(DEFAULT_STYLE_SIZE))
        self.size.setToolTip("Training crop size: larger learns larger brush strokes, and takes longer")
        self.size.currentIndexChanged.connect(lambda _i: self._update_estimate())
        form.addRow("Size:", self.size)
        return page

    def _tune_page(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        form.setContentsMargins(0, 0, 0, 0)
        self.model = QComboBox()
        for entry in self._models:
            self.model.addItem(f"{entry.name}  ({entry.family})", entry.id)
        if not self._models:
            self.model.addItem("No trainable models found", None)
        self.model.currentIndexChanged.connect(lambda _i: self._suggest_name())
        form.addRow("Model:", self.model)
        self.folder = _PathRow("a folder of your own pictures (tens are enough)", lambda start: ask_folder(
            self, "Pictures to fine-tune on", start))
        self.folder.edit.setText(self._last_folder(style=False))
        form.addRow("Pictures:", self.folder)
        form.addRow("", wrapped_label("The model keeps its size; it learns from your pictures starting from what it "
                                      "already draws."))
        return page

    def _last_folder(self, style: bool) -> str:
        """The folder the newest queued job of this kind learned on (people reuse their photo folder)."""
        return next((str(job.spec.data) for job in reversed(self.runs.jobs) if (job.spec.family == "style") == style),
                    "")

    # -- reacting ---------------------------------------------------------------------------------------------------
    @property
    def fine_tuning(self) -> bool:
        return self.tune_mode.isChecked()

    def _mode_changed(self) -> None:
        current = 1 if self.fine_tuning else 0
        self.pages.setCurrentIndex(current)
        for index in range(self.pages.count()):  # the dialog fits the page shown, not the taller one
            policy = QSizePolicy.Policy.Preferred if index == current else QSizePolicy.Policy.Ignored
            self.pages.widget(index).setSizePolicy(QSizePolicy.Policy.Preferred, policy)
        self.adjustSize()
        self._start_changed()

    def _start_changed(self) -> None:
        from_scratch = not self.fine_tuning and self.start_from.currentData() is None
        self.steps.setValue(SCRATCH_STEPS if from_scratch else FINE_TUNE_STEPS)
        self._suggest_name()
        self._update_estimate()

    def _suggest_name(self) -> None:
        if self.fine_tuning:
            entry = self._chosen_model()
            name = f"{entry.name} (mine)" if entry is not None else ""
        elif self.from_layer.isChecked():
            name = f"Style of {self.document.active_layer.name}" if self.document is not None else ""
        else:
            picture = self.picture.path()
            name = f"Style of {picture.stem.replace('_', ' ')}" if picture is not None else ""
        self.name_edit.setText(name)

    def _chosen_model(self) -> Any:
        model_id = self.model.currentData()
        return next((entry for entry in self._models if entry.id == model_id), None)

    def _update_estimate(self) -> None:
        seconds = self.runs.estimate_s(self._draft())
        if seconds is None:
            self.estimate.setText("Measured on this machine from the first steps once it starts (the Training "
                                  "panel shows \u201cmeasuring\u2026\u201d until then).")
        else:
            self.estimate.setText(f"About {duration_text(seconds)}, from the speed an earlier run with these "
                                  "settings measured on this machine.")

    # -- the result -------------------------------------------------------------------------------------------------
    def _draft(self, style_image: Path | None = None) -> TrainingSpec:
        """The spec the current choices make (``style_image`` fills in the picture once it is saved)."""
        name = self.name_edit.text().strip() or "My model"
        common = {"name": name, "steps": self.steps.value(), "threads": self.threads.value()}
        if self.fine_tuning:
            entry = self._chosen_model()
            family = TRAINABLE_FAMILIES.get(getattr(entry, "family", ""), "gan")
            return TrainingSpec(family=family, data=self.folder.path() or Path(), model_id=model_id_for(name),
                                init_from=getattr(entry, "folder", None), **common)
        start = self.start_from.currentData()
        return TrainingSpec(family="style", data=self.photos.path() or Path(), model_id=model_id_for(name, "style-"),
                            style_image=style_image or self.picture.path(), init_from=Path(start) if start else None,
                            resolution=int(self.size.currentData()), style_weight=self.strength.value(), **common)

    def _problem(self) -> str:
        if not self.available:
            return missing_training_message()
        folder = self.folder.path() if self.fine_tuning else self.photos.path()
        if self.fine_tuning and self._chosen_model() is None:
            return "Choose a model to fine-tune."
        if folder is None or not folder.is_dir():
            return "Choose a folder of pictures to learn on."
        if not self.fine_tuning and self.from_file.isChecked():
            picture = self.picture.path()
            if picture is None or not picture.is_file():
                return "Choose the picture whose style to learn."
        return ""

    def accept(self) -> None:
        problem = self._problem()
        if problem:
            self.error.setText(problem)
            return
        picture = None
        if not self.fine_tuning and self.from_layer.isChecked():
            try:
                picture = save_training_picture(self.document.active_layer.pixels, self.document.active_layer.name)
            except (GenArtError, OSError) as exc:
                self.error.setText(f"Cannot save the layer for training: {exc}")
                return
        self.result_spec = self._draft(picture)
        super().accept()
