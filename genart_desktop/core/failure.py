"""The last line of defence at every entry point (the ``genart`` commands, app start-up): whatever escapes becomes one
printable line for the person, and the traceback goes to the user log file, never to the terminal.

The log is ``<user data>/logs/genart.log`` (rotated at 1 MB, three kept). Without a handler of ours, Python's
"last resort" handler would print warnings and tracebacks logged anywhere in the app straight to stderr.
"""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from genart_desktop.core.errors import GenArtError
from genart_desktop.core.paths import user_data_dir
from genart_desktop.core.text import shown

LOG_NAME = "genart.log"
MAX_LINE = 1000
_handler: logging.Handler | None = None

log = logging.getLogger("genart_desktop")


def log_path() -> Path:
    return user_data_dir() / "logs" / LOG_NAME


def enable_file_logging() -> Path | None:
    """Send the app's log (INFO and up) to the user log file; None when that file cannot be opened (logging then
    goes nowhere rather than to the terminal). Calling it again re-targets the file (a new GENART_HOME)."""
    global _handler
    root = logging.getLogger()
    try:
        path = log_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.handlers.RotatingFileHandler(path, maxBytes=1 << 20, backupCount=3,
                                                                         encoding="utf-8", delay=True)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    except (OSError, ValueError):
        path, handler = None, logging.NullHandler()
    if _handler is not None:
        root.removeHandler(_handler)
        _handler.close()
    _handler = handler
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > logging.INFO:
        root.setLevel(logging.INFO)
    return path


def describe(exc: BaseException) -> str:
    """What went wrong, for a person: the message of our own errors, the file and reason of an OSError, a plain
    sentence for running out of memory, else the exception's type and first line."""
    if isinstance(exc, GenArtError):
        text = str(exc)
    elif isinstance(exc, OSError) and exc.filename is not None:
        reason = exc.strerror or type(exc).__name__
        text = f"Cannot use {shown(exc.filename)}: {reason}."
    elif isinstance(exc, MemoryError):
        text = "Ran out of memory (the input is too large for this machine); nothing was written."
    elif isinstance(exc, RecursionError):
        text = "The input nests too deeply to be processed; nothing was written."
    else:
        lines = str(exc).strip().splitlines()
        text = f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
    return shown(text, MAX_LINE)


def report(exc: BaseException, context: str) -> str:
    """Log ``exc`` with its traceback (``context`` says where it was caught) and return the one line to show."""
    if isinstance(exc, GenArtError):
        log.info("%s: %s", context, exc)
    else:
        log.error("%s failed", context, exc_info=exc)
    return describe(exc)
