"""Turns engine job events (emitted on worker threads) into Qt signals delivered on the GUI thread.

The runner's listener only posts the event through a queued connection; the public signals are emitted from the
bridge's own (GUI) thread, so widgets connected to them never run on a worker thread.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal, Slot

from genart_desktop.engine.events import Cancelled, Error, JobEvent, Preview, Progress, Result
from genart_desktop.engine.jobs import JobRunner


class JobBridge(QObject):
    progress = Signal(int, float, str)  # job_id, fraction, message
    preview = Signal(int, object)  # job_id, read-only ndarray
    finished = Signal(int, object)  # job_id, result
    failed = Signal(int, str)  # job_id, message
    cancelled = Signal(int)  # job_id

    _posted = Signal(object)

    def __init__(self, runner: JobRunner | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._runner: JobRunner | None = None
        self._posted.connect(self._dispatch, Qt.ConnectionType.QueuedConnection)
        if runner is not None:
            self.attach(runner)

    def attach(self, runner: JobRunner) -> None:
        """Listen to every job of ``runner`` (a bridge follows one runner at a time)."""
        self.detach()
        self._runner = runner
        runner.add_listener(self.post)

    def detach(self) -> None:
        if self._runner is not None:
            self._runner.remove_listener(self.post)
            self._runner = None

    def post(self, event: JobEvent) -> None:
        """Thread-safe: queue ``event`` for delivery on the bridge's thread (also usable as a per-job listener)."""
        self._posted.emit(event)

    @Slot(object)
    def _dispatch(self, event: JobEvent) -> None:
        if isinstance(event, Progress):
            self.progress.emit(event.job_id, event.fraction, event.message)
        elif isinstance(event, Preview):
            self.preview.emit(event.job_id, event.image)
        elif isinstance(event, Result):
            self.finished.emit(event.job_id, event.value)
        elif isinstance(event, Error):
            self.failed.emit(event.job_id, event.message)
        elif isinstance(event, Cancelled):
            self.cancelled.emit(event.job_id)
