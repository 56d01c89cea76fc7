"""What ends a job from outside: a wall-clock deadline, and Ctrl+C when the job runs on the main thread.

Both end it the way the app's Cancel button does, through ``JobContext.cancel()``, which also sets onnxruntime's
``RunOptions.terminate`` so a long graph run stops between two nodes.

Ctrl+C needs care: while the main thread is inside onnxruntime (C++), Python signal handlers cannot run, so a
plain handler would wait for the run to finish (a graph that loops 2**62 times never does). The C-level signal
handler still writes the signal number to the wake-up descriptor (``signal.set_wakeup_fd``), so a small watcher
thread reading it cancels the job at once. A second Ctrl+C raises KeyboardInterrupt as soon as Python runs again.
"""

from __future__ import annotations

import signal
import socket
import threading
from types import TracebackType
from typing import Any

from genart_desktop.core.errors import GenArtError, JobCancelled
from genart_desktop.engine.events import Cancelled, Error, JobEvent

DEFAULT_INLINE_LIMIT_S = 3600.0  # a command-line job (genart generate/style) gets an hour unless set otherwise
SETTING = "job_time_limit_s"


class Interrupted(JobCancelled):
    """The person pressed Ctrl+C while the job ran."""


class TookTooLong(GenArtError):
    """The job passed its wall-clock limit and was stopped."""


def inline_limit(requested: float | None) -> float | None:
    """The limit for a job run inline: the request's own, else the ``job_time_limit_s`` setting, else an hour
    (0 or less in either place means no limit)."""
    value: Any = requested
    if value is None:
        try:
            from genart_desktop.core.settings import load_settings

            value = load_settings().get(SETTING, DEFAULT_INLINE_LIMIT_S)
        except Exception:  # noqa: BLE001 - unreadable settings must not stop a job; the default applies
            value = DEFAULT_INLINE_LIMIT_S
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = DEFAULT_INLINE_LIMIT_S
    return seconds if 0 < seconds < float("inf") else None


class JobLimits:
    """``with JobLimits(context, seconds, sigint=True) as limits: event = limits.verdict(run())``."""

    def __init__(self, context: Any, seconds: float | None = None, sigint: bool = False) -> None:
        self.context = context
        self.seconds = seconds
        self.expired = False
        self.presses = 0
        self._timer: threading.Timer | None = None
        self._sigint = sigint and threading.current_thread() is threading.main_thread()
        self._pair: tuple[socket.socket, socket.socket] | None = None
        self._watcher: threading.Thread | None = None
        self._old_handler: Any = None
        self._old_fd = -1

    @property
    def interrupted(self) -> bool:
        return self.presses > 0

    def __enter__(self) -> JobLimits:
        if self.seconds is not None:
            self._timer = threading.Timer(self.seconds, self._expire)
            self._timer.daemon = True
            self._timer.start()
        if self._sigint:
            self._install()
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self._pair is not None:
            self._uninstall()

    def verdict(self, event: JobEvent) -> JobEvent:
        """The job's terminal event, with a stop caused by the deadline reported as a one-line error."""
        if self.expired and isinstance(event, (Cancelled, Error)):
            message = f"{self.context.label} took longer than {self.seconds:g} s and was stopped."
            return Error(event.job_id, message, TookTooLong(message))
        return event

    def cancelled(self, reason: str) -> JobCancelled:
        """The exception for a cancelled inline job: :class:`Interrupted` when Ctrl+C did it."""
        return Interrupted(reason) if self.interrupted else JobCancelled(reason)

    # --- deadline ----------------------------------------------------------------------------------------------

    def _expire(self) -> None:
        self.expired = True
        self.context.cancel()

    # --- Ctrl+C ------------------------------------------------------------------------------------------------

    def _install(self) -> None:
        reader, writer = socket.socketpair()
        writer.setblocking(False)
        try:
            self._old_fd = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
            self._old_handler = signal.signal(signal.SIGINT, self._on_python_sigint)
        except (ValueError, OSError):  # not the main thread of the main interpreter after all
            signal.set_wakeup_fd(self._old_fd)
            reader.close()
            writer.close()
            return
        self._pair = (reader, writer)
        self._watcher = threading.Thread(target=self._watch, name="genart-sigint", daemon=True)
        self._watcher.start()

    def _uninstall(self) -> None:
        assert self._pair is not None
        reader, writer = self._pair
        signal.signal(signal.SIGINT, self._old_handler if self._old_handler is not None else signal.default_int_handler)
        signal.set_wakeup_fd(self._old_fd)
        try:
            writer.send(b"\0")  # 0 is no signal: it tells the watcher to stop
        except OSError:
            pass
        if self._watcher is not None:
            self._watcher.join(2.0)
        reader.close()
        writer.close()
        self._pair = None

    def _watch(self) -> None:
        """Runs on its own thread: each SIGINT byte cancels the job (immediately, even during a C++ run)."""
        assert self._pair is not None
        reader = self._pair[0]
        while True:
            try:
                data = reader.recv(64)
            except OSError:
                return
            if not data or 0 in data:
                return
            if signal.SIGINT in data:
                self.presses += data.count(signal.SIGINT)
                self.context.cancel()

    def _on_python_sigint(self, signum: int, frame: Any) -> None:  # noqa: ARG002 - signal handler signature
        """Runs on the main thread once Python gets control: the watcher already cancelled; a second press (or a
        first one the watcher missed) gives the person their KeyboardInterrupt back."""
        if self.presses >= 2:
            raise KeyboardInterrupt
        if not self.presses:
            self.presses = 1
            self.context.cancel()
