"""A tiny upscaler graph and model folder for tests (``onnx.helper``, no torch): a 3x3 convolution (so a tile's
border depends on its neighbours, as in a real network) followed by a bilinear ``scale``x resize."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from tests.tiny_onnx import _finish, write_model_folder


def tiny_upscaler(scale: int = 2, seed: int = 0, taps: np.ndarray | None = None) -> onnx.ModelProto:
    """``low [batch, 3, height, width] -> high [batch, 3, out_height, out_width]`` in [0, 1]: a mild random
    convolution (taps sum to 1, so flat colour stays flat; the same on every channel; or the given 3x3 ``taps``)
    and a linear resize."""
    if taps is None:
        rng = np.random.default_rng(seed)
        taps = rng.uniform(-0.1, 0.1, (3, 3)).astype(np.float32)
        taps[1, 1] += 1.0 - taps.sum()
    taps = np.asarray(taps, np.float32)
    kernel = np.zeros((3, 3, 3, 3), np.float32)
    for channel in range(3):
        kernel[channel, channel] = taps
    nodes = [
        helper.make_node("Conv", ["low", "w"], ["sharp"], pads=[1, 1, 1, 1]),
        helper.make_node("Resize", ["sharp", "", "scales"], ["high"], mode="linear"),
    ]
    graph = helper.make_graph(
        nodes, "tiny_upscaler",
        [helper.make_tensor_value_info("low", TensorProto.FLOAT, ["batch", 3, "height", "width"])],
        [helper.make_tensor_value_info("high", TensorProto.FLOAT, ["batch", 3, "out_height", "out_width"])],
        initializer=[numpy_helper.from_array(kernel, "w"),
                     numpy_helper.from_array(np.array([1, 1, scale, scale], np.float32), "scales")],
    )
    return _finish(graph)


def write_upscaler_folder(root: Path, model_id: str = "tiny-upscaler", scale: int = 2, tile: int = 32,
                          overlap: int = 8, **config) -> Path:
    io = {"upscaler": {"inputs": {"low": {"shape": ["batch", 3, "height", "width"], "dtype": "float32",
                                          "range": [0.0, 1.0]}},
                       "outputs": {"high": {"shape": ["batch", 3, "out_height", "out_width"], "dtype": "float32",
                                            "range": [0.0, 1.0]}}}}
    return write_model_folder(root, model_id, "upscaler", {"upscaler": tiny_upscaler(scale)}, io=io,
                              config={"scale": scale, "tile": tile, "overlap": overlap, "value_range": [0.0, 1.0],
                                      **config})
