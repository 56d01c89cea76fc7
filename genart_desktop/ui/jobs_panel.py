"""The Jobs dock: the listed jobs of the app's shared runner, queued, running (progress, live preview) and finished.
Style previews and thumbnails, live diffusion and latent grids run unlisted: they would bury the work that matters.

Running jobs report through the shared :class:`JobBridge` (events arrive on the GUI thread). Jobs still waiting in
the queue send no events, so the panel also looks at the runner's queue a few times a second. A job replaced in the
queue by a newer request of the same kind (superseded before it started) disappears silently; every
other ending stays listed (the last few) with its outcome, and errors are shown in words.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from genart_desktop.engine.events import Cancelled, Error, JobEvent, Preview, Progress, Result, dispatch
from genart_desktop.engine.jobs import REPLACED, JobHandle, JobRunner
from genart_desktop.ui.binding import bind
from genart_desktop.workspace.workspace import Workspace
from genart_desktop.ui.qimage import rgba_to_qimage

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
ACTIVE = (QUEUED, RUNNING)
STATE_TEXT = {QUEUED: "Queued", RUNNING: "Running", DONE: "Done", FAILED: "Failed", CANCELLED: "Cancelled"}
STATE_COLOUR = {QUEUED: "#9aa4b2", RUNNING: "#8ab4f8", DONE: "#81c995", FAILED: "#f28b82", CANCELLED: "#b8b8c0"}
THUMB = 44
POLL_MS = 250
KEEP_FINISHED = 25
STARTED_SUFFIX = ": started"


def queued_and_running(runner: JobRunner) -> list[JobHandle]:
    """The runner's running and waiting jobs the user should see (housekeeping left out), in that order."""
    return [handle for handle in runner.jobs() if handle.request.listed]


def preview_rgba(image: Any) -> np.ndarray | None:
    """A job's preview as (H, W, 4) uint8: accepts uint8 HWC/HW images and float images or (B, C, H, W) tensors
    (in [-1, 1] when negative values occur, else [0, 1]); None for anything else."""
    array = np.asarray(image)
    if array.ndim == 4:
        array = array[0]
    if array.ndim == 3 and array.shape[0] in (1, 3, 4) and array.shape[2] not in (1, 3, 4):
        array = array.transpose(1, 2, 0)
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3 or array.shape[2] not in (1, 3, 4) or array.size == 0:
        return None
    if array.dtype != np.uint8:
        values = np.nan_to_num(array.astype(np.float32))
        if values.min() < 0.0:
            values = (values + 1.0) * 0.5
        array = np.clip(np.rint(values * 255.0), 0, 255).astype(np.uint8)
    if array.shape[2] == 1:
        array = np.repeat(array, 3, axis=2)
    if array.shape[2] == 3:
        array = np.dstack([array, np.full(array.shape[:2], 255, np.uint8)])
    return np.ascontiguousarray(array)


