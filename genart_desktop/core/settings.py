"""User settings: a small JSON file in the user data directory, written atomically."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from genart_desktop.core.atomic import atomic_write_bytes
from genart_desktop.core.paths import user_data_dir

DEFAULTS: dict[str, Any] = {
    "execution_provider": "auto",  # auto | cuda | cpu | dml | coreml
    "intra_op_threads": 0,  # 0 lets onnxruntime choose (physical cores)
    "session_cache_size": 4,
    "autosave_minutes": 3,
    "undo_memory_mb": 512,
}


def settings_path() -> Path:
    return user_data_dir() / "settings.json"


def load_settings() -> dict[str, Any]:
    """Defaults overlaid with the saved file; an unreadable file falls back to defaults rather than failing start-up."""
    values = dict(DEFAULTS)
    path = settings_path()
    if path.is_file():
        try:
            saved = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            saved = {}
        if isinstance(saved, dict):
            values.update({k: v for k, v in saved.items() if k in DEFAULTS and isinstance(v, type(DEFAULTS[k]))})
    return values


def save_settings(values: dict[str, Any]) -> None:
    merged = load_settings()
    merged.update(values)
    atomic_write_bytes(settings_path(), json.dumps(merged, indent=2, sort_keys=True).encode("utf-8"))
