"""Write one self-contained ONNX file per network (weights inside, no ``.onnx.data``), named I/O, dynamic batch."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import onnx
import torch

from genart_desktop.core.errors import ModelError

OPSET = 17


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
