"""Tiny diffusion model folders for the diffusion controller and panel tests (onnx.helper only, no torch).

The U-Net is the *ideal* epsilon-predictor for a data set of flat colours: for a sample ``x`` at timestep ``t`` it
returns ``(x - sqrt(abar_t) * c) / sqrt(1 - abar_t)`` where ``c`` is the colour of the condition (one colour per
class, plus the null class used for guidance) or a fixed colour for the unconditional model. ``abar`` is the
model's own schedule baked in as a table, so every sampler lands on the colour, which lets the tests check where
generated pixels went. Inputs ``sample`` [batch, 3, height, width] float32, ``timestep`` [batch] float32, optional
``cond`` [batch, 1] int64; output ``prediction``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from genart_desktop.engine.schedules import ScheduleConfig, alphas_cumprod
from tests.tiny_onnx import _finish, write_model_folder

SCHEDULE = ScheduleConfig(num_train_timesteps=100, beta_schedule="cosine", timestep_spacing="trailing")
CLASSES = ["red", "green", "blue"]
# [-1, 1] colours: red, green, blue, then the null class (grey).
CLASS_COLOURS = np.array([[0.8, -0.8, -0.8], [-0.8, 0.8, -0.8], [-0.8, -0.8, 0.8], [0.0, 0.0, 0.0]], np.float32)
UNCONDITIONAL_COLOUR = np.array([0.6, 0.2, -0.6], np.float32)


def colour_pixels(colour: np.ndarray) -> np.ndarray:
    """The uint8 RGB value a [-1, 1] colour becomes."""
    return np.clip(np.round((np.asarray(colour) + 1.0) * 127.5), 0, 255).astype(np.uint8)


# Text model: one token; ids 0 (pad = the null prompt) and 1 (unknown word) are grey, then one colour per word.
WORDS = ["red", "green", "blue"]
WORD_COLOURS = np.concatenate([CLASS_COLOURS[3:], CLASS_COLOURS[3:], CLASS_COLOURS[:3]])


def ideal_unet(conditioned: bool, schedule: ScheduleConfig = SCHEDULE,
               colours: np.ndarray = CLASS_COLOURS) -> onnx.ModelProto:
    abar = alphas_cumprod(schedule).astype(np.float32)
    nodes = [
        helper.make_node("Cast", ["timestep"], ["t_int"], to=TensorProto.INT64),
        helper.make_node("Gather", ["abar", "t_int"], ["ab"], axis=0),
        helper.make_node("Reshape", ["ab", "col_shape"], ["ab4"]),
        helper.make_node("Sqrt", ["ab4"], ["alpha"]),
        helper.make_node("Sub", ["one", "ab4"], ["var"]),
        helper.make_node("Sqrt", ["var"], ["sigma"]),
    ]
    inputs = [helper.make_tensor_value_info("sample", TensorProto.FLOAT, ["batch", 3, "height", "width"]),
              helper.make_tensor_value_info("timestep", TensorProto.FLOAT, ["batch"])]
    initializers = [numpy_helper.from_array(abar, "abar"),
                    numpy_helper.from_array(np.array([-1, 1, 1, 1], np.int64), "col_shape"),
                    numpy_helper.from_array(np.array(1.0, np.float32), "one"),
                    numpy_helper.from_array(np.array([-1, 3, 1, 1], np.int64), "rgb_shape")]
    if conditioned:
        inputs.append(helper.make_tensor_value_info("cond", TensorProto.INT64, ["batch", 1]))
        nodes.append(helper.make_node("Gather", ["colours", "cond"], ["picked"], axis=0))  # [batch, 1, 3]
        initializers.append(numpy_helper.from_array(np.asarray(colours, np.float32), "colours"))
    else:
        nodes.append(helper.make_node("Identity", ["colour"], ["picked"]))
        initializers.append(numpy_helper.from_array(UNCONDITIONAL_COLOUR[None], "colour"))
    nodes += [
        helper.make_node("Reshape", ["picked", "rgb_shape"], ["x0"]),
        helper.make_node("Mul", ["alpha", "x0"], ["scaled"]),
        helper.make_node("Sub", ["sample", "scaled"], ["diff"]),
        helper.make_node("Div", ["diff", "sigma"], ["prediction"]),
    ]
    graph = helper.make_graph(
        nodes, "ideal_unet", inputs,
        [helper.make_tensor_value_info("prediction", TensorProto.FLOAT, ["batch", 3, "height", "width"])],
        initializer=initializers)
    return _finish(graph)


def diffusion_folder(root: str | Path, model_id: str = "tiny-diffusion", conditioned: bool | str = False,
                     resolution: int = 16) -> Path:
    """A registry folder with the U-Net and a valid card whose config holds the schedule and conditioning;
    ``conditioned`` is False, True (classes) or "text" (a one-word vocabulary)."""
    if conditioned == "text":
        conditioning = {"type": "text", "vocabulary": WORDS, "max_tokens": 1, "examples": WORDS[:2]}
        unet = ideal_unet(True, colours=WORD_COLOURS)
    elif conditioned:
        conditioning = {"type": "class", "classes": CLASSES}
        unet = ideal_unet(True)
    else:
        conditioning = {"type": "none"}
        unet = ideal_unet(False)
    config = {"schedule": SCHEDULE.to_dict(), "conditioning": conditioning, "default_steps": 8,
              "default_guidance": 2.0 if conditioned else 1.0}
    return write_model_folder(root, model_id, "diffusion", {"unet": unet},
                              resolution=[resolution, resolution], config=config)
