"""Crash recovery: periodic .ora snapshots in the per-user autosave folder, with a small JSON note beside each.

A snapshot is written atomically, so a crash during autosave leaves the previous snapshot. The JSON note is written
after the snapshot; an entry is listed only when both exist and the note parses.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

from genart_desktop.core.atomic import atomic_write_bytes, atomic_writer, remove_stale_parts
from genart_desktop.core.errors import InputError
from genart_desktop.core.paths import autosave_dir
from genart_desktop.document.document import Document
from genart_desktop.document.io.ora import load_ora, write_ora

_SAFE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


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
        self.directory.mkdir(parents=True, exist_ok=True)

    def _paths(self, doc_id: str) -> tuple[Path, Path]:
        if not _SAFE_ID.match(doc_id):
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

    def pending(self) -> list[RecoveryEntry]:
        """Snapshots left behind (by a crash), newest first; temporary files of writes that died are cleared."""
        remove_stale_parts(self.directory)
        entries = []
        for note in self.directory.glob("*.json"):
            snapshot = note.with_suffix(".ora")
            if not snapshot.is_file() or not _SAFE_ID.match(note.stem):
                continue
            try:
                info = json.loads(note.read_text(encoding="utf-8"))
                saved_at = float(info.get("saved_at", snapshot.stat().st_mtime))
                original = info.get("original_path")
                title = str(info.get("title") or "Untitled")
            except (OSError, ValueError, TypeError, AttributeError, RecursionError):
                continue
            entries.append(RecoveryEntry(note.stem, snapshot, Path(original) if original else None, saved_at, title))
        return sorted(entries, key=lambda e: e.saved_at, reverse=True)

    def recover(self, entry: RecoveryEntry) -> Document:
        """The snapshot as a document that belongs to the original file (if any) and counts as unsaved."""
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
