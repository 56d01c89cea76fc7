"""One ``genart-train`` child process: started from an argument list, its output followed line by line.

Why files and not pipes: a person may close the app and keep a training running. A child writing into a pipe
whose reader is gone dies of SIGPIPE at its next line; a child writing into a file does not. So stdout and stderr
go to files in the app's runs folder, and a reader thread follows the stdout file (like ``tail -f``) into a
queue that the owner drains on its own thread. The child gets its own process group (session) so Ctrl+C in the
terminal that started the app does not reach it; Stop sends it SIGINT (CTRL_BREAK on Windows), which makes the
trainer save a checkpoint and say ``stopped``.
"""

from __future__ import annotations

import logging
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from genart_desktop.core.text import shown

log = logging.getLogger(__name__)

POLL_S = 0.1  # how often the reader looks for new output
MAX_PENDING_CHARS = 1 << 20  # an unterminated "line" longer than this is dropped, not buffered for ever
TAIL_BYTES = 16 * 1024  # how much of stderr is read back for the error message


class ChildProcess:
    """A started child; ``lines`` receives each complete stdout line, ``None`` once the child has exited and all of
    its output was read."""

    def __init__(self, argv: Sequence[str], log_stem: Path) -> None:
        self.argv = [str(part) for part in argv]
        self.stdout_path = log_stem.with_suffix(".out.jsonl")
        self.stderr_path = log_stem.with_suffix(".err.log")
        self.lines: queue.Queue[str | None] = queue.Queue()
        self._detached = threading.Event()
        log_stem.parent.mkdir(parents=True, exist_ok=True)
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.process = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                            env={**os.environ, "PYTHONIOENCODING": "utf-8"},
                                            **_own_group())
        log.info("Started pid %d: %s", self.process.pid, shown(" ".join(self.argv), 2000))
        self._reader = threading.Thread(target=self._follow, name=f"genart-train-{self.process.pid}", daemon=True)
        self._reader.start()

    @property
    def pid(self) -> int:
        return self.process.pid

    def returncode(self) -> int | None:
        return self.process.poll()

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

    def detach(self) -> None:
        """Stop following the child and leave it running (it keeps writing into its files)."""
        self._detached.set()

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the child to exit and for the reader to take in all its output."""
        code = self.process.wait(timeout)
        self._reader.join(timeout)
        return code

    def error_line(self) -> str:
        """The last non-blank line the child wrote to stderr (its one-line reason), escaped for showing."""
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
        with open(self.stdout_path, "rb") as out:
            while not self._detached.is_set():
                exited = self.process.poll() is not None  # before reading, so nothing written after is missed
                chunk = out.read()
                if chunk:
                    pending = self._split(pending + chunk)
                elif exited:
                    break
                else:
                    self._detached.wait(POLL_S)
        if pending.strip() and not self._detached.is_set():
            self.lines.put(pending.decode("utf-8", "replace"))  # a last line without a newline
        self.lines.put(None)

    def _split(self, data: bytes) -> bytes:
        *complete, rest = data.split(b"\n")
        for line in complete:
            self.lines.put(line.decode("utf-8", "replace"))
        if len(rest) > MAX_PENDING_CHARS:
            log.warning("Dropped %d bytes of output without a line break from pid %d", len(rest), self.process.pid)
            return b""
        return rest


def _own_group() -> dict:
    """Popen options that put the child in a process group of its own (survives the app; takes Stop signals)."""
    if sys.platform == "win32":
        return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}  # type: ignore[attr-defined]
    return {"start_new_session": True}
