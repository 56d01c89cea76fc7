"""User settings: a small JSON file in the user data directory, written atomically."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from genart_desktop.core.atomic import atomic_write_bytes
from genart_desktop.core.bounded_json import load_json
from genart_desktop.core.errors import InputError
from genart_desktop.core.paths import user_data_dir

MAX_SETTINGS_BYTES = 1 << 20

DEFAULTS: dict[str, Any] = {
    "execution_provider": "auto",  # auto | cuda | cpu | dml | coreml
    "intra_op_threads": 0,  # 0 lets onnxruntime choose (physical cores)
    "session_cache_size": 4,
    "autosave_minutes": 3,
    "undo_memory_mb": 512,
    "job_time_limit_s": 3600,  # wall-clock limit of a command-line job; 0 = none (engine/job_limits.py)
    "run_memory_limit_mb": 0,  # ceiling on one ONNX run's CPU memory; 0 = half the machine's (engine/memory_limit.py)
    "training_python": "",  # a Python with the train extra to run genart-train (workspace/training_program.py)
}


def settings_path() -> Path:
    return user_data_dir() / "settings.json"


def load_settings() -> dict[str, Any]:
    """Defaults overlaid with the saved file; an unreadable file falls back to defaults rather than failing start-up."""
    values = dict(DEFAULTS)
    path = settings_path()
    if path.is_file():
        try:
            saved = load_json(path, MAX_SETTINGS_BYTES)
        except InputError:
            saved = {}
        if isinstance(saved, dict):
            values.update({k: v for k, v in saved.items() if k in DEFAULTS and isinstance(v, type(DEFAULTS[k]))})
    return values


def save_settings(values: dict[str, Any]) -> None:
    merged = load_settings()
    merged.update(values)
    atomic_write_bytes(settings_path(), json.dumps(merged, indent=2, sort_keys=True).encode("utf-8"))
