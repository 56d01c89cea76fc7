"""What the latent explorer's tab pages need from the panel that holds them (kept tiny and explicit)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from PySide6.QtWidgets import QPushButton

from genart_desktop.document.document import Document
from genart_desktop.engine.jobs import JobRequest
from genart_desktop.workspace.latent import LatentExplorer


class ExplorerHost(Protocol):
    explorer: LatentExplorer

    def document(self) -> Document | None: ...

    def submit(self, request: JobRequest, on_result: Callable[[Any], None], kind: str) -> int: ...

    def call(self, action: Callable[[], Any]) -> Any: ...

    def attempt(self, action: Callable[[], Any]) -> bool: ...

    def set_status(self, text: str, error: bool = False) -> None: ...

    def after_move(self) -> None: ...

    def request_grid(self) -> None: ...

    def ticked_bookmarks(self) -> list[str]: ...

    def refresh_bookmarks(self) -> None: ...


def button(text: str, tip: str, slot: Callable[[], Any]) -> QPushButton:
    widget = QPushButton(text)
    widget.setToolTip(tip)
    widget.clicked.connect(lambda _=False: slot())
    return widget
