"""Crash recovery: periodic .ora snapshots in the per-user autosave folder, with a small JSON note beside each.

A snapshot is written atomically, so a crash during autosave leaves the previous snapshot. The JSON note is written
after the snapshot; an entry is listed only when both are regular files in the folder and the note is small and sane,
because the folder is on disk where anything (another program, a broken disk, a hostile user) can put anything.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import stat
import time
from dataclasses import dataclass
from pathlib import Path

from genart_desktop.core.atomic import atomic_write_bytes, atomic_writer, remove_stale_parts
from genart_desktop.core.bounded_json import parse_json
from genart_desktop.core.errors import InputError
from genart_desktop.core.paths import autosave_dir
from genart_desktop.document.document import Document
from genart_desktop.document.io.ora import load_ora, write_ora

log = logging.getLogger(__name__)

_SAFE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_NOTE_BYTES = 64 * 1024  # a real note is a few hundred bytes
MAX_TITLE_CHARS = 255
LATEST_TIMESTAMP = 253402300799.0  # 9999-12-31: anything later is not a time a snapshot was written


def _check_inside(folder: Path, path: Path) -> os.stat_result:
    """The lstat of ``path`` when it is a regular file directly inside ``folder`` (links resolved); else InputError."""
    try:
        info = path.lstat()
        resolved = path.resolve(strict=True)
    except (OSError, RuntimeError) as exc:
        raise InputError(f"{path.name} cannot be read ({exc}).") from exc
    if not stat.S_ISREG(info.st_mode):
        raise InputError(f"{path.name} is not a regular file.")
    if resolved.parent != folder:
        raise InputError(f"{path.name} is not inside the autosave folder.")
    return info


def _read_small_file(folder: Path, path: Path) -> bytes:
    """At most :data:`MAX_NOTE_BYTES` of a regular file inside ``folder``, opened without following links or
    waiting on a pipe that replaced it after the check."""
    if _check_inside(folder, path).st_size > MAX_NOTE_BYTES:
        raise InputError(f"{path.name} is larger than {MAX_NOTE_BYTES} bytes.")
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise InputError(f"{path.name} cannot be opened ({exc.strerror or exc}).") from exc
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise InputError(f"{path.name} is not a regular file.")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(MAX_NOTE_BYTES + 1)
    except OSError as exc:
        raise InputError(f"{path.name} cannot be read ({exc.strerror or exc}).") from exc
    finally:
        os.close(fd)
    if len(data) > MAX_NOTE_BYTES:
        raise InputError(f"{path.name} is larger than {MAX_NOTE_BYTES} bytes.")
    return data


def _parse_note(data: bytes) -> dict:
    """The checked fields of a note: ``saved_at`` a real time, ``title`` and ``original_path`` plain text."""
    try:
        info = parse_json(data, "the note", MAX_NOTE_BYTES)
    except (ValueError, RecursionError) as exc:
        raise InputError(f"it is not valid JSON ({type(exc).__name__}).") from exc
    if not isinstance(info, dict):
        raise InputError("it is not a JSON object.")
    saved_at = info.get("saved_at")
    if isinstance(saved_at, bool) or not isinstance(saved_at, (int, float)):
        raise InputError(f"saved_at is {type(saved_at).__name__}, not a number.")
    try:
        saved_at = float(saved_at)
    except OverflowError as exc:
        raise InputError("saved_at is too large to be a time.") from exc
    if not (math.isfinite(saved_at) and 0 <= saved_at <= LATEST_TIMESTAMP):
        raise InputError(f"saved_at {saved_at!r} is not a plausible time.")
    original, title = info.get("original_path"), info.get("title") or "Untitled"
    if original is not None and (not isinstance(original, str) or "\x00" in original):
        raise InputError("original_path is not a file name.")
    if not isinstance(title, str):
        raise InputError("title is not text.")
    return {"saved_at": saved_at, "original_path": original or None, "title": title[:MAX_TITLE_CHARS]}


@dataclass(frozen=True)
class RecoveryEntry:
    doc_id: str
    snapshot: Path
    original_path: Path | None
    saved_at: float  # seconds since the epoch
    title: str

    @property
    def display_name(self) -> str:
        return self.original_path.name if self.original_path else self.title


class AutosaveStore:
    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        self.directory = Path(directory) if directory is not None else autosave_dir()
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # the app still starts; writes then fail with a SaveError naming the folder
            log.warning("Cannot create the autosave folder %s: %s", self.directory, exc)

    def _paths(self, doc_id: str) -> tuple[Path, Path]:
        if not _SAFE_ID.fullmatch(doc_id):
            raise InputError(f"Autosave id {doc_id!r} must be 1-64 letters, digits, '-' or '_'.")
        return self.directory / f"{doc_id}.ora", self.directory / f"{doc_id}.json"

    def write(self, doc: Document, doc_id: str) -> RecoveryEntry:
        """Snapshot ``doc`` without touching its path or unsaved state (low PNG compression: it must be quick)."""
        snapshot, note = self._paths(doc_id)
        with atomic_writer(snapshot) as handle:
            write_ora(doc, handle, compress_level=1)
        saved_at = time.time()
        title = doc.path.name if doc.path else "Untitled"
        info = {"doc_id": doc_id, "original_path": str(doc.path) if doc.path else None, "saved_at": saved_at,
                "title": title, "width": doc.width, "height": doc.height}
        atomic_write_bytes(note, json.dumps(info, indent=1).encode("utf-8"))
        return RecoveryEntry(doc_id, snapshot, doc.path, saved_at, title)

    def remove_leftovers(self) -> list[Path]:
        """Clear temporary files of autosaves that were killed mid-write (only our own, only old ones)."""
        return remove_stale_parts(self.directory, suffixes=(".ora", ".json"))

    def pending(self) -> list[RecoveryEntry]:
        """Snapshots left behind (by a crash), newest first; temporary files of writes that died are cleared.

        A note that is not a small regular file inside the folder, or whose content is not a sane note, is skipped
        (and logged): recovery must never hang on a pipe, read a device or crash on a strange timestamp.
        """
        self.remove_leftovers()
        try:
            folder = self.directory.resolve(strict=True)
            notes = sorted(folder.glob("*.json"))
        except (OSError, RuntimeError) as exc:
            log.warning("Cannot list the autosave folder %s: %s", self.directory, exc)
            return []
        entries = []
        for note in notes:
            try:
                entries.append(self._entry(folder, note))
            except InputError as exc:
                log.warning("Skipping autosave note %r: %s", note.name, exc)
        return sorted(entries, key=lambda e: e.saved_at, reverse=True)

    def _entry(self, folder: Path, note: Path) -> RecoveryEntry:
        if not _SAFE_ID.fullmatch(note.stem):
            raise InputError("its name is not an autosave id.")
        snapshot = note.with_suffix(".ora")
        _check_inside(folder, snapshot)
        info = _parse_note(_read_small_file(folder, note))
        original = info.get("original_path")
        return RecoveryEntry(note.stem, snapshot, Path(original) if original else None, info["saved_at"],
                             info["title"])

    def recover(self, entry: RecoveryEntry) -> Document:
        """The snapshot as a document that belongs to the original file (if any) and counts as unsaved."""
        try:
            _check_inside(self.directory.resolve(strict=True), entry.snapshot)
        except (OSError, RuntimeError, InputError) as exc:
            raise InputError(f"Cannot recover {entry.display_name}: the autosave {entry.snapshot.name} is gone "
                             "or was replaced by something that is not a snapshot.") from exc
        doc = load_ora(entry.snapshot)
        doc.path = entry.original_path
        doc.dirty = True
        return doc

    def discard(self, entry: RecoveryEntry | str) -> None:
        """Remove a snapshot (a clean close or a declined recovery)."""
        doc_id = entry.doc_id if isinstance(entry, RecoveryEntry) else entry
        for path in self._paths(doc_id):
            try:
                path.unlink()
            except FileNotFoundError:
                pass
            except OSError as exc:  # left for the next launch to offer again; never a reason to stop closing
                log.warning("Cannot remove the autosave %s: %s", path.name, exc)
