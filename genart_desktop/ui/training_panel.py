"""The Training dock: the queue of ``genart-train`` runs, and for the chosen one its live loss curve, newest sample
grid, step, time left, Stop and Resume.

The queue (:class:`~genart_desktop.workspace.training_runs.TrainingRuns`) is Qt-free; this panel's timer calls its
``deliver`` on the GUI thread, so every update reaches the widgets there. A finished run is exported and
registered by the queue; the panel then asks the window's model lists to refresh and says where the model is.
Trainings left running when the app last closed are adopted when it starts (:func:`adopt_kept_training`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QProgressBar,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from genart_desktop.core.errors import InputError
from genart_desktop.core.images import open_image_rgba
from genart_desktop.core.paths import user_data_dir
from genart_desktop.ui.loss_curve import LossCurve
from genart_desktop.ui.qimage import rgba_to_qimage
from genart_desktop.ui.training_text import row_text, speed_text
from genart_desktop.ui.widgets import button, wrapped_label
from genart_desktop.workspace.training_kept import KEPT_FILE
from genart_desktop.workspace.training_runs import TrainingJob, TrainingRuns
from genart_desktop.workspace.training_spec import RUNS_FOLDER

log = logging.getLogger(__name__)

POLL_MS = 200
SAMPLE_SIDE = 200
DOCK_HEIGHT = 270  # the curve and the sample grid readable, the canvas still the larger part at 1440x900
SAMPLE_MAX_PIXELS = 64 << 20


def ask_close_training(parent: QWidget | None, name: str, detail: str) -> str:
    """Closing the app while ``name`` trains: "stop" (checkpoint, resume later), "keep" (it runs on without the
    app) or "cancel" (the app stays open)."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Training in progress")
    box.setText(f"\u201c{name}\u201d is still training. Stop it or keep it running?")
    box.setInformativeText(detail)
    stop = box.addButton("Stop (save a checkpoint)", QMessageBox.ButtonRole.DestructiveRole)
    keep = box.addButton("Keep running", QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(stop)
    box.exec()
    return {id(stop): "stop", id(keep): "keep"}.get(id(box.clickedButton()), "cancel")


class TrainingPanel(QWidget):
    def __init__(self, runs: TrainingRuns, open_dialog: Callable[[], None] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runs = runs
        self._open_dialog = open_dialog
        self._items: dict[int, QListWidgetItem] = {}
        self._shown_sample: Path | None = None
        self._build()
        runs.changed.connect(self._job_changed)
        runs.removed.connect(self._job_removed)
        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(runs.deliver)
        self.timer.start()
        for job in runs.jobs:
            self._job_changed(job)
        self._show_job()

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        top = QHBoxLayout()
        self.queue = QListWidget()
        self.queue.setMaximumWidth(260)
        self.queue.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        self.queue.currentItemChanged.connect(lambda *_: self._show_job())
        top.addWidget(self.queue)
        self.curve = LossCurve()
        top.addWidget(self.curve, 1)
        self.sample = QLabel("No sample yet")
        self.sample.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.sample.setFixedSize(SAMPLE_SIDE, SAMPLE_SIDE)
        self.sample.setStyleSheet("background: #1e1f22; color: #9aa4b2;")
        self.sample.setToolTip("The newest sample grid the training wrote")
        top.addWidget(self.sample)
        layout.addLayout(top, 1)

        self.title = QLabel("")
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(8)
        self.step_label = QLabel("")
        self.eta_label = QLabel("")
        self.message = wrapped_label("")
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.stop_button = button("Stop", "Save a checkpoint and stop (Resume continues from it)", self.stop)
        self.resume_button = button("Resume", "Continue from the last checkpoint (or export again)", self.resume)
        self.remove_button = button("Remove", "Take this run off the list (its folder stays on disk)", self.remove)
        self.new_button = button("Train a model\u2026", "Make a style from a picture or fine-tune a model",
                                 self._new)
        row = QHBoxLayout()
        for widget in (self.title, self.step_label, self.eta_label):
            row.addWidget(widget)
        row.addStretch(1)
        for widget in (self.stop_button, self.resume_button, self.remove_button, self.new_button):
            row.addWidget(widget)
        layout.addLayout(row)
        layout.addWidget(self.progress)
        layout.addWidget(self.message)
        self.empty = wrapped_label("Nothing is training. Tools \u25b8 Train a Model\u2026 makes a style from a "
                                   "picture or fine-tunes a model on your own pictures.")
        layout.addWidget(self.empty)

    # -- the queue --------------------------------------------------------------------------------------------------
    def selected(self) -> TrainingJob | None:
        item = self.queue.currentItem()
        if item is None:
            return None
        job_id = item.data(Qt.ItemDataRole.UserRole)
        return next((job for job in self.runs.jobs if job.job_id == job_id), None)

    def select(self, job: TrainingJob) -> None:
        item = self._items.get(job.job_id)
        if item is not None:
            self.queue.setCurrentItem(item)

    def _job_changed(self, job: TrainingJob) -> None:
        item = self._items.get(job.job_id)
        if item is None:
            item = QListWidgetItem()
            item.setData(Qt.ItemDataRole.UserRole, job.job_id)
            self.queue.addItem(item)
            self._items[job.job_id] = item
            if self.queue.currentItem() is None or job.active:
                self.queue.setCurrentItem(item)
        item.setText(row_text(job))
        item.setToolTip(job.message or job.spec.label)
        if self.queue.currentItem() is not item and job.active and not self._selected_active():
            self.queue.setCurrentItem(item)  # follow the running job unless another running one is shown
        if self.selected() is job:
            self._show_job()

    def _selected_active(self) -> bool:
        job = self.selected()
        return job is not None and job.active

    def _job_removed(self, job: TrainingJob) -> None:
        item = self._items.pop(job.job_id, None)
        if item is not None:
            self.queue.takeItem(self.queue.row(item))
        self._show_job()

    # -- the chosen job ---------------------------------------------------------------------------------------------
    def _show_job(self) -> None:
        job = self.selected()
        self.empty.setVisible(job is None)
        for widget in (self.title, self.step_label, self.eta_label, self.progress, self.message):
            widget.setVisible(job is not None)
        self.stop_button.setEnabled(job is not None and job.can_stop)
        self.resume_button.setEnabled(job is not None and job.can_resume)
        self.remove_button.setEnabled(job is not None and not job.active)
        if job is None:
            self.curve.set_points([], 0)
            self._show_sample(None)
            return
        total = job.progress.total or job.spec.steps
        self.title.setText(f"<b>{job.spec.name}</b>")
        self.step_label.setText(f"Step {job.progress.step} / {total}")
        self.eta_label.setText(speed_text(job) if job.state in ("running", "stopping") else job.state.capitalize())
        self.progress.setValue(int(job.fraction * 1000))
        self.message.setText(job.message)
        self.curve.set_points(job.progress.losses, total)
        self._show_sample(job.progress.sample)

    def _show_sample(self, path: Path | None) -> None:
        if path == self._shown_sample:
            return
        self._shown_sample = path
        if path is None:
            self.sample.clear()
            self.sample.setText("No sample yet")
            return
        try:
            pixels = open_image_rgba(path, SAMPLE_MAX_PIXELS)
        except InputError as exc:
            log.warning("Cannot show the sample grid: %s", exc)
            self.sample.setText("The sample cannot be read")
            return
        pixmap = QPixmap.fromImage(rgba_to_qimage(pixels))
        self.sample.setPixmap(pixmap.scaled(self.sample.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                            Qt.TransformationMode.SmoothTransformation))
        self.sample.setToolTip(str(path))

    # -- buttons ----------------------------------------------------------------------------------------------------
    def stop(self) -> None:
        job = self.selected()
        if job is not None:
            self.runs.stop(job)

    def resume(self) -> None:
        job = self.selected()
        if job is not None:
            self.runs.resume(job)

    def remove(self) -> None:
        job = self.selected()
        if job is not None:
            self.runs.remove(job)

    def _new(self) -> None:
        if self._open_dialog is not None:
            self._open_dialog()

    # -- closing the app --------------------------------------------------------------------------------------------
    def confirm_close(self) -> bool:
        """Ask what to do with a running training; False keeps the app open. The queue is closed either way."""
        job = self.runs.current
        if job is None:
            self.runs.close(stop=True)
            return True
        detail = ("Stop saves a checkpoint, so the run can be continued later. Keep running lets it finish "
                  "without the app, which makes it a model the next time it starts (or make it one yourself "
                  f"once it is done with:\n{self.runs.export_command(job)})")
        answer = ask_close_training(self, job.spec.name, detail)
        if answer == "cancel":
            return False
        self.timer.stop()
        for note in self.runs.close(stop=answer == "stop"):
            log.warning("%s", note)
        return True


def refresh_model_lists(window) -> None:
    """A new model folder was registered: the window's palettes and explorer list it again."""
    for name in ("style_palette", "latent_explorer", "diffusion_panel"):
        panel = getattr(window, name, None)
        refresh = getattr(panel, "refresh_models", None)
        if refresh is not None:
            refresh()


def install_training_panel(window) -> QDockWidget:
    """The Training dock along the bottom (tabbed with Jobs), sharing the window's model registry."""
    from genart_desktop.ui.services import services_for

    runs = TrainingRuns(services_for(window).registry)
    panel = TrainingPanel(runs, lambda: open_train_dialog(window))
    window.training_panel = panel

    def model_added(job: TrainingJob) -> None:
        refresh_model_lists(window)
        window.statusBar().showMessage(f"New model \u201c{job.spec.name}\u201d ({job.model_id}) is ready", 10000)

    runs.model_added.connect(model_added)
    dock = window.add_panel(panel, "Training", Qt.DockWidgetArea.BottomDockWidgetArea,
                            tabify_with="Jobs" if "Jobs" in window.docks else None)
    window.resizeDocks([dock], [DOCK_HEIGHT], Qt.Orientation.Vertical)
    runs.adopt_kept()
    return dock


def adopt_kept_training(window) -> bool:
    """At start-up: when the app last closed with a training left running, the Training dock is built and follows
    it (the queue exports it once it is done). Nothing is built otherwise: most starts train nothing. True when a
    run was adopted (then show the dock once the saved layout is restored)."""
    if not (user_data_dir() / RUNS_FOLDER / KEPT_FILE).is_file():
        return False
    return bool(training_panel_for(window).runs.jobs)


def show_training_dock(window) -> None:
    dock = window.docks.get("Training")
    if dock is not None:
        dock.show()
        dock.raise_()


def training_panel_for(window) -> TrainingPanel:
    panel = getattr(window, "training_panel", None)
    if not isinstance(panel, TrainingPanel):
        install_training_panel(window)
        panel = window.training_panel
    return panel


def open_train_dialog(window) -> TrainingJob | None:
    """Tools > Train a Model...: ask, queue, show the Training dock."""
    from genart_desktop.ui.train_dialog import TrainDialog

    panel = training_panel_for(window)
    dialog = TrainDialog(panel.runs, getattr(window, "document", None), window)
    if dialog.exec() != TrainDialog.DialogCode.Accepted or dialog.result_spec is None:
        return None
    job = panel.runs.submit(dialog.result_spec)
    show_training_dock(window)
    panel.select(job)
    return job
