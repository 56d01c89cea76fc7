"""The control pictures of a training set, computed once per run with the app's own map functions.

Every training picture's control (``engine.control_maps``: a line sketch or flat colour blocks) is made at pixel
resolution before the first step and kept as uint8; a flipped view's control is the flipped map. A step draws each
row's control with its picture and drops it (strength 0) for ``control_drop`` of the rows, so the model also learns
to draw without one and strength 0 in the app is exactly "no control".
"""

from __future__ import annotations

import numpy as np
import torch

from genart_desktop.engine.control_maps import colour_blocks, edge_map
from genart_desktop.training.data.alpha import over_white


def picture_uint8(image: torch.Tensor) -> np.ndarray:
    """(3, H, W) float in [-1, 1] -> (H, W, 3) uint8; a premultiplied RGBA picture is seen over white (as a person
    sketching it on paper would see it)."""
    image = over_white(image[None])[0]
    return np.clip(np.round((image.float().permute(1, 2, 0).numpy() + 1.0) * 127.5), 0, 255).astype(np.uint8)


def control_of(picture: np.ndarray, kind: str, colours: int) -> np.ndarray:
    """The ``kind`` control of an (H, W, 3) uint8 picture, (H, W, 3) uint8."""
    return edge_map(picture) if kind == "edges" else colour_blocks(picture, colours)


def control_maps(images: torch.Tensor, kind: str, colours: int) -> torch.Tensor:
    """(N, 3, H, W) uint8 controls of (N, 3, H, W) images in [-1, 1]."""
    maps = [control_of(picture_uint8(image), kind, colours) for image in images]
    return torch.from_numpy(np.stack(maps)).permute(0, 3, 1, 2).contiguous()


def control_input(maps: torch.Tensor) -> torch.Tensor:
    """uint8 control maps -> the U-Net's float input in [-1, 1]."""
    return maps.float() / 127.5 - 1.0


def control_keep(rows: int, drop: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """(rows,) float strengths: 1 where the row keeps its control, 0 for the ``drop`` fraction trained without."""
    return (torch.rand(rows, generator=generator) >= drop).float()


def load_without_control(exported: torch.nn.Module, path) -> None:
    """``--init-from`` reader for a control run: a source U-Net graph with its own ``control`` input fills every
    weight; one without (a plain text or class model) fills all but the control encoder, which keeps its fresh
    zero-initialised last layer, so the run starts as exactly the source model and learns the control on top."""
    import onnx

    from genart_desktop.training.init_weights import load_onnx_initialisers

    inputs = {value.name for value in onnx.load(str(path), load_external_data=False).graph.input}
    unet = exported.unet
    if "control" in inputs or unet.control_encoder is None:
        load_onnx_initialisers(exported, path)
        return
    encoder = unet.control_encoder
    unet.control_encoder = None
    try:
        load_onnx_initialisers(type(exported)(unet, exported.conditioned), path)
    finally:
        unet.control_encoder = encoder
