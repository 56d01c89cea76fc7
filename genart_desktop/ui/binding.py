"""Binding widgets to a Qt-free controller's signals (``core.observable.Signal``) for as long as the widget lives.

Why: a controller can outlive its panel (a job's late event still reaches it), so a connection left behind would call
a slot of a deleted widget. ``bind`` disconnects every pair when the widget is destroyed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QObject

from genart_desktop.core.observable import Signal

Binding = tuple[Signal, Callable[..., Any]]


def bind(widget: QObject, bindings: Sequence[Binding]) -> None:
    """Connect each ``(signal, slot)`` now and disconnect them all when ``widget`` is destroyed."""
    pairs = list(bindings)
    for signal, slot in pairs:
        signal.connect(slot)
    widget.destroyed.connect(lambda *_: [signal.disconnect(slot) for signal, slot in pairs])


def follow(old: Any, new: Any, slot: Callable[..., Any]) -> Any:
    """Move ``slot`` from ``old.changed`` to ``new.changed`` (either may be None) and return ``new``: the one way
    panels switch to another document without leaving a connection to the previous one."""
    if old is not None:
        old.changed.disconnect(slot)
    if new is not None:
        new.changed.connect(slot)
    return new
