"""A tiny arbitrary-style model of the exact contract in docs (issue 19), built with ``onnx.helper`` (no torch).

Axes are named as the exporter names them (``batch``, ``height``, ``width``). ``encoder.onnx``: ``image [1, 3, H,
W]`` in [-1, 1] -> ``mean``, ``std`` ``[1, C]``: the spatial statistics of ``relu(conv3x3(image))``. ``transfer.onnx``: ``content``, ``content_mean``, ``content_std``, ``style_mean``,
``style_std``, ``strength`` -> ``stylized``: the same features, AdaIN-normalised with the statistics it is given,
interpolated with the content's own features at ``strength`` and decoded by a 1x1 convolution and a tanh. A 3x3
receptive field and statistics passed in from outside make tiled renders agree with whole ones.

:func:`arbitrary_folder` writes the model folder (card with config and ``presets.json``);
:func:`reference_render` is the same maths in numpy, to check the engine feeds the graph what the contract says.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from tests.tiny_onnx import (
    IR_VERSION,
    OPSET,
    card_dict,
    image_model,
    io_from_graph,
    save_model,
    sha256_of,
    write_card,
    write_model_folder,
)

CHANNELS = 6
EPS = 1e-5
MODEL_ID = "tiny-arbitrary"
PRESET_SOURCES = {"starry-night": ("The Starry Night (van Gogh)", "van_gogh_starry_night.jpg", 1),
                  "great-wave": ("The Great Wave (Hokusai)", "hokusai_great_wave_off_kanagawa.jpg", 2),
                  "held-out": ("A Held-out Painting", "held_out.jpg", 3)}


def _weights(channels: int, seed: int = 11) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"w": (rng.standard_normal((channels, 3, 3, 3)) * 0.3).astype(np.float32),
            "b": (rng.standard_normal(channels) * 0.1 + 0.2).astype(np.float32),
            "d": (rng.standard_normal((3, channels, 1, 1)) * 0.5).astype(np.float32),
            "db": np.zeros(3, np.float32)}


def _finish(graph: onnx.GraphProto) -> onnx.ModelProto:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="genart-tests")
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model)
    return model


def _features(source: str) -> list[onnx.NodeProto]:
    return [helper.make_node("Conv", [source, "w", "b"], ["conv"], pads=[1, 1, 1, 1]),
            helper.make_node("Relu", ["conv"], ["f"])]


def _image(name: str) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, ["batch", 3, "height", "width"])


def _stats(name: str, channels: int) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, ["batch", channels])


def encoder_model(channels: int = CHANNELS, seed: int = 11) -> onnx.ModelProto:
    weights = _weights(channels, seed)
    nodes = _features("image") + [
        helper.make_node("ReduceMean", ["f"], ["mean"], axes=[2, 3], keepdims=0),
        helper.make_node("ReduceMean", ["f"], ["mean4"], axes=[2, 3], keepdims=1),
        helper.make_node("Sub", ["f", "mean4"], ["centred"]),
        helper.make_node("Mul", ["centred", "centred"], ["squared"]),
        helper.make_node("ReduceMean", ["squared"], ["var"], axes=[2, 3], keepdims=0),
        helper.make_node("Add", ["var", "eps"], ["var_eps"]),
        helper.make_node("Sqrt", ["var_eps"], ["std"]),
    ]
    graph = helper.make_graph(
        nodes, "tiny_arbitrary_encoder", [_image("image")], [_stats("mean", channels), _stats("std", channels)],
        initializer=[numpy_helper.from_array(weights["w"], "w"), numpy_helper.from_array(weights["b"], "b"),
                     numpy_helper.from_array(np.array(EPS, np.float32), "eps")])
    return _finish(graph)


def transfer_model(channels: int = CHANNELS, seed: int = 11) -> onnx.ModelProto:
    weights = _weights(channels, seed)
    as4 = [helper.make_node("Reshape", [name, "shape4"], [f"{name}4"])
           for name in ("content_mean", "content_std", "style_mean", "style_std")]
    as4.append(helper.make_node("Reshape", ["strength", "shape1"], ["strength4"]))
    nodes = _features("content") + as4 + [
        helper.make_node("Sub", ["f", "content_mean4"], ["centred"]),
        helper.make_node("Add", ["content_std4", "eps"], ["content_std_eps"]),
        helper.make_node("Div", ["centred", "content_std_eps"], ["normal"]),
        helper.make_node("Mul", ["normal", "style_std4"], ["scaled"]),
        helper.make_node("Add", ["scaled", "style_mean4"], ["t"]),
        helper.make_node("Sub", ["t", "f"], ["towards"]),
        helper.make_node("Mul", ["towards", "strength4"], ["step"]),
        helper.make_node("Add", ["f", "step"], ["mixed"]),
        helper.make_node("Conv", ["mixed", "d", "db"], ["decoded"]),
        helper.make_node("Tanh", ["decoded"], ["stylized"]),
    ]
    inputs = [_image("content")] + [_stats(n, channels) for n in ("content_mean", "content_std", "style_mean",
                                                                    "style_std")]
    inputs.append(helper.make_tensor_value_info("strength", TensorProto.FLOAT, ["batch"]))
    graph = helper.make_graph(
        nodes, "tiny_arbitrary_transfer", inputs, [_image("stylized")],
        initializer=[numpy_helper.from_array(weights["w"], "w"), numpy_helper.from_array(weights["b"], "b"),
                     numpy_helper.from_array(weights["d"], "d"), numpy_helper.from_array(weights["db"], "db"),
                     numpy_helper.from_array(np.array(EPS, np.float32), "eps"),
                     numpy_helper.from_array(np.array([-1, channels, 1, 1], np.int64), "shape4"),
                     numpy_helper.from_array(np.array([-1, 1, 1, 1], np.int64), "shape1")])
    return _finish(graph)


def _conv3(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(3, H, W)`` -> ``(C, H, W)``: 3x3 convolution with zero padding, as ONNX Conv with pads 1."""
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1)))
    height, width = x.shape[1:]
    out = np.zeros((w.shape[0], height, width), np.float64)
    for dy in range(3):
        for dx in range(3):
            out += np.einsum("oc,chw->ohw", w[:, :, dy, dx], padded[:, dy:dy + height, dx:dx + width])
    return out + b[:, None, None]


