"""Deliberately slow networks for cancellation tests: one ONNX run takes long enough to be stopped half way."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from tests.tiny_onnx import _finish


def _identity_kernel(channels: int) -> np.ndarray:
    kernel = np.zeros((channels, channels, 3, 3), np.float32)
    for c in range(channels):
        kernel[c, c, 1, 1] = 1.0
    return kernel


def conv_chain(layers: int, input_name: str, output_name: str, extra_inputs: tuple[tuple[str, int, list], ...] = ()
               ) -> onnx.ModelProto:
    """``output = input`` computed the slow way: ``layers`` 3x3 convolutions with an identity kernel."""
    shape = ["batch", 3, "height", "width"]
    nodes, previous = [], input_name
    for index in range(layers):
        out = output_name if index == layers - 1 else f"c{index}"
        nodes.append(helper.make_node("Conv", [previous, "k"], [out], pads=[1, 1, 1, 1]))
        previous = out
    inputs = [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, shape)]
    inputs += [helper.make_tensor_value_info(name, elem, dims) for name, elem, dims in extra_inputs]
    graph = helper.make_graph(nodes, "conv_chain", inputs,
                              [helper.make_tensor_value_info(output_name, TensorProto.FLOAT, shape)],
                              initializer=[numpy_helper.from_array(_identity_kernel(3), "k")])
    return _finish(graph)


def slow_stylizer(layers: int = 300) -> onnx.ModelProto:
    return conv_chain(layers, "content", "stylized")


def slow_unet(layers: int = 300) -> onnx.ModelProto:
    """A U-Net stand-in predicting ``eps = sample`` slowly; ``timestep`` is accepted and ignored."""
    return conv_chain(layers, "sample", "prediction", (("timestep", TensorProto.FLOAT, ["batch"]),))
