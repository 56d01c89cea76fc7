"""Opening an exported model folder the way the app does, and writing a measurement into its card atomically
(its ONNX files are never touched)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from genart_desktop.core.atomic import atomic_write_bytes
from genart_desktop.core.errors import InputError


def open_model_folder(model_dir: str | Path) -> tuple[Any, Any, dict[str, Any]]:
    """(a CPU registry rooted beside the folder, the folder's checked entry, its card as JSON): the model loads
    through the same checks as in the app, so a broken folder is refused with the registry's reason."""
    from genart_desktop.engine.registry import ModelRegistry

    folder = Path(model_dir).resolve()
    card_path = folder / "model.json"
    if not card_path.is_file():
        raise InputError(f"{folder} is not a model folder (no model.json).")
    card = json.loads(card_path.read_text(encoding="utf-8"))
    registry = ModelRegistry(roots=[(folder.parent, "builtin")], settings={"execution_provider": "cpu"})
    model_id = str(card.get("id", folder.name))
    mine = next((e for e in registry.entries() if Path(e.folder).resolve() == folder), None)
    if mine is not None and not mine.ok and mine.id == model_id:
        other = next((e.folder for e in registry.entries() if e.ok and e.id == model_id), None)
        if other is not None:  # a sibling folder has the same id: the registry would hand over that one
            raise InputError(f"{folder} has the id '{model_id}' of another model folder beside it ({Path(other).name});"
                             " measuring it would measure that one. Move it into a folder of its own.")
    return registry, registry.get(model_id), card


def save_card(model_dir: str | Path, card: dict[str, Any]) -> Path:
    """Replace the folder's model.json with ``card`` in one atomic write; returns its path."""
    card_path = Path(model_dir) / "model.json"
    atomic_write_bytes(card_path, (json.dumps(card, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
    return card_path


def record_quality(model_dir: str | Path, summary: dict[str, Any]) -> None:
    """Set the card's ``metrics.quality`` to ``summary``."""
    card = json.loads((Path(model_dir) / "model.json").read_text(encoding="utf-8"))
    card.setdefault("metrics", {})["quality"] = summary
    save_card(model_dir, card)
