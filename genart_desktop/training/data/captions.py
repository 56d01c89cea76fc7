"""Captions and labels from a sidecar file (CSV or JSON) or from ``image.txt`` files next to the images."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

from genart_desktop.core.errors import InputError


def read_sidecar(path: str | os.PathLike[str]) -> dict[str, dict[str, str]]:
    """Map a relative image path (forward slashes) to ``{"caption": ..., "label": ...}`` (either may be absent).

    CSV: a header row with ``file`` and ``caption`` and/or ``label`` columns. JSON: an object mapping the file to a
    caption string or to an object with ``caption``/``label``.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"The captions file {path} does not exist.")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"Cannot read the captions file {path.name}: {exc}.") from exc
    entries: dict[str, dict[str, str]] = {}
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise InputError(f"The captions file {path.name} is not valid JSON: {exc}.") from exc
        if not isinstance(data, dict):
            raise InputError(f"The captions file {path.name} must hold an object mapping file names to captions.")
        for key, value in data.items():
            if isinstance(value, str):
                entries[_norm(key)] = {"caption": value}
            elif isinstance(value, dict):
                entries[_norm(key)] = {k: str(v) for k, v in value.items() if k in ("caption", "label")}
            else:
                raise InputError(f"The captions file {path.name} has an unusable entry for {key!r}.")
        return entries
    rows = list(csv.DictReader(text.splitlines()))
    fields = set(rows[0].keys()) if rows else set()
    if "file" not in fields or not ({"caption", "label"} & fields):
        raise InputError(f"The captions file {path.name} needs a header row with 'file' and 'caption' or 'label'.")
    for row in rows:
        entries[_norm(row["file"])] = {k: row[k].strip() for k in ("caption", "label") if row.get(k)}
    return entries


def _norm(name: str) -> str:
    return name.strip().replace("\\", "/").lstrip("./")


def text_sidecar(image_path: Path) -> str | None:
    """The caption in ``photo.txt`` beside ``photo.png``, if there is one."""
    candidate = image_path.with_suffix(".txt")
    if candidate.is_file():
        try:
            return candidate.read_text(encoding="utf-8").strip() or None
        except (OSError, UnicodeDecodeError):
            return None
    return None
