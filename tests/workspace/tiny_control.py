"""A tiny control-conditioned diffusion model folder (onnx.helper only, no torch) for engine, workspace, CLI and
panel tests.

It is :func:`tests.workspace.tiny_diffusion.ideal_unet` with a control: the clean picture it steers towards is
``colour + control_strength * (control - colour)``, so at strength 1 every sampler lands on the control picture
itself, at strength 0 on the plain colour; a test can see where the control's lines went. Extra inputs ``control``
[batch, 3, height, width] float32 in [-1, 1] and ``control_strength`` [batch] float32, as our exporter writes them
for a pixel-space model.
"""

from __future__ import annotations

from pathlib import Path

import onnx
from onnx import TensorProto, helper

from tests.tiny_onnx import write_model_folder
from tests.workspace.tiny_diffusion import SCHEDULE, WORD_COLOURS, WORDS, ideal_unet


def control_unet(text: bool) -> onnx.ModelProto:
    model = ideal_unet(text, colours=WORD_COLOURS) if text else ideal_unet(False)
    graph = model.graph
    at = next(i for i, node in enumerate(graph.node) if list(node.output) == ["x0"])
    graph.node[at].output[0] = "x0_plain"
    pull = [helper.make_node("Sub", ["control", "x0_plain"], ["toward"]),
            helper.make_node("Reshape", ["control_strength", "col_shape"], ["strength4"]),
            helper.make_node("Mul", ["strength4", "toward"], ["pull"]),
            helper.make_node("Add", ["x0_plain", "pull"], ["x0"])]
    for offset, node in enumerate(pull, 1):
        graph.node.insert(at + offset, node)
    graph.input.extend([
        helper.make_tensor_value_info("control", TensorProto.FLOAT, ["batch", 3, "pixel_height", "pixel_width"]),
        helper.make_tensor_value_info("control_strength", TensorProto.FLOAT, ["batch"])])
    onnx.checker.check_model(model)
    return model


def control_folder(root: str | Path, model_id: str = "tiny-control", text: bool = True, resolution: int = 16,
                   kind: str = "edges") -> Path:
    """A registry folder whose U-Net follows a ``kind`` control (and a one-word prompt when ``text``)."""
    conditioning = ({"type": "text", "vocabulary": WORDS, "max_tokens": 1, "examples": WORDS[:2]} if text
                    else {"type": "none"})
    config = {"schedule": SCHEDULE.to_dict(), "conditioning": conditioning, "default_steps": 8,
              "default_guidance": 2.0 if text else 1.0, "control": {"type": kind, "colours": 6}}
    return write_model_folder(root, model_id, "diffusion", {"unet": control_unet(text)},
                              resolution=[resolution, resolution], config=config)