def result_image(value: object) -> np.ndarray | None:
    """A small RGBA look at a job's result when it is an image (an array, or an object with ``pixels``)."""
    array = value if isinstance(value, np.ndarray) else getattr(value, "pixels", None)
    if not isinstance(array, np.ndarray) or array.ndim not in (2, 3) or min(array.shape[:2]) < 1:
        return None
    if array.ndim == 3 and array.shape[2] not in (1, 3, 4):
        return None
    step = max(1, max(array.shape[:2]) // (2 * THUMB))
    return preview_rgba(array[::step, ::step])


@dataclass
class JobEntry:
    """What the panel knows about one job."""

    job_id: int
    label: str
    state: str = QUEUED
    fraction: float = 0.0
    message: str = ""
    handle: JobHandle | None = field(default=None, repr=False)
    started: bool = False


class JobRow(QFrame):
    """One job: live preview, label and message, progress bar, state and a cancel button."""

    def __init__(self, entry: JobEntry, on_cancel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.entry = entry
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setObjectName("jobRow")
        self.setStyleSheet("#jobRow { background: #2a2a2e; border: 1px solid #1d1d20; border-radius: 4px; }")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(8)
        self.thumb = QLabel()
        self.thumb.setFixedSize(THUMB, THUMB)
        self.thumb.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.thumb.setStyleSheet("background: #1f1f22; border-radius: 3px;")
        layout.addWidget(self.thumb)
        text = QVBoxLayout()
        text.setSpacing(1)
        self.title = QLabel(entry.label)
        self.title.setStyleSheet("font-weight: bold;")
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.detail = QLabel("")
        self.detail.setWordWrap(True)
        self.detail.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        text.addWidget(self.title)
        text.addWidget(self.detail)
        layout.addLayout(text, 1)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setFixedWidth(160)
        self.bar.setTextVisible(True)
        layout.addWidget(self.bar)
        self.state_label = QLabel()
        self.state_label.setFixedWidth(70)
        layout.addWidget(self.state_label)
        self.cancel_button = QToolButton()
        self.cancel_button.setText("\u2715")
        self.cancel_button.setToolTip("Cancel this job")
        self.cancel_button.clicked.connect(lambda _=False: on_cancel(entry.job_id))
        layout.addWidget(self.cancel_button)
        self.refresh()

    def refresh(self) -> None:
        entry = self.entry
        self.title.setText(entry.label)
        self.title.setToolTip(entry.label)
        self.state_label.setText(STATE_TEXT[entry.state])
        self.state_label.setStyleSheet(f"color: {STATE_COLOUR[entry.state]};")
        self.cancel_button.setVisible(entry.state in ACTIVE)
        if entry.state == QUEUED:
            self.bar.setRange(0, 1000)
            self.bar.setValue(0)
            self.bar.setFormat("waiting")
        elif entry.state == RUNNING and entry.fraction <= 0.0:
            self.bar.setRange(0, 0)  # busy indicator until the job reports a fraction
        else:
            self.bar.setRange(0, 1000)
            self.bar.setValue(int(round((1.0 if entry.state == DONE else entry.fraction) * 1000)))
            self.bar.setFormat("%p%")
        self.bar.setVisible(entry.state in ACTIVE or entry.state == DONE)
        colour = "#f28b82" if entry.state == FAILED else "#9aa4b2"
        self.detail.setStyleSheet(f"color: {colour};")
        self.detail.setText(entry.message)
        self.detail.setToolTip(entry.message if len(entry.message) > 60 else "")

    def set_preview(self, pixels: np.ndarray) -> None:
        image = rgba_to_qimage(pixels)
        scaled = image.scaled(QSize(THUMB, THUMB), Qt.AspectRatioMode.KeepAspectRatio,
                              Qt.TransformationMode.SmoothTransformation)
        self.thumb.setPixmap(QPixmap.fromImage(scaled))

    def has_preview(self) -> bool:
        pixmap = self.thumb.pixmap()
        return pixmap is not None and not pixmap.isNull()


class JobsPanel(QWidget):
    """Queued, running and recently finished jobs of the workspace's runner, with Cancel per job and Cancel all.

    Events arrive through ``workspace.event`` on the thread that delivers them (the GUI thread in the app)."""

    def __init__(self, workspace: Workspace, parent: QWidget | None = None,
                 keep_finished: int = KEEP_FINISHED) -> None:
        super().__init__(parent)
        self.runner: JobRunner = workspace.runner
        self.keep_finished = keep_finished
        self.entries: dict[int, JobEntry] = {}
        self.rows: dict[int, JobRow] = {}
        self._build()
        bind(self, [(workspace.event, self._on_event)])
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self.sync_queue)
        self._timer.start()
        self.sync_queue()

    # ================================================================== building
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 6)
        layout.setSpacing(4)
        header = QHBoxLayout()
        self.summary = QLabel()
        self.summary.setStyleSheet("color: #b8b8c0;")
        header.addWidget(self.summary, 1)
        self.cancel_all_button = QPushButton("Cancel all")
        self.cancel_all_button.setToolTip("Cancel every queued and running job")
        self.cancel_all_button.clicked.connect(lambda _=False: self.cancel_all())
        self.clear_button = QPushButton("Clear finished")
        self.clear_button.setToolTip("Remove finished, failed and cancelled jobs from the list")
        self.clear_button.clicked.connect(lambda _=False: self.clear_finished())
        header.addWidget(self.cancel_all_button)
        header.addWidget(self.clear_button)
        layout.addLayout(header)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        body = QWidget()
        self.list_layout = QVBoxLayout(body)
        self.list_layout.setContentsMargins(0, 0, 0, 0)
        self.list_layout.setSpacing(3)
        self.empty_label = QLabel("No jobs yet. Style renders, generations, upscales and latent exports appear "
                                  "here while they run; previews are not listed.")
        self.empty_label.setWordWrap(True)
        self.empty_label.setStyleSheet("color: #9aa4b2;")
        self.list_layout.addWidget(self.empty_label)
        self.list_layout.addStretch(1)
        self.scroll.setWidget(body)
        layout.addWidget(self.scroll, 1)
        self._refresh_summary()

    # ================================================================== queries (tests and the window)
    def states(self) -> dict[int, str]:
        return {job_id: entry.state for job_id, entry in self.entries.items()}

    def active_count(self) -> int:
        return sum(entry.state in ACTIVE for entry in self.entries.values())

    # ================================================================== actions
    def cancel_job(self, job_id: int) -> bool:
        return self.runner.cancel(job_id)

    def cancel_all(self) -> None:
        self.runner.cancel_all()

    def clear_finished(self) -> None:
        for job_id in [j for j, e in self.entries.items() if e.state not in ACTIVE]:
            self._remove(job_id)
        self._relayout()

    # ================================================================== tracking
    def sync_queue(self) -> None:
        """Pick up jobs waiting in the queue (they send no events until they start)."""
        try:
            handles = queued_and_running(self.runner)
        except Exception:  # noqa: BLE001 - a runner without a readable queue still reports through the bridge
            return
        changed = False
        for handle in handles:
            entry = self.entries.get(handle.job_id)
            if entry is None:
                state = RUNNING if handle.state == "running" else QUEUED
                self._add(JobEntry(handle.job_id, handle.label, state, handle=handle, started=state == RUNNING))
                changed = True
            elif entry.handle is None:
                entry.handle = handle
        if changed:
            self._relayout()

    def _entry(self, job_id: int, label: str | None = None) -> JobEntry:
        entry = self.entries.get(job_id)
        if entry is None:
            self.sync_queue()
            entry = self.entries.get(job_id)
        if entry is None:  # it started and reported before the queue was looked at
            entry = JobEntry(job_id, label or f"Job {job_id}", RUNNING, started=True)
            self._add(entry)
            self._relayout()
        return entry

    def _add(self, entry: JobEntry) -> None:
        self.entries[entry.job_id] = entry
        self.rows[entry.job_id] = JobRow(entry, self.cancel_job)

    def _remove(self, job_id: int) -> None:
        self.entries.pop(job_id, None)
        row = self.rows.pop(job_id, None)
        if row is not None:
            self.list_layout.removeWidget(row)
            row.deleteLater()

    def _shown(self, job_id: int) -> bool:
        return job_id in self.entries or self.runner.is_listed(job_id)

    def _on_event(self, event: JobEvent) -> None:
        dispatch(event, self)

    def on_progress(self, event: Progress) -> None:
        job_id, fraction, message = event.job_id, event.fraction, event.message
        if not self._shown(job_id):
            return
        label = message[: -len(STARTED_SUFFIX)] if message.endswith(STARTED_SUFFIX) else None
        entry = self._entry(job_id, label)
        was = entry.state
        if entry.state in ACTIVE:
            entry.state = RUNNING
            entry.started = True
            entry.fraction = fraction
            if message and not message.endswith(STARTED_SUFFIX):
                entry.message = message
        self.rows[job_id].refresh()
        if was != entry.state:
            self._relayout()

    def on_preview(self, event: Preview) -> None:
        job_id = event.job_id
        pixels = preview_rgba(event.image)
        if pixels is None or not self._shown(job_id):
            return
        self._entry(job_id)
        self.rows[job_id].set_preview(pixels)

    def on_result(self, event: Result) -> None:
        job_id = event.job_id
        if not self._shown(job_id):
            return
        self._on_end(job_id, DONE, "")
        row = self.rows.get(job_id)
        image = result_image(event.value)
        if row is not None and image is not None:
            row.set_preview(image)  # the final look replaces the live one

    def on_error(self, event: Error) -> None:
        self._on_end(event.job_id, FAILED, event.message)

    def on_cancelled(self, event: Cancelled) -> None:
        job_id = event.job_id
        entry = self.entries.get(job_id)
        if entry is not None and not entry.started and event.reason == REPLACED:
            self._remove(job_id)  # superseded by a newer request of the same kind: not worth a line
            self._relayout()
            return
        if entry is None:
            return  # never seen: replaced or cancelled before the panel looked at the queue
        self._on_end(job_id, CANCELLED, event.reason or ("Cancelled while running." if entry.started
                                                   else "Cancelled before it started."))

    def _on_end(self, job_id: int, state: str, message: str) -> None:
        if not self._shown(job_id):
            return
        entry = self._entry(job_id)
        entry.state = state
        if state == DONE:
            entry.fraction = 1.0
            entry.message = ""
        else:
            entry.message = message
        self.rows[job_id].refresh()
        self._prune()
        self._relayout()

    def _prune(self) -> None:
        finished = sorted(j for j, e in self.entries.items() if e.state not in ACTIVE)
        for job_id in finished[: max(0, len(finished) - self.keep_finished)]:
            self._remove(job_id)

    def _relayout(self) -> None:
        """Running first, then the queue in order, then finished jobs newest first."""
        def order(entry: JobEntry) -> tuple[int, int]:
            group = {RUNNING: 0, QUEUED: 1}.get(entry.state, 2)
            return group, entry.job_id if group < 2 else -entry.job_id

        for row in self.rows.values():
            self.list_layout.removeWidget(row)
        for position, entry in enumerate(sorted(self.entries.values(), key=order)):
            self.list_layout.insertWidget(position, self.rows[entry.job_id])
            self.rows[entry.job_id].show()
        self.empty_label.setVisible(not self.entries)
        self._refresh_summary()

    def _refresh_summary(self) -> None:
        running = sum(e.state == RUNNING for e in self.entries.values())
        queued = sum(e.state == QUEUED for e in self.entries.values())
        parts = [f"{running} running" if running else "", f"{queued} queued" if queued else ""]
        text = " \u00b7 ".join(p for p in parts if p) or "Idle"
        self.summary.setText(text)
        self.cancel_all_button.setEnabled(bool(running or queued))
        self.clear_button.setEnabled(any(e.state not in ACTIVE for e in self.entries.values()))
