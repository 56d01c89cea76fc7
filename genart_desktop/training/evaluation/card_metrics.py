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
    return registry, registry.get(str(card.get("id", folder.name))), card


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
