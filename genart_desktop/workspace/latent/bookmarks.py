"""The Bookmarks tab's part: images worth keeping, in the document (so they travel with it) and the user library."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from genart_desktop.core.errors import InputError
from genart_desktop.document.document import Document
from genart_desktop.engine.latent.bookmarks import (
    METADATA_KEY,
    Bookmark,
    BookmarkLibrary,
    metadata_value,
    read_metadata,
)
from genart_desktop.workspace.latent.history import History
from genart_desktop.workspace.latent.state import ExplorerState


class Bookmarks:
    """Bookmarks of the shared state's model; going to one moves the centre through the history."""

    def __init__(self, state: ExplorerState, history: History, library: BookmarkLibrary | None = None) -> None:
        self.state = state
        self.history = history
        self.library = library if library is not None else BookmarkLibrary()

    def all(self, doc: Document | None = None) -> list[Bookmark]:
        """This model's bookmarks: the document's first, then the user library's (no duplicates)."""
        space = self.state.space
        if space is None:
            return []
        found: dict[str, Bookmark] = {}
        if doc is not None:
            for mark in read_metadata(doc.metadata):
                if mark.model_id == space.model_id:
                    found.setdefault(mark.bookmark_id, mark)
        for mark in self.library.for_model(space.model_id):
            found.setdefault(mark.bookmark_id, mark)
        return list(found.values())

    def add(self, name: str, doc: Document | None = None, latent: np.ndarray | None = None) -> Bookmark:
        """Bookmark the current image (as rendered, truncation included) in the library and in the document."""
        state = self.state
        space = state.require_space()
        name = name.strip() or f"{space.name} {len(self.all(doc)) + 1}"
        z = state.effective(state.current() if latent is None else space.check_latents(latent)[0])
        exact = state.truncation >= 1.0 and latent is None and bool(np.allclose(state.current(), state.centre))
        mark = Bookmark(name, space.model_id, z, state.seed if exact else None)
        self.library.add(mark)
        if doc is not None:
            _store_in_document(doc, read_metadata(doc.metadata) + [mark])
        state.bookmarks_changed.emit()
        return mark

    def delete(self, bookmark_id: str, doc: Document | None = None) -> None:
        self.library.remove(bookmark_id)
        if doc is not None:
            marks = read_metadata(doc.metadata)
            if any(m.bookmark_id == bookmark_id for m in marks):
                _store_in_document(doc, [m for m in marks if m.bookmark_id != bookmark_id])
        self.state.bookmarks_changed.emit()

    def latents_of(self, bookmark_ids: Sequence[str], doc: Document | None) -> list[np.ndarray]:
        by_id = {m.bookmark_id: m for m in self.all(doc)}
        if any(i not in by_id for i in bookmark_ids):
            raise InputError("Some chosen bookmarks no longer exist or belong to another model.")
        return [np.asarray(by_id[i].latent, np.float32) for i in bookmark_ids]

    def recall(self, bookmark_id: str, doc: Document | None = None) -> None:
        """Go to a bookmark (truncation back to 1, since the bookmark holds the latent as it was rendered)."""
        mark = next((m for m in self.all(doc) if m.bookmark_id == bookmark_id), None)
        if mark is None:
            raise InputError("That bookmark no longer exists.")
        self.state.truncation = 1.0
        self.history.move_to(mark.latent, seed=mark.seed)


def _store_in_document(doc: Document, marks: list[Bookmark]) -> None:
    doc.metadata[METADATA_KEY] = metadata_value(marks)
    doc.dirty = True
