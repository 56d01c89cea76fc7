"""What the latent explorer's tab pages need from the panel that holds them (kept tiny and explicit).

A tab calls its part of the controller (``host.controller.bookmarks``, ``.breeding`` ...) and binds its slots to
the controller's signals with :meth:`ExplorerHost.bind`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from genart_desktop.document.document import Document
from genart_desktop.ui.binding import Binding
from genart_desktop.workspace.latent import LatentController


class ExplorerHost(Protocol):
    controller: LatentController

    def document(self) -> Document | None: ...

    def bind(self, bindings: list[Binding]) -> None: ...

    def call(self, action: Callable[[], Any]) -> Any: ...

    def attempt(self, action: Callable[[], Any]) -> bool: ...

    def set_status(self, text: str, error: bool = False) -> None: ...

    def ticked_bookmarks(self) -> list[str]: ...

    def refresh_bookmarks(self) -> None: ...