def reference_features(image: np.ndarray, channels: int = CHANNELS) -> np.ndarray:
    weights = _weights(channels)
    return np.maximum(_conv3(image.astype(np.float64), weights["w"], weights["b"]), 0.0)


def reference_stats(image: np.ndarray, channels: int = CHANNELS) -> tuple[np.ndarray, np.ndarray]:
    """The encoder in numpy: ``(3, H, W)`` in [-1, 1] -> (mean, std), each ``(C,)``."""
    f = reference_features(image, channels)
    return f.mean(axis=(1, 2)), np.sqrt(f.var(axis=(1, 2)) + EPS)


def reference_render(image: np.ndarray, content: tuple[np.ndarray, np.ndarray], style: tuple[np.ndarray, np.ndarray],
                     strength: float, channels: int = CHANNELS) -> np.ndarray:
    """The transfer network in numpy: ``(3, H, W)`` in [-1, 1] -> ``(3, H, W)`` in [-1, 1]."""
    weights = _weights(channels)
    f = reference_features(image, channels)
    col = (lambda v: np.asarray(v, np.float64)[:, None, None])
    t = (f - col(content[0])) / (col(content[1]) + EPS) * col(style[1]) + col(style[0])
    mixed = f + strength * (t - f)
    return np.tanh(np.einsum("oc,chw->ohw", weights["d"][:, :, 0, 0], mixed))


def painting(seed: int, side: int = 48) -> np.ndarray:
    """A seeded stand-in for a painting: smooth colour fields with strokes, RGB uint8."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:side, 0:side] / side
    base = rng.uniform(40, 200, 3)
    waves = np.stack([np.sin(xx * rng.uniform(3, 12) + yy * rng.uniform(3, 12) + p) for p in rng.uniform(0, 6, 3)], -1)
    return np.clip(base + 50 * waves + rng.normal(0, 12, (side, side, 3)), 0, 255).astype(np.uint8)


def preset_stats(channels: int = CHANNELS) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The statistics of each stand-in painting, as the exporter would measure them."""
    return {pid: reference_stats(painting(seed).astype(np.float32).transpose(2, 0, 1) / 127.5 - 1.0, channels)
            for pid, (_name, _source, seed) in PRESET_SOURCES.items()}


def presets_document(channels: int = CHANNELS) -> dict[str, Any]:
    stats = preset_stats(channels)
    return {"format": "genart-style-presets/1", "presets": [
        {"id": pid, "name": name, "source": source, "mean": [float(v) for v in stats[pid][0]],
         "std": [float(v) for v in stats[pid][1]], "held_out": pid == "held-out"}
        for pid, (name, source, _seed) in PRESET_SOURCES.items()]}


def arbitrary_config(channels: int = CHANNELS, **changes: Any) -> dict[str, Any]:
    config = {"size_multiple": 8, "style_side": 64, "content_stats_side": 64, "channels": channels, "overlap": 16,
              "activation_bytes_per_pixel": 64, "presets": "presets.json"}
    config.update(changes)
    return config


def arbitrary_folder(root: str | Path, model_id: str = MODEL_ID, channels: int = CHANNELS,
                     presets: dict[str, Any] | str | bytes | None = None, **config_changes: Any) -> Path:
    """``root/<model_id>``: encoder.onnx, transfer.onnx, presets.json and a valid style-arbitrary card.
    ``presets`` replaces the presets file (a dict is written as JSON, text or bytes as they are)."""
    folder = Path(root) / model_id
    folder.mkdir(parents=True, exist_ok=True)
    files, io = {}, {}
    for role, model in (("encoder", encoder_model(channels)), ("transfer", transfer_model(channels))):
        path = save_model(model, folder / f"{role}.onnx")
        files[role] = {"path": path.name, "sha256": sha256_of(path)}
        io[role] = io_from_graph(model)
    document = presets if presets is not None else presets_document(channels)
    raw = json.dumps(document).encode() if isinstance(document, dict) else document
    (folder / "presets.json").write_bytes(raw.encode() if isinstance(raw, str) else raw)
    write_card(folder, card_dict(model_id, "style-arbitrary", files, io, name="Tiny Arbitrary", resolution=[64, 64],
                                 config=arbitrary_config(channels, **config_changes)))
    return folder


def fixed_network_for_painting(root: str | Path, model_id: str, source: str | None) -> Path:
    """A fixed style network whose card names its painting the way our exporter does (or none)."""
    data = f"photos, style image ../shared/data/styles/{source}" if source else "random weights"
    provenance = {"data": data, "command": "tests", "steps": 0, "hardware": "none", "precision": "float32",
                  "wall_time_s": 0, "created": "2024-01-01"}
    return write_model_folder(root, model_id, "style", {"stylizer": image_model(scale=-1.0)},
                              name=model_id.replace("-", " ").title(), resolution=[64, 64], provenance=provenance)
