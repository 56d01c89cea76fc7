"""Write one self-contained ONNX file per network (weights inside, no ``.onnx.data``), named I/O, dynamic batch."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import onnx
import torch

from genart_desktop.core.errors import ModelError

OPSET = 17
FP16_SUFFIX = "__fp16"  # store_weights_as_fp16 names a weight's float16 copy <name><suffix>


def export_onnx(module: torch.nn.Module, inputs: dict[str, torch.Tensor], outputs: list[str],
                path: str | os.PathLike[str], opset: int = OPSET) -> Path:
    """Export ``module(*inputs.values())``; every input and output gets a dynamic ``batch`` first axis."""
    path = Path(path)
    module = module.eval()
    axes = {name: {0: "batch"} for name in [*inputs, *outputs]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            torch.onnx.export(module, tuple(inputs.values()), str(path), input_names=list(inputs),
                              output_names=outputs, dynamic_axes=axes, opset_version=opset, dynamo=False,
                              do_constant_folding=True)
        except TypeError:  # a torch without the legacy exporter: use dynamo, keeping weights inside the file
            batch = torch.export.Dim("batch")
            shapes = {name: {0: batch} for name in inputs}
            torch.onnx.export(module, tuple(inputs.values()), str(path), input_names=list(inputs),
                              output_names=outputs, dynamic_shapes=shapes, opset_version=opset,
                              external_data=False)
    check_self_contained(path)
    return path


def check_self_contained(path: Path) -> None:
    model = onnx.load(str(path), load_external_data=False)
    external = [t.name for t in model.graph.initializer if t.data_location == onnx.TensorProto.EXTERNAL]
    if external:
        raise ModelError(f"{path.name} keeps {len(external)} weight(s) in external files; export failed.")
    try:
        onnx.checker.check_model(model)
    except onnx.checker.ValidationError as exc:
        raise ModelError(f"{path.name} is not a valid ONNX graph: {exc}") from exc
    if model.opset_import[0].version < OPSET:
        raise ModelError(f"{path.name} uses opset {model.opset_import[0].version}, below {OPSET}.")


def store_weights_as_fp16(path: str | os.PathLike[str], min_elements: int = 256) -> int:
    """Halve a float32 graph's file size without changing how it computes: every float32 weight of at least
    ``min_elements`` values is stored as float16 and cast back to float32 inside the graph (onnxruntime folds the
    casts once at load, so inference runs in float32 at the same speed; only the rounding of the weights differs).
    Inputs, outputs and small tensors (biases, norms) stay as they were. Returns how many weights were converted."""
    import numpy as np
    from onnx import helper, numpy_helper

    path = Path(path)
    model = onnx.load(str(path), load_external_data=False)
    graph = model.graph
    taken = {t.name for t in graph.initializer} | {n for node in graph.node for n in node.output}
    kept, casts, converted = [], [], 0
    for tensor in graph.initializer:
        if tensor.data_type != onnx.TensorProto.FLOAT or int(np.prod(tensor.dims)) < min_elements:
            kept.append(tensor)
            continue
        half_name = f"{tensor.name}{FP16_SUFFIX}"
        while half_name in taken:
            half_name += "_"
        taken.add(half_name)
        half = numpy_helper.from_array(numpy_helper.to_array(tensor).astype(np.float16), half_name)
        kept.append(half)
        casts.append(helper.make_node("Cast", [half_name], [tensor.name], to=onnx.TensorProto.FLOAT,
                                      name=f"{half_name}_to_float"))
        converted += 1
    del graph.initializer[:]
    graph.initializer.extend(kept)
    nodes = casts + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.save(model, str(path))
    check_self_contained(path)
    return converted
