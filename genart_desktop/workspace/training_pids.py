"""Is process N still the training the app started? A pid alone cannot say: once a process ends, the system may
give its number to another one. So a kept training is recorded with its pid *and* its start identity (when the
process started), and only a live process with both equal is taken to be it.

Linux reads the start time from ``/proc/<pid>/stat``; other POSIX systems ask ``ps``. Where neither answers
(Windows) the identity is None and the app does not keep track of trainings it leaves running.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys

log = logging.getLogger(__name__)

PS_TIMEOUT_S = 5.0
_ENDED_STATES = ("Z", "X")  # a zombie has ended; only its exit status is left for its parent to collect


def process_identity(pid: int) -> str | None:
    """A string that differs between two processes given the same pid: its start time. None when no live process
    has this pid (or this system cannot say)."""
    if pid <= 0 or sys.platform == "win32":
        return None
    if os.path.isdir("/proc/self"):
        return _proc_identity(pid)
    return _ps_identity(pid)


def _proc_identity(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            stat = handle.read().decode("ascii", "replace")
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2:].split()  # the name in parentheses may hold spaces and brackets
    if len(fields) < 20 or fields[0] in _ENDED_STATES:
        return None
    return fields[19]  # field 22 of proc(5): start time in clock ticks after boot


def _ps_identity(pid: int) -> str | None:
    try:
        result = subprocess.run(["ps", "-o", "stat=,lstart=", "-p", str(pid)], capture_output=True, text=True,
                                timeout=PS_TIMEOUT_S, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    state, _, started = result.stdout.strip().partition(" ")
    if result.returncode != 0 or not started or state[:1] in _ENDED_STATES:
        return None
    return " ".join(started.split())


def same_process(pid: int, identity: str) -> bool:
    """Whether ``pid`` is alive and is the process that had ``identity`` when it was recorded."""
    return bool(identity) and process_identity(pid) == identity


def interrupt_group(pid: int, identity: str) -> bool:
    """SIGINT to the process group led by ``pid`` (the app starts each training in a session of its own), only if
    ``pid`` is still that process. True when the signal was sent."""
    if not same_process(pid, identity):
        return False
    try:
        os.killpg(pid, signal.SIGINT)
    except OSError as exc:  # it ended between the check and the signal
        log.info("Could not interrupt process group %d: %s", pid, exc)
        return False
    return True
