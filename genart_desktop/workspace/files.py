"""The open document and its file: New, Open, Open as Layer, Save, Export, dropped files, autosave and recovery.

Why a Qt-free controller: what happens to files, and the promise that a failure changes nothing, is decided once
here and tested without a display; the window only asks the user questions and shows what comes back. Every failure
is a :class:`GenArtError` whose message is one line naming the file.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from genart_desktop.core.atomic import remove_stale_parts
from genart_desktop.core.errors import GenArtError, InputError, SaveError
from genart_desktop.core.observable import Signal
from genart_desktop.document.autosave import AutosaveStore, RecoveryEntry
from genart_desktop.document.document import Document
from genart_desktop.document.io.ora import load_ora_with_extras, save_ora
from genart_desktop.document.io.raster import (
    EXPORT_FORMATS, IMPORT_EXTENSIONS, ORA_EXTENSIONS, export_flat, load_image_pixels, open_document,
)
from genart_desktop.document.layer import Layer
from genart_desktop.workspace.autosave import AutosaveScheduler

log = logging.getLogger(__name__)

OPENABLE_SUFFIXES = frozenset(ORA_EXTENSIONS + IMPORT_EXTENSIONS)
WRITTEN_SUFFIXES = frozenset(ORA_EXTENSIONS + tuple(EXPORT_FORMATS))  # what our atomic writes leave .part files for
DEFAULT_BACKGROUND = (255, 255, 255, 255)


def one_line(text: str) -> str:
    """``text`` with line breaks and other unprintable characters escaped, so a file name cannot split a message."""
    return "".join(char if char.isprintable() else ascii(char)[1:-1] for char in text)


def shown_name(path: str | os.PathLike[str]) -> str:
    """A file name fit for a one-line message."""
    return one_line(Path(path).name or str(path))


@contextlib.contextmanager
def _one_line_errors(verb: str, path: Path, error: type[GenArtError]) -> Iterator[None]:
    """Let every failure out as a GenArtError of one line that names the file."""
    try:
        yield
    except OSError as exc:
        raise error(f"Cannot {verb} {shown_name(path)}: {one_line(str(exc.strerror or exc))}.") from exc
    except GenArtError as exc:
        message = str(exc)
        if one_line(message) != message:
            raise type(exc)(one_line(message)) from exc
        raise


def is_openable(path: str | os.PathLike[str]) -> bool:
    return Path(path).suffix.lower() in OPENABLE_SUFFIXES


class Keeper(Protocol):
    """Something the app keeps in the document's .ora file beside the layers (the diffusion dock's results)."""

    def dump(self) -> dict[str, bytes]: ...  # members to write (names unique to this keeper)

    def load(self, members: Mapping[str, bytes]) -> None: ...  # the members an opened file holds (maybe none)

    def unsaved(self) -> str | None: ...  # a sentence when closing now would lose something, else None


MAX_RECENT = 10


@dataclass(frozen=True)
class DropOutcome:
    """What became of one dropped file: ``action`` is "open", "layer" or "kept" (the user kept the open document)."""

    path: Path
    action: str
    error: str | None = None


class FileController:
    """Holds the open document, the file it belongs to and its autosave; the window binds to the two signals."""

    def __init__(self, store: AutosaveStore | None = None, autosave_interval_s: float = 180.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.document_changed = Signal()  # (document): another document is now open
        self.path_changed = Signal()  # (path or None): the open document now belongs to another file
        self.autosave = AutosaveScheduler(store if store is not None else AutosaveStore(), autosave_interval_s, clock)
        self.recent_changed = Signal()  # (paths): the recent files list changed
        self.document: Document | None = None
        self.keepers: list[Keeper] = []
        self.recent: list[Path] = []  # newest first
        self.last_folder: Path | None = None
        self.autosave.store.remove_leftovers()  # a save killed in an earlier session left these

    # ------------------------------------------------------------------ state
    @property
    def path(self) -> Path | None:
        return self.document.path if self.document is not None else None

    @property
    def dirty(self) -> bool:
        return bool(self.document is not None and self.document.dirty)

    @property
    def display_name(self) -> str:
        return self.path.name if self.path else "Untitled"

    def _require(self) -> Document:
        if self.document is None:
            raise InputError("No document is open.")
        return self.document

    def replace(self, document: Document) -> Document:
        """Make ``document`` the open one; the previous one is dropped (callers ask about unsaved changes first)."""
        if self.document is not None:
            self.autosave.discard()
        self.document = document
        self.autosave.attach(document)
        self.document_changed.emit(document)
        self.path_changed.emit(document.path)
        return document

    # ------------------------------------------------------------------ new and open
    def new(self, width: int, height: int,
            background: tuple[int, ...] | None = DEFAULT_BACKGROUND) -> Document:
        return self.replace(Document(width, height, background))

    def open(self, path: str | os.PathLike[str]) -> Document:
        """Open a .ora file with its layers or an image as one layer; on failure the open document stays."""
        path = Path(path)
        extras: dict[str, bytes] = {}
        with _one_line_errors("open", path, InputError):
            if path.suffix.lower() in ORA_EXTENSIONS:
                document, extras = load_ora_with_extras(path)
            else:
                document = open_document(path)
        document.path = path  # an image keeps its name; Save then asks for an .ora file beside it
        document.mark_clean()
        self.replace(document)
        for keeper in self.keepers:
            keeper.load(extras)
        self.remember(path)
        remove_stale_parts(path.parent, suffixes=WRITTEN_SUFFIXES)  # leftovers of saves killed in this folder
        return document

    @staticmethod
    def read_layer_pixels(path: str | os.PathLike[str]) -> np.ndarray:
        """An image file's pixels, or a .ora file's flattened canvas, as RGBA."""
        path = Path(path)
        with _one_line_errors("open", path, InputError):
            if path.suffix.lower() in ORA_EXTENSIONS:
                return open_document(path).composite()
            return load_image_pixels(path)

    def open_as_layer(self, path: str | os.PathLike[str]) -> Layer:
        """Add a file as a new layer centred on the canvas, one undoable step."""
        document = self._require()
        path = Path(path)
        pixels = self.read_layer_pixels(path)
        self.last_folder = path.absolute().parent
        height, width = pixels.shape[:2]
        origin = ((document.width - width) // 2, (document.height - height) // 2)
        return document.add_layer(name=path.stem, pixels=pixels, origin=origin)

    def drop_files(self, paths: Iterable[str | os.PathLike[str]],
                   may_replace: Callable[[], bool]) -> list[DropOutcome]:
        """A dropped .ora file opens as the document (when ``may_replace()`` agrees), images become layers; files
        we cannot open are left out, and one failure does not stop the others."""
        outcomes = []
        for path in map(Path, paths):
            if not is_openable(path):
                continue
            opens = path.suffix.lower() in ORA_EXTENSIONS
            if opens and not may_replace():
                outcomes.append(DropOutcome(path, "kept"))
                continue
            error = None
            try:
                (self.open if opens else self.open_as_layer)(path)
            except GenArtError as exc:
                error = str(exc)
            outcomes.append(DropOutcome(path, "open" if opens else "layer", error))
        return outcomes

    # ------------------------------------------------------------------ save and export
    @property
    def save_target(self) -> Path | None:
        """Where Save writes without asking: the document's own .ora file, if it has one."""
        path = self.path
        return path if path is not None and path.suffix.lower() in ORA_EXTENSIONS else None

    def suggested_save_path(self) -> str:
        return str(self.path.with_suffix(".ora")) if self.path else "Untitled.ora"

    def suggested_export_path(self) -> str:
        return f"{self.path.stem if self.path else 'Untitled'}.png"

    def save(self) -> Path:
        target = self.save_target
        if target is None:
            raise InputError(f"{shown_name(self.display_name)} has no .ora file yet: use Save As.")
        return self.save_as(target)

    def save_as(self, path: str | os.PathLike[str]) -> Path:
        """Write the layered document atomically (``.ora`` is added when missing); the document then belongs to the
        file. On failure the previous file and the document are unchanged."""
        document = self._require()
        path = Path(path)
        if path.suffix.lower() not in ORA_EXTENSIONS:
            path = path.with_name(path.name + ".ora")
        with _one_line_errors("save", path, SaveError):
            extras = {name: data for keeper in self.keepers for name, data in keeper.dump().items()}
            save_ora(document, path, extras=extras)
        self.remember(path)
        document.path = path
        document.mark_clean()
        self.autosave.discard()  # saved: nothing left to recover
        self.path_changed.emit(path)
        return path

    def export(self, path: str | os.PathLike[str]) -> Path:
        """Write the flattened image as PNG, JPEG or WebP; the document keeps its file and unsaved state."""
        document = self._require()
        path = Path(path)
        with _one_line_errors("export", path, SaveError):
            export_flat(document, path)
        self.last_folder = path.absolute().parent
        return path

    # ------------------------------------------------------------------ autosave and recovery
    def autosave_tick(self, now: float | None = None) -> bool:
        """Snapshot the document if one is due; True when written. Raises GenArtError when the write fails."""
        return self.autosave.tick(now)

    def recovery_entries(self) -> list[RecoveryEntry]:
        """Snapshots another (crashed) session left, newest first; broken notes are skipped by the store."""
        return self.autosave.orphans()

    @staticmethod
    def describe_recovery(entries: Sequence[RecoveryEntry]) -> str:
        return AutosaveScheduler.describe(entries[0], len(entries))

    def discard_recovery(self, entries: Iterable[RecoveryEntry]) -> None:
        for entry in entries:
            self.autosave.store.discard(entry)

    def restore(self, entry: RecoveryEntry) -> Document:
        """Open a snapshot as unsaved work; the old snapshot goes only once the work is protected under this
        session, so a failing autosave folder never loses it."""
        document = self.replace(self.autosave.store.recover(entry))
        try:
            self.autosave.save_now()
        except GenArtError as exc:
            log.warning("Kept the old autosave of %s: %s", entry.display_name, exc)
            return document
        self.autosave.store.discard(entry)
        return document

    # ------------------------------------------------------------------ recent files and folders
    def remember(self, path: str | os.PathLike[str]) -> None:
        """``path`` was opened or saved: it heads File > Recent and its folder is where file dialogs start."""
        path = Path(path).absolute()
        self.last_folder = path.parent
        self.recent = [path, *[p for p in self.recent if p != path]][:MAX_RECENT]
        self.recent_changed.emit(list(self.recent))

    def set_recent(self, paths: Iterable[str | os.PathLike[str]]) -> None:
        """The list saved by an earlier session (missing files are shown too; opening one says why it failed)."""
        unique: list[Path] = []
        for path in map(Path, paths):
            if path not in unique and is_openable(path):
                unique.append(path)
        self.recent = unique[:MAX_RECENT]
        self.recent_changed.emit(list(self.recent))

    def start_folder(self, default: str | os.PathLike[str]) -> Path:
        """Where an open or save dialog starts: the last folder used when it still exists, else ``default``."""
        if self.last_folder is not None and self.last_folder.is_dir():
            return self.last_folder
        return Path(default)

    # ------------------------------------------------------------------ closing
    def needs_close_prompt(self) -> bool:
        """True when closing or replacing the document would lose unsaved changes."""
        return self.dirty

    def unsaved_work(self) -> list[str]:
        """What else closing now would lose (results in the Diffusion dock ...), one sentence each."""
        return [text for text in (keeper.unsaved() for keeper in self.keepers) if text]

    def close(self) -> None:
        """The user closed the document knowingly: its snapshot is no longer needed."""
        self.autosave.discard()
