"""A models folder with one tiny, runnable model of every family, for the self-test (onnx.helper only, no torch).

``write_all_families(root)`` writes gan, vae, style, diffusion (cards built by tests/tiny_onnx.py) and a Stable
Diffusion folder in Hugging Face Optimum's layout whose three graphs really run: a text encoder
(``input_ids -> last_hidden_state``), a U-Net (``sample, timestep, encoder_hidden_states -> out_sample``) and a VAE
decoder that upsamples by 8 (``latent_sample -> sample``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from tests.tiny_onnx import (
    _finish,
    decoder,
    encoder,
    image_model,
    linear_generator,
    save_model,
    tiny_unet,
    write_model_folder,
    write_optimum_sd_folder,
)

TEXT_WIDTH = 8
TOKENS = 77
FAMILY_IDS = {"gan": "tiny-gan", "vae": "tiny-vae", "style": "tiny-style", "diffusion": "tiny-diffusion",
              "sd-onnx": "tiny-sd"}


def sd_text_encoder() -> onnx.ModelProto:
    """``input_ids [batch, 77] int64 -> last_hidden_state [batch, 77, 8]`` (ids scaled per channel)."""
    nodes = [
        helper.make_node("Cast", ["input_ids"], ["ids"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["ids", "axis2"], ["ids3"]),
        helper.make_node("Mul", ["ids3", "per_channel"], ["last_hidden_state"]),
    ]
    graph = helper.make_graph(
        nodes, "sd_text_encoder",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", TOKENS])],
        [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", TOKENS, TEXT_WIDTH])],
        initializer=[numpy_helper.from_array(np.array([2], np.int64), "axis2"),
                     numpy_helper.from_array(np.linspace(-1e-3, 1e-3, TEXT_WIDTH, dtype=np.float32), "per_channel")],
    )
    return _finish(graph)


def sd_unet(channels: int = 4) -> onnx.ModelProto:
    """``out_sample = 0.5 * sample + 1e-3 * timestep + mean(encoder_hidden_states)`` per batch row."""
    nodes = [
        helper.make_node("Mul", ["sample", "half"], ["halved"]),
        helper.make_node("Cast", ["timestep"], ["t_float"], to=TensorProto.FLOAT),
        helper.make_node("Mul", ["t_float", "milli"], ["t_small"]),
        helper.make_node("Reshape", ["t_small", "col"], ["t4"]),
        helper.make_node("ReduceMean", ["encoder_hidden_states"], ["text_mean"], axes=[1, 2], keepdims=0),
        helper.make_node("Reshape", ["text_mean", "col"], ["text4"]),
        helper.make_node("Add", ["halved", "t4"], ["with_t"]),
        helper.make_node("Add", ["with_t", "text4"], ["out_sample"]),
    ]
    graph = helper.make_graph(
        nodes, "sd_unet",
        [helper.make_tensor_value_info("sample", TensorProto.FLOAT, ["batch", channels, "height", "width"]),
         helper.make_tensor_value_info("timestep", TensorProto.INT64, ["batch"]),
         helper.make_tensor_value_info("encoder_hidden_states", TensorProto.FLOAT, ["batch", TOKENS, TEXT_WIDTH])],
        [helper.make_tensor_value_info("out_sample", TensorProto.FLOAT, ["batch", channels, "height", "width"])],
        initializer=[numpy_helper.from_array(np.array(0.5, np.float32), "half"),
                     numpy_helper.from_array(np.array(1e-3, np.float32), "milli"),
                     numpy_helper.from_array(np.array([-1, 1, 1, 1], np.int64), "col")],
    )
    return _finish(graph)


def sd_vae_decoder(channels: int = 4, factor: int = 8) -> onnx.ModelProto:
    """``latent_sample [batch, 4, h, w] -> sample [batch, 3, 8h, 8w]``: first three channels, upsampled, tanh."""
    nodes = [
        helper.make_node("Slice", ["latent_sample", "starts", "ends", "axes"], ["rgb"]),
        helper.make_node("Resize", ["rgb", "", "scales"], ["big"], mode="nearest"),
        helper.make_node("Tanh", ["big"], ["sample"]),
    ]
    graph = helper.make_graph(
        nodes, "sd_vae_decoder",
        [helper.make_tensor_value_info("latent_sample", TensorProto.FLOAT, ["batch", channels, "height", "width"])],
        [helper.make_tensor_value_info("sample", TensorProto.FLOAT, ["batch", 3, "out_height", "out_width"])],
        initializer=[numpy_helper.from_array(np.array([0], np.int64), "starts"),
                     numpy_helper.from_array(np.array([3], np.int64), "ends"),
                     numpy_helper.from_array(np.array([1], np.int64), "axes"),
                     numpy_helper.from_array(np.array([1, 1, factor, factor], np.float32), "scales")],
    )
    return _finish(graph)


def write_runnable_sd_folder(root: Path, name: str = FAMILY_IDS["sd-onnx"]) -> Path:
    folder = write_optimum_sd_folder(root, name)
    save_model(sd_text_encoder(), folder / "text_encoder" / "model.onnx")
    save_model(sd_unet(), folder / "unet" / "model.onnx")
    save_model(sd_vae_decoder(), folder / "vae_decoder" / "model.onnx")
    return folder


def nan_generator(latent: int = 8, size: int = 8) -> onnx.ModelProto:
    """A GAN generator whose graph is valid but whose weights are NaN: it loads, then paints garbage."""
    model = linear_generator(latent=latent, size=size)
    weights = next(init for init in model.graph.initializer if init.name == "w")
    weights.CopyFrom(numpy_helper.from_array(np.full((latent, 3 * size * size), np.nan, np.float32), "w"))
    return model


def write_all_families(root: Path) -> dict[str, Path]:
    """One runnable model per family under ``root``; returns family -> folder."""
    root.mkdir(parents=True, exist_ok=True)
    return {
        "gan": write_model_folder(root, FAMILY_IDS["gan"], "gan", {"generator": linear_generator(latent=8, size=8)}),
        "vae": write_model_folder(root, FAMILY_IDS["vae"], "vae",
                                  {"encoder": encoder(size=8, latent=4), "decoder": decoder(size=8, latent=4)}),
        "style": write_model_folder(root, FAMILY_IDS["style"], "style",
                                    {"stylizer": image_model(scale=-1.0)}, config={"size_multiple": 4}),
        "diffusion": write_model_folder(root, FAMILY_IDS["diffusion"], "diffusion", {"unet": tiny_unet(3)},
                                        config={"default_steps": 10}),
        "sd-onnx": write_runnable_sd_folder(root),
    }
