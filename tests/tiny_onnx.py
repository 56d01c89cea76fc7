"""Tiny ONNX models and model folders for tests, built with ``onnx.helper`` (no torch, no downloads).

Every builder returns an ``onnx.ModelProto`` with named inputs/outputs and dynamic axes written as ``dim_param``
names, exactly like our exporter does. Typical use::

    from tests.tiny_onnx import linear_generator, write_model_folder

    folder = write_model_folder(tmp_path, "tiny-gan", "gan", {"generator": linear_generator(latent=8, size=8)})
    # folder/generator.onnx + folder/model.json (valid card with sha256, io read from the graph)

Builders:
- :func:`image_model` - identity-like image network ``content -> stylized`` (``out = scale * in + shift``).
- :func:`linear_generator` - ``z [batch, latent] -> image [batch, 3, size, size]`` via MatMul + Tanh.
- :func:`encoder` / :func:`decoder` - a tiny linear VAE (``image -> mean, logvar`` and ``latent -> image``).
- :func:`tiny_unet` - ``sample, timestep -> prediction`` (``prediction = sample * 0.5 + timestep``).
- :func:`slow_model` - a long chain of MatMuls, for cancellation / run-termination tests.
Writers:
- :func:`save_model`, :func:`write_model_folder` (card included), :func:`write_card`, :func:`sha256_of`,
  :func:`io_from_graph`, :func:`write_optimum_sd_folder` (Optimum Stable Diffusion layout, structure only).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
IR_VERSION = 8  # readable by every onnxruntime >= 1.14
IMAGE_TENSORS = {"image", "content", "stylized"}  # documented as [-1, 1] in the card
_DTYPES = {TensorProto.FLOAT: "float32", TensorProto.FLOAT16: "float16", TensorProto.INT64: "int64",
           TensorProto.INT32: "int32", TensorProto.UINT8: "uint8", TensorProto.DOUBLE: "float64"}


def _finish(graph: onnx.GraphProto) -> onnx.ModelProto:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="genart-tests")
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model)
    return model


def _weights(shape: tuple[int, ...], seed: int, scale: float | None = None) -> np.ndarray:
    rng = np.random.default_rng(seed)
    fan_in = shape[0] if shape else 1
    return (rng.standard_normal(shape) * (scale if scale is not None else 1.0 / np.sqrt(fan_in))).astype(np.float32)


def image_model(input_name: str = "content", output_name: str = "stylized", channels: int = 3,
                scale: float = 1.0, shift: float = 0.0, dims: tuple[str | int, str | int, str | int] = ("batch", "height", "width"),
                elem_type: int = TensorProto.FLOAT) -> onnx.ModelProto:
    """``out = in * scale + shift`` on ``[batch, channels, height, width]``; ``dims`` may fix any axis."""
    shape = [dims[0], channels, dims[1], dims[2]]
    np_type = np.float16 if elem_type == TensorProto.FLOAT16 else np.float32
    nodes = [
        helper.make_node("Mul", [input_name, "scale"], ["scaled"]),
        helper.make_node("Add", ["scaled", "shift"], [output_name]),
    ]
    graph = helper.make_graph(
        nodes, "image_model",
        [helper.make_tensor_value_info(input_name, elem_type, shape)],
        [helper.make_tensor_value_info(output_name, elem_type, shape)],
        initializer=[numpy_helper.from_array(np.array(scale, np_type), "scale"),
                     numpy_helper.from_array(np.array(shift, np_type), "shift")],
    )
    return _finish(graph)


def linear_generator(latent: int = 8, size: int = 8, channels: int = 3, seed: int = 0) -> onnx.ModelProto:
    """``z [batch, latent] -> image [batch, channels, size, size]`` in [-1, 1] (MatMul, Tanh, Reshape)."""
    pixels = channels * size * size
    nodes = [
        helper.make_node("MatMul", ["z", "w"], ["flat"]),
        helper.make_node("Tanh", ["flat"], ["squashed"]),
        helper.make_node("Reshape", ["squashed", "shape"], ["image"]),
    ]
    graph = helper.make_graph(
        nodes, "linear_generator",
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, ["batch", latent])],
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", channels, size, size])],
        initializer=[numpy_helper.from_array(_weights((latent, pixels), seed), "w"),
                     numpy_helper.from_array(np.array([-1, channels, size, size], np.int64), "shape")],
    )
    return _finish(graph)


def encoder(size: int = 8, latent: int = 4, channels: int = 3, seed: int = 1) -> onnx.ModelProto:
    """``image [batch, channels, size, size] -> mean, logvar [batch, latent]`` (flatten + two MatMuls)."""
    pixels = channels * size * size
    nodes = [
        helper.make_node("Flatten", ["image"], ["flat"], axis=1),
        helper.make_node("MatMul", ["flat", "w_mean"], ["mean"]),
        helper.make_node("MatMul", ["flat", "w_logvar"], ["logvar"]),
    ]
    graph = helper.make_graph(
        nodes, "encoder",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", channels, size, size])],
        [helper.make_tensor_value_info("mean", TensorProto.FLOAT, ["batch", latent]),
         helper.make_tensor_value_info("logvar", TensorProto.FLOAT, ["batch", latent])],
        initializer=[numpy_helper.from_array(_weights((pixels, latent), seed), "w_mean"),
                     numpy_helper.from_array(_weights((pixels, latent), seed + 1, 0.01), "w_logvar")],
    )
    return _finish(graph)


def decoder(size: int = 8, latent: int = 4, channels: int = 3, seed: int = 3) -> onnx.ModelProto:
    """``latent [batch, latent] -> image [batch, channels, size, size]`` in [-1, 1]."""
    pixels = channels * size * size
    nodes = [
        helper.make_node("MatMul", ["latent", "w"], ["flat"]),
        helper.make_node("Tanh", ["flat"], ["squashed"]),
        helper.make_node("Reshape", ["squashed", "shape"], ["image"]),
    ]
    graph = helper.make_graph(
        nodes, "decoder",
        [helper.make_tensor_value_info("latent", TensorProto.FLOAT, ["batch", latent])],
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", channels, size, size])],
        initializer=[numpy_helper.from_array(_weights((latent, pixels), seed), "w"),
                     numpy_helper.from_array(np.array([-1, channels, size, size], np.int64), "shape")],
    )
    return _finish(graph)


def tiny_unet(channels: int = 3) -> onnx.ModelProto:
    """``sample [batch, C, height, width], timestep [batch] -> prediction = sample * 0.5 + timestep``."""
    nodes = [
        helper.make_node("Mul", ["sample", "half"], ["halved"]),
        helper.make_node("Reshape", ["timestep", "t_shape"], ["t4"]),
        helper.make_node("Add", ["halved", "t4"], ["prediction"]),
    ]
    graph = helper.make_graph(
        nodes, "tiny_unet",
        [helper.make_tensor_value_info("sample", TensorProto.FLOAT, ["batch", channels, "height", "width"]),
         helper.make_tensor_value_info("timestep", TensorProto.FLOAT, ["batch"])],
        [helper.make_tensor_value_info("prediction", TensorProto.FLOAT, ["batch", channels, "height", "width"])],
        initializer=[numpy_helper.from_array(np.array(0.5, np.float32), "half"),
                     numpy_helper.from_array(np.array([-1, 1, 1, 1], np.int64), "t_shape")],
    )
    return _finish(graph)


def slow_model(steps: int = 400, width: int = 384) -> onnx.ModelProto:
    """``x [batch, width] -> y``: ``steps`` MatMul+Tanh nodes sharing one weight, so one run takes long.

    onnxruntime checks ``RunOptions.terminate`` between nodes, so a run of this model stops soon after it is set.
    """
    nodes = []
    previous = "x"
    for index in range(steps):
        nodes.append(helper.make_node("MatMul", [previous, "w"], [f"m{index}"]))
        out = "y" if index == steps - 1 else f"t{index}"
        nodes.append(helper.make_node("Tanh", [f"m{index}"], [out]))
        previous = out
    graph = helper.make_graph(
        nodes, "slow_model",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", width])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", width])],
        initializer=[numpy_helper.from_array(_weights((width, width), 7), "w")],
    )
    return _finish(graph)


def save_model(model: onnx.ModelProto, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(model.SerializeToString())
    return path


def sha256_of(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _tensor_entry(value_info: onnx.ValueInfoProto) -> dict[str, Any]:
    tensor_type = value_info.type.tensor_type
    shape: list[int | str] = []
    for dim in tensor_type.shape.dim:
        if dim.HasField("dim_value"):
            shape.append(int(dim.dim_value))
        else:
            shape.append(dim.dim_param or "dynamic")
    dtype = _DTYPES[tensor_type.elem_type]
    entry: dict[str, Any] = {"shape": shape, "dtype": dtype}
    if value_info.name in IMAGE_TENSORS:
        entry["range"] = [-1.0, 1.0]
    return entry


def io_from_graph(model: onnx.ModelProto) -> dict[str, dict[str, Any]]:
    """The card's ``io`` entry for one role, read from the graph (initializers are not inputs)."""
    initializers = {init.name for init in model.graph.initializer}
    return {
        "inputs": {vi.name: _tensor_entry(vi) for vi in model.graph.input if vi.name not in initializers},
        "outputs": {vi.name: _tensor_entry(vi) for vi in model.graph.output},
    }


