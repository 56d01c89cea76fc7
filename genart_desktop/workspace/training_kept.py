"""The trainings the app left running when it closed, so its next start can follow them and make them models.

Why a file: the child outlives the app, and only the app knows what to do when it ends (export it under a free id,
register it). ``kept.json`` in the runs folder lists, for each process left running, its pid and start identity
(training_pids: a reused pid is not taken for it), the files it writes, and the whole spec (Resume needs it). It is
written atomically on close and emptied as soon as the next start has taken the records in. A damaged file or
record is skipped with one log line: it must never stop the app from starting.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from genart_desktop.core.atomic import atomic_write_bytes
from genart_desktop.core.bounded_json import load_json
from genart_desktop.core.errors import GenArtError
from genart_desktop.core.text import shown
from genart_desktop.workspace.training_spec import TRAINABLE_FAMILIES, TrainingSpec

log = logging.getLogger(__name__)

KEPT_FILE = "kept.json"
VERSION = 1
MAX_BYTES = 256 * 1024
TRAIN, EXPORT = "train", "export"  # what the kept process does
_SPEC_TYPES = {"family": str, "data": Path, "model_id": str, "name": str, "steps": int, "style_image": Path,
               "init_from": Path, "resolution": int, "style_weight": float, "threads": int}
_REQUIRED = ("family", "data", "model_id", "name", "steps")


@dataclass(frozen=True)
class KeptRun:
    """One process left running. ``model_id`` and ``model_folder`` are the export's target (``kind`` EXPORT);
    a training is exported under a free id chosen when it ends."""

    kind: str
    pid: int
    identity: str
    stdout: Path
    stderr: Path
    spec: TrainingSpec
    run_dir: Path | None = None
    model_id: str | None = None
    model_folder: Path | None = None


def save_kept(path: Path, runs: list[KeptRun]) -> None:
    """Write ``runs`` (an empty list removes the file)."""
    if not runs:
        path.unlink(missing_ok=True)
        return
    records = [{**_plain(run, exclude="spec"), "spec": _plain(run.spec)} for run in runs]
    atomic_write_bytes(path, json.dumps({"version": VERSION, "runs": records}, indent=1).encode("utf-8"))


def load_kept(path: Path) -> list[KeptRun]:
    """The records in ``path``; nothing when it is missing or unreadable, without the records that are damaged."""
    if not path.is_file():
        return []
    try:
        saved = load_json(path, MAX_BYTES, max_depth=4)
    except (GenArtError, OSError) as exc:
        log.warning("Ignored the list of trainings left running: %s", exc)
        return []
    records = saved.get("runs") if isinstance(saved, dict) and saved.get("version") == VERSION else None
    if not isinstance(records, list):
        log.warning("Ignored %s: not a list of trainings left running", shown(path))
        return []
    runs = []
    for record in records:
        try:
            runs.append(_read_run(record))
        except (TypeError, ValueError) as exc:
            log.warning("Ignored a training left running in %s: %s", shown(path), exc)
    return runs


def _plain(value: Any, exclude: str = "") -> dict[str, Any]:
    return {f.name: _json_value(getattr(value, f.name)) for f in fields(value) if f.name != exclude}


def _json_value(value: Any) -> Any:
    return str(value) if isinstance(value, Path) else value


def _read_run(record: Any) -> KeptRun:
    if not isinstance(record, dict):
        raise TypeError("a record is not an object")
    kind = _typed(record, "kind", str)
    if kind not in (TRAIN, EXPORT):
        raise ValueError(f"unknown kind {shown(kind, 20)}")
    run = KeptRun(kind=kind, pid=_typed(record, "pid", int), identity=_typed(record, "identity", str),
                  stdout=_typed(record, "stdout", Path), stderr=_typed(record, "stderr", Path),
                  spec=_read_spec(record.get("spec")), run_dir=_typed(record, "run_dir", Path, optional=True),
                  model_id=_typed(record, "model_id", str, optional=True),
                  model_folder=_typed(record, "model_folder", Path, optional=True))
    if kind == EXPORT and None in (run.run_dir, run.model_id, run.model_folder):
        raise ValueError("an export without its run folder and target")
    return run


def _read_spec(values: Any) -> TrainingSpec:
    if not isinstance(values, dict):
        raise TypeError("its spec is not an object")
    spec = TrainingSpec(**{name: _typed(values, name, kind, optional=name not in _REQUIRED)
                           for name, kind in _SPEC_TYPES.items() if name in values or name in _REQUIRED})
    if spec.family not in TRAINABLE_FAMILIES.values():
        raise ValueError(f"unknown family {shown(spec.family, 20)}")
    return spec


def _typed(values: dict[str, Any], key: str, kind: type, optional: bool = False) -> Any:
    """``values[key]`` as ``kind`` (a Path from text, a float from any number); ValueError when it is not one."""
    value = values.get(key)
    if value is None and optional:
        return None
    if kind is Path and isinstance(value, str) and value:
        return Path(value)
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind is int and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise ValueError(f"{key} is not a count")
    if kind is not Path and isinstance(value, kind):
        return value
    raise ValueError(f"{key} is not {kind.__name__.lower()}")
