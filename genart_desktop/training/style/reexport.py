"""Re-export a style model folder from its own ONNX weights into the current export graph, without retraining.

The shipped style networks were exported before :mod:`inference_form` existed and their checkpoints are not kept.
The weights are in the ONNX file: they are loaded into a :class:`StyleNet` of the card's configuration (every
tensor must match by name and shape), exported again, and the new graph must agree with the old file on photos
(within the export tolerance) before the folder changes. The card keeps everything but the file hash, the parity,
the measured run memory (``config.activation_bytes_per_pixel``) and a note of the re-export; a forced ``tile``
is dropped, so the app tiles from memory.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import torch
from onnx import numpy_helper

from genart_desktop.core.atomic import atomic_write_bytes
from genart_desktop.core.bounded_json import load_json
from genart_desktop.core.errors import InputError, ModelError
from genart_desktop.engine.cards import sha256_file
from genart_desktop.training.export.parity import FP32_TOLERANCE, check_parity, onnx_session
from genart_desktop.training.runs import now_iso
from genart_desktop.training.style.export import FILENAME, export_stylizer_onnx, parity_inputs
from genart_desktop.training.style.images import fit_long_side, load_rgb
from genart_desktop.training.style.inference_form import stylenet_state
from genart_desktop.training.style.network import StyleNet, StyleNetConfig
from genart_desktop.training.style.run_memory import activation_bytes_per_pixel

PHOTO_SIDE = 256
MAX_CARD_BYTES = 1 << 20


def load_onnx_weights(net: torch.nn.Module, path: Path) -> None:
    """Copy every tensor of ``net`` from the ONNX initialiser of the same name (either export form of the style
    network); any missing or misshapen one stops."""
    initialisers = stylenet_state({t.name: torch.from_numpy(np.array(numpy_helper.to_array(t), np.float32))
                                   for t in onnx.load(str(path)).graph.initializer})
    state = net.state_dict()
    missing = [name for name, tensor in state.items() if name not in initialisers
               or tuple(initialisers[name].shape) != tuple(tensor.shape)]
    if missing:
        raise ModelError(f"{path.name} does not hold the weights of this network ({len(missing)} tensors differ, "
                         f"first {missing[0]}).")
    net.load_state_dict({name: initialisers[name] for name in state})


def photo_batches(photos: list[Path]) -> list[np.ndarray]:
    """Photos at ``PHOTO_SIDE`` px (sides multiples of 4) as ``(1, 3, h, w)`` in [-1, 1]."""
    batches = []
    for path in photos:
        rgb = fit_long_side(load_rgb(path), PHOTO_SIDE, 4)
        batches.append(np.ascontiguousarray((rgb.astype(np.float32) / 127.5 - 1.0).transpose(2, 0, 1)[None]))
    return batches


def graph_difference(old: Path, new: Path, batches: list[np.ndarray]) -> float:
    """Largest |new - old| over ``batches`` (NaN if either graph produced a non-finite value)."""
    first, second = onnx_session(old), onnx_session(new)
    worst = 0.0
    for batch in batches:
        a = first.run(None, {first.get_inputs()[0].name: batch})[0]
        b = second.run(None, {second.get_inputs()[0].name: batch})[0]
        worst = max(worst, float(np.max(np.abs(a - b))))
    return worst


def reexport_style_folder(folder: str | Path, photos: list[Path]) -> dict[str, Any]:
    """Re-export ``folder/stylizer.onnx`` in place (atomically); returns the updated card."""
    folder = Path(folder)
    card_path = folder / "model.json"
    card = load_json(card_path, MAX_CARD_BYTES)
    if not isinstance(card, dict) or card.get("family") != "style":
        raise InputError(f"{folder.name} is not a style model folder.")
    old = folder / FILENAME
    network = dict((card.get("config") or {}).get("network") or {})
    net = StyleNet(StyleNetConfig(**{k: int(v) for k, v in network.items() if k in ("width", "residual_blocks")}))
    load_onnx_weights(net, old)
    handle, temp_name = tempfile.mkstemp(prefix=".stylizer.", suffix=".onnx.partial", dir=folder)
    os.close(handle)
    temp = Path(temp_name)
    try:
        export_stylizer_onnx(net, temp)
        torch_worst = check_parity("style network", temp, net, parity_inputs(), ["stylized"], FP32_TOLERANCE)
        old_worst = graph_difference(old, temp, photo_batches(photos))
        if not np.isfinite(old_worst) or old_worst > FP32_TOLERANCE:
            raise ModelError(f"The re-exported {folder.name} differs from the old graph by {old_worst:.3g} on "
                             f"photos (tolerance {FP32_TOLERANCE:g}); nothing was changed.")
        per_pixel = activation_bytes_per_pixel(temp)
        config = {k: v for k, v in card.get("config", {}).items() if k != "tile"}
        if per_pixel is not None:
            config["activation_bytes_per_pixel"] = per_pixel
        card["config"] = config
        card["files"]["stylizer"]["sha256"] = sha256_file(temp)
        metrics = card.setdefault("metrics", {})
        metrics.setdefault("parity_max_abs_diff", {})["stylizer"] = torch_worst
        metrics["reexport_max_abs_diff_vs_previous_graph"] = old_worst
        card.setdefault("provenance", {})["reexported"] = {
            "created": now_iso(), "from": "the previous stylizer.onnx's weights (no retraining)",
            "photos": len(photos), "previous_sha256": sha256_file(old)}
        os.replace(temp, old)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    atomic_write_bytes(card_path, json.dumps(card, indent=2, ensure_ascii=False).encode("utf-8"))
    return card
