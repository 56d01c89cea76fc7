"""A Qt-free signal: controllers announce changes through it, and widgets (or tests) connect to it.

Why not Qt signals: workspace controllers must run without Qt (CLI, tests), yet the ui binds to them the way napari's
widgets bind to layer events. Callbacks run on the thread that emits, in the order they were connected; one that
raises is logged and does not stop the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


class Signal:
    """A list of callbacks called with the emitted arguments."""

    def __init__(self) -> None:
        self._callbacks: list[Callable[..., Any]] = []

    def connect(self, callback: Callable[..., Any]) -> Callable[..., Any]:
        """Call ``callback(*args)`` on every :meth:`emit`; returns it, so this also works as a decorator."""
        if callback not in self._callbacks:
            self._callbacks.append(callback)
        return callback

    def disconnect(self, callback: Callable[..., Any]) -> None:
        if callback in self._callbacks:
            self._callbacks.remove(callback)

    def emit(self, *args: Any) -> None:
        for callback in list(self._callbacks):
            try:
                callback(*args)
            except Exception:  # noqa: BLE001 - one broken listener must not hide the change from the others
                log.exception("A listener of %r failed", callback)

    def __len__(self) -> int:
        return len(self._callbacks)
