"""The names a user gives a model's principal directions ("PC 1" -> "smile"), kept per model between sessions.

Why a file of its own: principal directions are recomputed from the model (and cached), so a name cannot live in
the direction itself; a small JSON map per model beside the user's saved directions keeps it. A damaged file reads
as no names (logged), never an error that stops the explorer.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

from genart_desktop.core.atomic import atomic_write_bytes
from genart_desktop.core.bounded_json import load_json
from genart_desktop.core.errors import InputError, SaveError
from genart_desktop.core.paths import user_subdir

log = logging.getLogger(__name__)

MAX_NAME = 40
MAX_FILE_BYTES = 64 << 10


def names_file(model_id: str) -> Path:
    key = re.sub(r"[^a-z0-9._-]", "_", model_id.lower()) or "unnamed"
    return user_subdir("latent") / "direction-names" / f"{key}.json"


class DirectionNames:
    """``key`` (a principal direction's own name, e.g. "PC 1") -> the user's name for it, for one model."""

    def __init__(self, model_id: str) -> None:
        self.path = names_file(model_id)
        self.names: dict[str, str] = self._read()

    def _read(self) -> dict[str, str]:
        if not self.path.is_file():
            return {}
        try:
            data = load_json(self.path, MAX_FILE_BYTES)
        except InputError as exc:
            log.warning("Ignored the direction names in %s: %s", self.path, exc)
            return {}
        if not isinstance(data, dict):
            return {}
        return {k: v[:MAX_NAME] for k, v in data.items() if isinstance(k, str) and isinstance(v, str) and v.strip()}

    def label(self, key: str) -> str:
        return self.names.get(key, key)

    def rename(self, key: str, name: str) -> None:
        """Name the direction ``key``; an empty name gives it its own name back. Saved at once (atomically)."""
        name = " ".join(name.split())[:MAX_NAME]
        if name and name != key:
            self.names[key] = name
        else:
            self.names.pop(key, None)
        data = json.dumps(self.names, ensure_ascii=False, sort_keys=True).encode("utf-8")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(self.path, data)
        except OSError as exc:
            raise SaveError(f"Cannot save the direction names: {exc.strerror or exc}.") from exc