def card_dict(model_id: str, family: str, files: dict[str, dict[str, str]], io: dict[str, Any],
              **overrides: Any) -> dict[str, Any]:
    """A complete, valid ``genart-model-card/1`` dictionary; ``overrides`` replace or add top-level fields."""
    card: dict[str, Any] = {
        "format": "genart-model-card/1",
        "id": model_id,
        "name": model_id.replace("-", " ").title(),
        "family": family,
        "description": f"A tiny {family} model built by the test suite.",
        "files": files,
        "io": io,
        "resolution": [8, 8],
        "license": "CC0-1.0 (test fixture)",
        "provenance": {"data": "random weights", "command": "tests/tiny_onnx.py", "steps": 0,
                       "hardware": "none", "precision": "float32", "wall_time_s": 0, "created": "2024-01-01"},
        "metrics": {},
        "config": {},
    }
    if family in ("gan", "vae"):
        card["latent"] = {"shape": [8 if family == "gan" else 4], "distribution": "normal"}
    card.update(overrides)
    return card


def write_card(folder: str | Path, card: dict[str, Any]) -> Path:
    path = Path(folder) / "model.json"
    path.write_text(json.dumps(card, indent=2), encoding="utf-8")
    return path


def write_model_folder(root: str | Path, model_id: str, family: str, models: dict[str, onnx.ModelProto],
                       io: dict[str, Any] | None = None, folder_name: str | None = None,
                       **card_overrides: Any) -> Path:
    """Write ``root/<folder_name or id>/<role>.onnx`` for each role and a valid ``model.json`` (sha256 + io).

    ``io`` replaces the io read from the graphs (to make a card that disagrees with its graph); other card fields
    can be overridden by keyword (``latent=...``, ``resolution=...``).
    """
    folder = Path(root) / (folder_name or model_id)
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    graph_io = {}
    for role, model in models.items():
        path = save_model(model, folder / f"{role}.onnx")
        files[role] = {"path": path.name, "sha256": sha256_of(path)}
        graph_io[role] = io_from_graph(model)
    write_card(folder, card_dict(model_id, family, files, io if io is not None else graph_io, **card_overrides))
    return folder


