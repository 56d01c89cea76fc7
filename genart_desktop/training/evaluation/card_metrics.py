"""Writing a measurement into an exported model's card, atomically, without touching its ONNX files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from genart_desktop.core.atomic import atomic_write_bytes


def record_quality(model_dir: str | Path, summary: dict[str, Any]) -> None:
    """Set the card's ``metrics.quality`` to ``summary``."""
    card_path = Path(model_dir) / "model.json"
    card = json.loads(card_path.read_text(encoding="utf-8"))
    card.setdefault("metrics", {})["quality"] = summary
    atomic_write_bytes(card_path, (json.dumps(card, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
