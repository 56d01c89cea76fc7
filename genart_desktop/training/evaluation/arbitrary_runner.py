"""The exported arbitrary-style graphs run directly in onnxruntime, for measuring (pictures up to ~1024 px, no tiles).

The app runs the same two graphs through its tiled engine pipeline; measuring only needs whole pictures.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from genart_desktop.core.errors import ModelError
from genart_desktop.training.export.parity import onnx_session


def _batch(rgb: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray((rgb[..., :3].astype(np.float32) / 127.5 - 1.0).transpose(2, 0, 1)[None])


class ArbitraryRunner:
    def __init__(self, folder: str | Path) -> None:
        folder = Path(folder)
        card = json.loads((folder / "model.json").read_text(encoding="utf-8"))
        if card.get("family") != "style-arbitrary":
            raise ModelError(f"{folder} is a {card.get('family')} model, not a style-arbitrary one.")
        self.card = card
        self.encoder = onnx_session(folder / card["files"]["encoder"]["path"])
        self.transfer = onnx_session(folder / card["files"]["transfer"]["path"])

    def stats(self, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mean, std = self.encoder.run(["mean", "std"], {"image": _batch(rgb)})
        return mean, std

    def stylize(self, rgb: np.ndarray, style: tuple[np.ndarray, np.ndarray], strength: float = 1.0) -> np.ndarray:
        """``rgb`` (sides multiples of 8) in the style of ``style`` statistics, as RGB uint8."""
        c_mean, c_std = self.stats(rgb)
        out = self.transfer.run(["stylized"], {
            "content": _batch(rgb), "content_mean": c_mean, "content_std": c_std, "style_mean": style[0],
            "style_std": style[1], "strength": np.array([strength], np.float32)})[0][0]
        return np.clip(np.rint((out.transpose(1, 2, 0) + 1.0) * 127.5), 0, 255).astype(np.uint8)


def blend(stats: list[tuple[np.ndarray, np.ndarray]], weights: list[float]) -> tuple[np.ndarray, np.ndarray]:
    w = np.asarray(weights, np.float32) / float(np.sum(weights))
    return (sum(wi * s[0] for wi, s in zip(w, stats)), sum(wi * s[1] for wi, s in zip(w, stats)))
