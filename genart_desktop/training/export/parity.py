"""Run an exported graph in onnxruntime and torch on the same inputs; refuse an export whose results disagree."""

from __future__ import annotations

import os
from collections.abc import Iterable

import numpy as np
import onnxruntime as ort
import torch

from genart_desktop.core.errors import ModelError

FP32_TOLERANCE = 1e-4
FP16_TOLERANCE = 2e-2


def onnx_session(path: str | os.PathLike[str]) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def max_abs_diff(path: str | os.PathLike[str], module: torch.nn.Module, inputs: dict[str, torch.Tensor],
                 outputs: list[str]) -> dict[str, float]:
    """Largest |onnx - torch| per output; the module runs in fp32 eval mode on CPU (integer inputs stay integer)."""
    session = onnx_session(path)
    feeds = {}
    for declared in session.get_inputs():
        value = inputs[declared.name].detach().cpu().numpy()
        feeds[declared.name] = value.astype(np.float16) if declared.type == "tensor(float16)" else value
    got = session.run(outputs, feeds)
    with torch.no_grad():
        expected = module.float().eval().cpu()(
            *[t.float().cpu() if t.is_floating_point() else t.cpu() for t in inputs.values()])
    if isinstance(expected, torch.Tensor):
        expected = (expected,)
    return {name: float(np.max(np.abs(np.asarray(g, np.float32) - e.numpy())))
            for name, g, e in zip(outputs, got, expected)}


def check_parity(what: str, path: str | os.PathLike[str], module: torch.nn.Module,
                 input_sets: Iterable[dict[str, torch.Tensor]], outputs: list[str], tolerance: float) -> float:
    """The largest difference over every input set and output; a non-finite one, or one above ``tolerance``, stops
    the export with a ModelError naming ``what`` before any card is written."""
    worst = float(np.max([diff for inputs in input_sets
                          for diff in max_abs_diff(path, module, inputs, outputs).values()]))  # NaN propagates
    if not np.isfinite(worst) or worst > tolerance:
        raise ModelError(f"The exported {what} disagrees with PyTorch: max abs difference {worst:.3g} exceeds "
                         f"{tolerance:g}; no model card was written.")
    return worst
