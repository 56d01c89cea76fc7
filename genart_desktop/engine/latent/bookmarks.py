"""Bookmarked latents: plain JSON that lives in a document's metadata and in a per-user library file.

Only JSON is ever read (never pickles); every entry is validated, and an unreadable library is reported, never
overwritten, so a bad file cannot cost the user their saved bookmarks.
"""

from __future__ import annotations

import json
import math
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from genart_desktop.core.atomic import atomic_write_bytes
from genart_desktop.core.bounded_json import load_json
from genart_desktop.core.errors import InputError
from genart_desktop.core.paths import user_subdir
from genart_desktop.core.text import shown

FORMAT = "genart-latent-bookmarks/1"
METADATA_KEY = "latent_bookmarks"
MAX_LATENT_VALUES = 1 << 20
MAX_LIBRARY_BYTES = 32 << 20  # a million latent values written as JSON numbers


@dataclass(frozen=True)
class Bookmark:
    """A named point in one model's latent space (``latent`` is flat float32)."""

    name: str
    model_id: str
    latent: np.ndarray = field(compare=False)
    seed: int | None = None
    bookmark_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    created: float = field(default_factory=time.time, compare=False)

    def __post_init__(self) -> None:
        vector = np.asarray(self.latent, np.float32).reshape(-1)
        if vector.size == 0 or vector.size > MAX_LATENT_VALUES or not np.all(np.isfinite(vector)):
            raise InputError(f"Bookmark '{self.name}' has an empty, oversized or non-finite latent.")
        vector.setflags(write=False)
        object.__setattr__(self, "latent", vector)

    def renamed(self, name: str) -> Bookmark:
        return Bookmark(name, self.model_id, self.latent, self.seed, self.bookmark_id, self.created)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.bookmark_id,
            "name": self.name,
            "model_id": self.model_id,
            "latent": [float(v) for v in self.latent],
            "seed": self.seed,
            "created": self.created,
        }

    @classmethod
    def from_dict(cls, data: Any) -> Bookmark:
        if not isinstance(data, dict):
            raise InputError("A bookmark entry is not a JSON object.")
        name, model_id, latent = data.get("name"), data.get("model_id"), data.get("latent")
        if not isinstance(name, str) or not isinstance(model_id, str):
            raise InputError("A bookmark entry lacks its name or model id.")
        if not isinstance(latent, list) or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in latent):
            raise InputError(f"Bookmark '{name}' has no list of numbers as its latent.")
        seed = data.get("seed")
        if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
            raise InputError(f"Bookmark '{name}' has a seed that is not a whole number.")
        created = data.get("created", 0.0)
        if not isinstance(created, (int, float)) or not math.isfinite(created):
            created = 0.0
        bookmark_id = data.get("id")
        if not isinstance(bookmark_id, str) or not bookmark_id:
            bookmark_id = uuid.uuid4().hex
        return cls(name, model_id, np.asarray(latent, np.float32), seed, bookmark_id, float(created))


def bookmarks_to_json(bookmarks: Iterable[Bookmark]) -> list[dict[str, Any]]:
    return [b.to_dict() for b in bookmarks]


def bookmarks_from_json(entries: Any) -> tuple[list[Bookmark], list[str]]:
    """Valid bookmarks and one readable problem per invalid entry (the rest still load)."""
    if not isinstance(entries, list):
        return [], ["The bookmark list is not a JSON list."] if entries is not None else []
    good, problems = [], []
    for entry in entries:
        try:
            good.append(Bookmark.from_dict(entry))
        except InputError as exc:
            problems.append(str(exc))
    return good, problems


def read_metadata(metadata: dict[str, Any]) -> list[Bookmark]:
    """The bookmarks stored in a document's metadata (invalid entries are skipped)."""
    return bookmarks_from_json(metadata.get(METADATA_KEY))[0]


def metadata_value(bookmarks: Iterable[Bookmark]) -> list[dict[str, Any]]:
    """What to store under ``metadata[METADATA_KEY]`` (plain JSON types, so any document format can save it)."""
    return bookmarks_to_json(bookmarks)


def default_library_path() -> Path:
    return user_subdir("latent") / "bookmarks.json"


class BookmarkLibrary:
    """The per-user bookmark file: loaded on demand, every change saved atomically."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_library_path()
        self._items: list[Bookmark] | None = None
        self.problems: list[str] = []

    def _load(self) -> list[Bookmark]:
        if self._items is not None:
            return self._items
        if not self.path.is_file():
            self._items = []
            return self._items
        try:
            data = load_json(self.path, MAX_LIBRARY_BYTES)
        except InputError as exc:
            raise InputError(f"The bookmark library {shown(self.path)} cannot be read ({exc}); it was left as it is.") \
                from exc
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise InputError(f"The bookmark library {self.path} is not a {FORMAT} file; it was left as it is.")
        self._items, self.problems = bookmarks_from_json(data.get("bookmarks"))
        return self._items

    def _save(self, items: list[Bookmark]) -> None:
        payload = {"format": FORMAT, "bookmarks": bookmarks_to_json(items)}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(self.path, json.dumps(payload, indent=1).encode("utf-8"))
        self._items = items

    def all(self) -> list[Bookmark]:
        return list(self._load())

    def for_model(self, model_id: str) -> list[Bookmark]:
        return [b for b in self._load() if b.model_id == model_id]

    def add(self, bookmark: Bookmark) -> None:
        items = [b for b in self._load() if b.bookmark_id != bookmark.bookmark_id]
        self._save(items + [bookmark])

    def remove(self, bookmark_id: str) -> None:
        self._save([b for b in self._load() if b.bookmark_id != bookmark_id])

    def rename(self, bookmark_id: str, name: str) -> None:
        self._save([b.renamed(name) if b.bookmark_id == bookmark_id else b for b in self._load()])