def write_optimum_sd_folder(root: str | Path, name: str = "tiny-sd", with_vae_encoder: bool = False) -> Path:
    """A folder in the layout Hugging Face Optimum exports for Stable Diffusion (tiny stand-in graphs).

    Only the structure is real (model_index.json, unet/, text_encoder/, vae_decoder/, tokenizer/, scheduler/); the
    graphs are the tiny builders above, good for registry tests, not for running a pipeline.
    """
    folder = Path(root) / name
    folder.mkdir(parents=True, exist_ok=True)
    index = {
        "_class_name": "ORTStableDiffusionPipeline",
        "_diffusers_version": "0.20.0",
        "scheduler": ["diffusers", "PNDMScheduler"],
        "text_encoder": ["optimum", "ORTModelTextEncoder"],
        "tokenizer": ["transformers", "CLIPTokenizer"],
        "unet": ["optimum", "ORTModelUnet"],
        "vae_decoder": ["optimum", "ORTModelVaeDecoder"],
    }
    save_model(tiny_unet(4), folder / "unet" / "model.onnx")
    save_model(image_model("input_ids", "last_hidden_state", channels=1), folder / "text_encoder" / "model.onnx")
    save_model(decoder(size=8, latent=4), folder / "vae_decoder" / "model.onnx")
    if with_vae_encoder:
        index["vae_encoder"] = ["optimum", "ORTModelVaeEncoder"]
        save_model(encoder(size=8, latent=4), folder / "vae_encoder" / "model.onnx")
    (folder / "tokenizer").mkdir(exist_ok=True)
    (folder / "tokenizer" / "vocab.json").write_text(json.dumps({"<|startoftext|>": 0, "<|endoftext|>": 1}))
    (folder / "tokenizer" / "merges.txt").write_text("#version: 0.2\n")
    (folder / "scheduler").mkdir(exist_ok=True)
    (folder / "scheduler" / "scheduler_config.json").write_text(json.dumps({"_class_name": "PNDMScheduler",
                                                                          "num_train_timesteps": 1000}))
    (folder / "model_index.json").write_text(json.dumps(index, indent=2))
    return folder
