"""Run an exported graph in onnxruntime and torch on the same inputs and measure the largest difference."""

from __future__ import annotations

import os

import numpy as np
import onnxruntime as ort
import torch

FP32_TOLERANCE = 1e-4
FP16_TOLERANCE = 2e-2


def onnx_session(path: str | os.PathLike[str]) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def max_abs_diff(path: str | os.PathLike[str], module: torch.nn.Module, inputs: dict[str, torch.Tensor],
                 outputs: list[str]) -> dict[str, float]:
    """Largest |onnx - torch| per output; the module runs in fp32 eval mode on CPU."""
    session = onnx_session(path)
    feeds = {}
    for declared in session.get_inputs():
        value = inputs[declared.name].detach().cpu().numpy()
        feeds[declared.name] = value.astype(np.float16) if declared.type == "tensor(float16)" else value
    got = session.run(outputs, feeds)
    with torch.no_grad():
        expected = module.float().eval().cpu()(*[t.float().cpu() for t in inputs.values()])
    if isinstance(expected, torch.Tensor):
        expected = (expected,)
    return {name: float(np.max(np.abs(np.asarray(g, np.float32) - e.numpy())))
            for name, g, e in zip(outputs, got, expected)}
