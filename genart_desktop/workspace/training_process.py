"""One ``genart-train`` process, its output followed line by line: a child the app starts (:class:`ChildProcess`),
or one an earlier session of the app started and left running (:class:`AdoptedProcess`).

Why files and not pipes: a person may close the app and keep a training running. A child writing into a pipe
whose reader is gone dies of SIGPIPE at its next line; a child writing into a file does not. So stdout and stderr
go to files in the app's runs folder, and a reader thread follows the stdout file (like ``tail -f``) into a
queue that the owner drains on its own thread. The child gets its own process group (session) so Ctrl+C in the
terminal that started the app does not reach it; Stop sends it SIGINT (CTRL_BREAK on Windows), which makes the
trainer save a checkpoint and say ``stopped``. An adopted process is not our child: its exit code is lost, so
``wait`` answers None and the owner reads the outcome from its output.
"""

from __future__ import annotations

import logging
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path

from genart_desktop.core.text import shown
from genart_desktop.workspace.training_pids import (
    interrupt_group,
    process_identity,
    same_process,
)

log = logging.getLogger(__name__)

POLL_S = 0.1  # how often the reader looks for new output
MAX_PENDING_CHARS = 1 << 20  # an unterminated "line" longer than this is dropped, not buffered for ever
TAIL_BYTES = 16 * 1024  # how much of stderr is read back for the error message
ADOPTED_POLL_S = 1.0  # how often an adopted process is looked up


class _FollowedProcess(ABC):
    """A process writing into ``stdout_path``; ``lines`` receives each complete stdout line, then ``None`` once the
    process has ended and all of its output was read. Subclasses say whether it has ended."""

    pid: int

    def __init__(self, stdout_path: Path, stderr_path: Path) -> None:
        self.stdout_path, self.stderr_path = stdout_path, stderr_path
        self.lines: queue.Queue[str | None] = queue.Queue()
        self._detached = threading.Event()
        self._reader: threading.Thread | None = None

    def _start_reader(self) -> None:
        self._reader = threading.Thread(target=self._follow, name=f"genart-train-{self.pid}", daemon=True)
        self._reader.start()

    @abstractmethod
    def ended(self) -> bool:
        """Whether the process has exited (all it wrote is then in its file)."""

    def detach(self) -> None:
        """Stop following the process and leave it running (it keeps writing into its files)."""
        self._detached.set()

    def error_line(self) -> str:
        """The last non-blank line the process wrote to stderr (its one-line reason), escaped for showing."""
        try:
            with open(self.stderr_path, "rb") as err:
                err.seek(max(0, err.seek(0, os.SEEK_END) - TAIL_BYTES))
                text = err.read().decode("utf-8", "replace")
        except OSError:
            return ""
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        return shown(lines[-1]) if lines else ""

    # -- the reader thread -----------------------------------------------------------------------------------------
    def _follow(self) -> None:
        pending = b""
        try:
            with open(self.stdout_path, "rb") as out:
                while not self._detached.is_set():
                    ended = self.ended()  # before reading, so nothing written after is missed
                    chunk = out.read()
                    if chunk:
                        pending = self._split(pending + chunk)
                    elif ended:
                        break
                    else:
                        self._detached.wait(POLL_S)
        except OSError as exc:  # an adopted run's log was deleted meanwhile: its end is all that can be told
            log.warning("Cannot follow the output of pid %d in %s: %s", self.pid, shown(self.stdout_path), exc)
            while not self._detached.is_set() and not self.ended():
                self._detached.wait(POLL_S)
        if pending.strip() and not self._detached.is_set():
            self.lines.put(pending.decode("utf-8", "replace"))  # a last line without a newline
        self.lines.put(None)

    def _split(self, data: bytes) -> bytes:
        *complete, rest = data.split(b"\n")
        for line in complete:
            self.lines.put(line.decode("utf-8", "replace"))
        if len(rest) > MAX_PENDING_CHARS:
            log.warning("Dropped %d bytes of output without a line break from pid %d", len(rest), self.pid)
            return b""
        return rest


class ChildProcess(_FollowedProcess):
    """A child started from ``argv``, writing into ``<log_stem>.out.jsonl`` and ``<log_stem>.err.log``;
    ``identity`` tells it apart from a later process given the same pid (see training_pids)."""

    def __init__(self, argv: Sequence[str], log_stem: Path) -> None:
        super().__init__(log_stem.with_suffix(".out.jsonl"), log_stem.with_suffix(".err.log"))
        self.argv = [str(part) for part in argv]
        log_stem.parent.mkdir(parents=True, exist_ok=True)
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.process = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                            env={**os.environ, "PYTHONIOENCODING": "utf-8"},
                                            **_own_group())
        self.identity = process_identity(self.process.pid)
        log.info("Started pid %d: %s", self.process.pid, shown(" ".join(self.argv), 2000))
        self._start_reader()

    @property
    def pid(self) -> int:
        return self.process.pid

    def returncode(self) -> int | None:
        return self.process.poll()

    def ended(self) -> bool:
        return self.process.poll() is not None

    def interrupt(self) -> None:
        """Ask the child to stop after this step with a checkpoint (a second call makes it stop at once)."""
        if self.process.poll() is not None:
            return
        try:
            if sys.platform == "win32":
                self.process.send_signal(signal.CTRL_BREAK_EVENT)  # type: ignore[attr-defined]
            else:
                self.process.send_signal(signal.SIGINT)
        except OSError as exc:  # it exited between the poll and the signal
            log.info("Could not interrupt pid %d: %s", self.process.pid, exc)

    def wait(self, timeout: float | None = None) -> int | None:
        """Wait for the child to exit and for the reader to take in all its output."""
        code = self.process.wait(timeout)
        self._reader.join(timeout)
        return code


class AdoptedProcess(_FollowedProcess):
    """A training an earlier session of the app left running: its output is read from the start of its file (so
    the curve is whole), and it has ended once ``pid`` is no longer the process with ``identity``."""

    def __init__(self, pid: int, identity: str, stdout_path: Path, stderr_path: Path) -> None:
        super().__init__(stdout_path, stderr_path)
        self.pid, self.identity = pid, identity
        self._alive_until = 0.0  # a positive answer is trusted this long: ``ps`` is not free on every system
        self._start_reader()

    def ended(self) -> bool:
        if time.monotonic() < self._alive_until:
            return False
        if not same_process(self.pid, self.identity):
            return True
        self._alive_until = time.monotonic() + ADOPTED_POLL_S
        return False

    def interrupt(self) -> None:
        """SIGINT to its process group, if it is still that process: it saves a checkpoint and says ``stopped``."""
        interrupt_group(self.pid, self.identity)

    def wait(self, timeout: float | None = None) -> int | None:
        """Wait until its output has been read to the end; its exit code is unknown (None)."""
        self._reader.join(timeout)
        return None


def _own_group() -> dict:
    """Popen options that put the child in a process group of its own (survives the app; takes Stop signals)."""
    if sys.platform == "win32":
        return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}  # type: ignore[attr-defined]
    return {"start_new_session": True}
