"""A tiny Qt-free signal and the change notice the document sends to views."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from genart_desktop.document.geometry import Rect

CHANGE_KINDS = ("pixels", "layers", "selection", "active", "history", "document", "regions")


@dataclass(frozen=True)
class DocumentChange:
    """What changed: ``kind`` is one of :data:`CHANGE_KINDS`; ``rect`` the dirty canvas area or None for everything."""

    kind: str
    rect: Rect | None = None


class Signal:
    """A list of callbacks; ``emit`` calls them in connection order."""

    def __init__(self) -> None:
        self._slots: list[Callable[..., Any]] = []

    def connect(self, callback: Callable[..., Any]) -> None:
        if callback not in self._slots:
            self._slots.append(callback)

    def disconnect(self, callback: Callable[..., Any]) -> None:
        try:
            self._slots.remove(callback)
        except ValueError:
            pass

    def emit(self, *args: Any) -> None:
        for slot in list(self._slots):
            slot(*args)

    def __len__(self) -> int:
        return len(self._slots)
