"""When to autosave: a Qt-free scheduler around the document's :class:`AutosaveStore`.

The window calls :meth:`AutosaveScheduler.tick` from a timer; a snapshot is written only when the document has
unsaved changes made since the last snapshot and the interval (setting ``autosave_minutes``) has passed. Each open
document gets its own id, so snapshots left by another (crashed) session are recognised as orphans.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import datetime

from genart_desktop.document.autosave import AutosaveStore, RecoveryEntry


class AutosaveScheduler:
    def __init__(self, store: AutosaveStore, interval_s: float, clock: Callable[[], float] = time.monotonic):
        self.store = store
        self.interval_s = float(interval_s)
        self._clock = clock
        self.document = None
        self.doc_id: str | None = None
        self._changed = False
        self._last = clock()
        self._written = False

    @property
    def enabled(self) -> bool:
        return self.interval_s > 0

    def attach(self, document) -> None:
        """Watch ``document`` under a fresh id (the previous document's snapshot is left to the caller)."""
        if self.document is not None:
            self.document.changed.disconnect(self._on_change)
        self.document = document
        self.doc_id = uuid.uuid4().hex
        self._written = False
        self._changed = bool(document.dirty)  # recovered work is unsaved from the start
        self._last = self._clock()
        document.changed.connect(self._on_change)

    def _on_change(self, change) -> None:
        if change.kind != "active":
            self._changed = True

    def due(self, now: float | None = None) -> bool:
        now = self._clock() if now is None else now
        return (self.enabled and self.document is not None and self._changed and bool(self.document.dirty)
                and now - self._last >= self.interval_s)

    def tick(self, now: float | None = None) -> bool:
        """Write a snapshot if one is due; True when written. Raises GenArtError when the write fails."""
        if not self.due(now):
            if self.document is not None and not self.document.dirty and self._written:
                self.discard()  # saved since the last snapshot: nothing left to recover
            return False
        self.save_now(now)
        return True

    def save_now(self, now: float | None = None) -> RecoveryEntry | None:
        if self.document is None or self.doc_id is None:
            return None
        entry = self.store.write(self.document, self.doc_id)
        self._written = True
        self._changed = False
        self._last = self._clock() if now is None else now
        return entry

    def discard(self) -> None:
        """Remove this session's snapshot (after a save or a clean close)."""
        if self.doc_id is not None and self._written:
            self.store.discard(self.doc_id)
        self._written = False

    def orphans(self) -> list[RecoveryEntry]:
        """Snapshots not written by this session, newest first: what a crash left behind."""
        return [entry for entry in self.store.pending() if entry.doc_id != self.doc_id]

    @staticmethod
    def describe(entry: RecoveryEntry, count: int = 1) -> str:
        try:
            stamp = "autosaved " + datetime.fromtimestamp(entry.saved_at).strftime("%Y-%m-%d %H:%M")
        except (OverflowError, OSError, ValueError):  # the store checks notes; a platform may still refuse a date
            stamp = "autosaved at an unknown time"
        text = f"\u201c{entry.display_name}\u201d, {stamp}."
        if count > 1:
            text += f" ({count - 1} older autosave{'s' if count > 2 else ''} will be offered next time.)"
        return text
