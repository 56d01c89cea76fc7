"""Where an export goes: a valid model id (default from the run) and a folder that is empty or an older export."""

from __future__ import annotations

import os
import re
from pathlib import Path

from genart_desktop.core.errors import InputError
from genart_desktop.engine.cards import ID_PATTERN


def choose_model_id(model_id: str | None, default_text: str) -> str:
    """``model_id`` as given, else ``default_text`` made into an id; either way checked against the card's pattern."""
    if not model_id:
        model_id = re.sub(r"[^a-z0-9._-]+", "-", default_text.lower()).strip("-._")[:64] or "model"
    if not ID_PATTERN.fullmatch(model_id):
        raise InputError(f"--id {model_id!r} must be lower-case letters, digits, '.', '_' or '-'.")
    return model_id


def check_destination(dest: Path) -> None:
    """Only an empty folder or an earlier model folder may be replaced by an export."""
    if dest.exists() and (not dest.is_dir() or (any(dest.iterdir()) and not (dest / "model.json").is_file())):
        raise InputError(f"{dest} exists and is not a model folder; choose another --out.")


def destination(run_path: Path, out: str | os.PathLike[str] | None, model_id: str) -> Path:
    """``out``, or ``RUN/export/ID`` by default, once it is known that exporting there loses nothing."""
    dest = Path(out) if out else run_path / "export" / model_id
    check_destination(dest)
    return dest
