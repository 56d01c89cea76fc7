"""Choosing and loading the perceptual loss network (VGG-19 or SqueezeNet 1.1) and its default layers.

Weights are only ever read from disk. SqueezeNet is looked for at the path given, then in the per-user
``weights/`` folder, then in the project's shared data folder beside the repository (``../shared/data/weights``);
VGG-19 at the path given, then in the torch hub cache.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from torch import nn

from genart_desktop.core.errors import InputError, ModelError
from genart_desktop.core.paths import user_data_dir
from genart_desktop.training.style import squeezenet, vgg

NETWORKS = ("auto", "squeezenet", "vgg19")
# Content on a mid-level layer keeps shapes while letting textures change; style on several depths gives both
# fine brush marks and larger motifs (Gatys et al. 2016; Johnson et al. 2016 for VGG).
DEFAULT_LAYERS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "vgg19": (("relu3_1",), ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")),
    "squeezenet": (("fire3",), ("conv1", "fire2", "fire3", "fire5", "fire7")),
}


@dataclass
class LossNetwork:
    """A frozen feature extractor with the layers the losses read."""

    name: str
    module: nn.Module
    content_layers: tuple[str, ...]
    style_layers: tuple[str, ...]
    weights: Path

    @property
    def taps(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.content_layers + self.style_layers))


def shared_data_dir() -> Path:
    """``../shared/data`` beside the repository checkout (where the project's training data lives)."""
    import genart_desktop

    return Path(genart_desktop.__file__).resolve().parents[2] / "shared" / "data"


def squeezenet_candidates() -> list[Path]:
    return [user_data_dir() / "weights" / squeezenet.WEIGHTS_FILE,
            shared_data_dir() / "weights" / squeezenet.WEIGHTS_FILE]


def find_squeezenet_weights(path: str | os.PathLike[str] | None = None) -> Path:
    if path is not None:
        return Path(path)
    candidates = squeezenet_candidates()
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise ModelError(
        f"SqueezeNet weights not found. Put {squeezenet.WEIGHTS_FILE} in {candidates[0].parent} "
        f"(or {candidates[1].parent}), or pass its location with --loss-weights."
    )


def load_loss_network(
    name: str = "auto",
    weights: str | os.PathLike[str] | None = None,
    content_layers: tuple[str, ...] | None = None,
    style_layers: tuple[str, ...] | None = None,
) -> LossNetwork:
    """Load ``vgg19``, ``squeezenet`` or ``auto`` (VGG-19 when its weights are on disk, else SqueezeNet)."""
    if name not in NETWORKS:
        raise InputError(f"Unknown loss network {name!r}; choose one of {', '.join(NETWORKS)}.")
    if name == "auto":
        name = "vgg19" if weights is None and vgg.find_vgg19_weights() is not None else "squeezenet"
        if weights is not None:
            name = "squeezenet" if str(weights).endswith((".h5", ".hdf5")) else "vgg19"
    if name == "vgg19":
        path = vgg.find_vgg19_weights(weights)
        module: nn.Module = vgg.load_vgg19(path)
        assert path is not None
        layers = vgg.LAYERS
    else:
        path = find_squeezenet_weights(weights)
        module = squeezenet.load_squeezenet(path)
        layers = squeezenet.LAYERS
    default_content, default_style = DEFAULT_LAYERS[name]
    content = tuple(content_layers) if content_layers else default_content
    style = tuple(style_layers) if style_layers else default_style
    unknown = [layer for layer in content + style if layer not in layers]
    if unknown:
        raise InputError(f"{name} has no layer {', '.join(unknown)}; choose from {', '.join(layers)}.")
    return LossNetwork(name, module, content, style, Path(path))
