"""ImageNet SqueezeNet 1.1 as a perceptual feature extractor, loaded from the Keras HDF5 weights file.

The file (``squeezenet_weights_tf_dim_ordering_tf_kernels_notop.h5``, converted from the authors' Caffe model) stores
kernels as ``(kh, kw, in, out)`` cross-correlation kernels and expects Caffe-style input: BGR, 0-255, minus the
per-channel mean ``[103.939, 116.779, 123.68]`` (B, G, R), no std scaling. We rebuild the Keras graph in torch
(valid 3x3/2 first conv, floor-mode 3x3/2 max pools, fire modules concatenating expand1x1 before expand3x3) and
transpose the kernels to torch's ``(out, in, kh, kw)``. Our images are RGB in [-1, 1]; :meth:`preprocess` converts.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from torch import nn

from genart_desktop.core.errors import InputError, ModelError

WEIGHTS_FILE = "squeezenet_weights_tf_dim_ordering_tf_kernels_notop.h5"
CAFFE_BGR_MEAN = (103.939, 116.779, 123.68)
# name -> (input channels, squeeze, expand) for each fire module, in graph order.
FIRES = {
    "fire2": (64, 16, 64), "fire3": (128, 16, 64), "fire4": (128, 32, 128), "fire5": (256, 32, 128),
    "fire6": (256, 48, 192), "fire7": (384, 48, 192), "fire8": (384, 64, 256), "fire9": (512, 64, 256),
}
POOL_AFTER = {"conv1": "pool1", "fire3": "pool3", "fire5": "pool5"}
LAYERS = ("conv1", *FIRES)


class Fire(nn.Module):
    def __init__(self, channels: int, squeeze: int, expand: int) -> None:
        super().__init__()
        self.squeeze = nn.Conv2d(channels, squeeze, 1)
        self.expand1x1 = nn.Conv2d(squeeze, expand, 1)
        self.expand3x3 = nn.Conv2d(squeeze, expand, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = torch.relu(self.squeeze(x))
        return torch.cat([torch.relu(self.expand1x1(s)), torch.relu(self.expand3x3(s))], dim=1)


class SqueezeNetFeatures(nn.Module):
    """Feature taps ``conv1`` (after ReLU) and ``fire2`` ... ``fire9``; runs only as deep as the deepest tap asked."""

    layers = LAYERS

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 3, stride=2)
        self.fires = nn.ModuleDict({name: Fire(*shape) for name, shape in FIRES.items()})
        self.pool = nn.MaxPool2d(3, stride=2)
        self.register_buffer("mean_bgr", torch.tensor(CAFFE_BGR_MEAN).view(1, 3, 1, 1), persistent=False)

    def preprocess(self, images: torch.Tensor) -> torch.Tensor:
        """RGB in [-1, 1] -> Caffe BGR 0-255 minus the ImageNet mean."""
        bgr = images.flip(1)
        return (bgr + 1.0) * 127.5 - self.mean_bgr.to(images.dtype)

    def forward(self, images: torch.Tensor, taps: tuple[str, ...] | list[str]) -> dict[str, torch.Tensor]:
        wanted = set(taps)
        unknown = wanted - set(LAYERS)
        if unknown:
            raise ModelError(f"SqueezeNet has no layer {sorted(unknown)}; choose from {', '.join(LAYERS)}.")
        out: dict[str, torch.Tensor] = {}
        x = torch.relu(self.conv1(self.preprocess(images)))
        for name in LAYERS:
            if name != "conv1":
                x = self.fires[name](x)
            if name in wanted:
                out[name] = x
                if len(out) == len(wanted):
                    break
            if name in POOL_AFTER:
                if min(x.shape[-2:]) < 3:
                    raise InputError(f"The image is too small for the SqueezeNet layers after {name}; "
                                     "use a larger size or shallower layers.")
                x = self.pool(x)
        return out


def read_keras_conv(group) -> tuple[np.ndarray, np.ndarray]:
    """A Keras conv layer group -> ``(kernel (kh, kw, in, out), bias (out,))``, telling kernel from bias by rank."""
    arrays = []
    group.visititems(lambda name, obj: arrays.append(np.asarray(obj, np.float32)) if hasattr(obj, "shape") else None)
    kernels = [a for a in arrays if a.ndim == 4]
    biases = [a for a in arrays if a.ndim == 1]
    if len(kernels) != 1 or len(biases) != 1:
        raise ModelError(f"The HDF5 layer {group.name} should hold one kernel and one bias.")
    return kernels[0], biases[0]


def load_squeezenet(path: str | os.PathLike[str]) -> SqueezeNetFeatures:
    """Build the network and fill it from the Keras HDF5 file; raises :class:`ModelError` with what is wrong."""
    import h5py

    path = Path(path)
    if not path.is_file():
        raise ModelError(
            f"SqueezeNet weights not found at {path}. Put {WEIGHTS_FILE} (Keras, ImageNet, 'notop') there, "
            "or pass its location with --loss-weights."
        )
    model = SqueezeNetFeatures()
    try:
        with h5py.File(path, "r") as handle:
            root = handle["model_weights"] if "model_weights" in handle else handle
            modules: dict[str, nn.Conv2d] = {"conv1": model.conv1}
            for name, fire in model.fires.items():
                modules[f"{name}/squeeze1x1"] = fire.squeeze
                modules[f"{name}/expand1x1"] = fire.expand1x1
                modules[f"{name}/expand3x3"] = fire.expand3x3
            for key, conv in modules.items():
                if key not in root:
                    raise ModelError(f"{path.name} has no layer '{key}'; it is not SqueezeNet 1.1 Keras weights.")
                kernel, bias = read_keras_conv(root[key])
                expected = tuple(conv.weight.shape)
                torch_kernel = np.ascontiguousarray(kernel.transpose(3, 2, 0, 1))
                if torch_kernel.shape != expected or bias.shape != (expected[0],):
                    raise ModelError(f"{path.name}: layer '{key}' has kernel {kernel.shape}, expected "
                                     f"{expected[2:]} x {expected[1]} -> {expected[0]}.")
                with torch.no_grad():
                    conv.weight.copy_(torch.from_numpy(torch_kernel))
                    conv.bias.copy_(torch.from_numpy(bias))
    except OSError as exc:
        raise ModelError(f"Cannot read {path}: it is not a readable HDF5 file ({exc}).") from exc
    return model.eval().requires_grad_(False)
