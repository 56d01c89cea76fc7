"""torchvision's ImageNet VGG-19 as a perceptual feature extractor, without torchvision and without downloads.

We rebuild ``vgg19().features`` layer for layer, so a torchvision state dict (``features.N.weight``) loads as is.
Weights come from a path the user gives or from the torch hub cache (``$TORCH_HOME/hub/checkpoints``), read with
``torch.load(weights_only=True)`` or safetensors: nothing is unpickled, nothing is fetched. Input normalisation is
torchvision's: RGB in [0, 1], ImageNet mean/std.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from genart_desktop.core.errors import InputError, ModelError

HUB_FILE = "vgg19-dcbb9e9d.pth"
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# torchvision's configuration "E": channel counts, "M" for a max pool.
CONFIG = (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M")


def _layer_names() -> list[str]:
    """Names for every module in ``features`` (``conv1_1``, ``relu1_1``, ..., ``pool5``), in index order."""
    names, block, conv = [], 1, 1
    for item in CONFIG:
        if item == "M":
            names.append(f"pool{block}")
            block, conv = block + 1, 1
        else:
            names += [f"conv{block}_{conv}", f"relu{block}_{conv}"]
            conv += 1
    return names


NAMES = _layer_names()
LAYERS = tuple(name for name in NAMES if name.startswith("relu"))


class VGG19Features(nn.Module):
    """Feature taps at the ReLU outputs (``relu1_1`` ... ``relu5_4``); stops after the deepest tap asked."""

    layers = LAYERS

    def __init__(self) -> None:
        super().__init__()
        modules: list[nn.Module] = []
        channels = 3
        for item in CONFIG:
            if item == "M":
                modules.append(nn.MaxPool2d(2, 2))
            else:
                modules += [nn.Conv2d(channels, int(item), 3, padding=1), nn.ReLU(inplace=False)]
                channels = int(item)
        self.features = nn.Sequential(*modules)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def preprocess(self, images: torch.Tensor) -> torch.Tensor:
        """RGB in [-1, 1] -> torchvision's normalisation."""
        return ((images + 1.0) * 0.5 - self.mean.to(images.dtype)) / self.std.to(images.dtype)

    def forward(self, images: torch.Tensor, taps: tuple[str, ...] | list[str]) -> dict[str, torch.Tensor]:
        wanted = set(taps)
        unknown = wanted - set(LAYERS)
        if unknown:
            raise ModelError(f"VGG-19 has no layer {sorted(unknown)}; choose from {', '.join(LAYERS)}.")
        out: dict[str, torch.Tensor] = {}
        x = self.preprocess(images)
        for name, module in zip(NAMES, self.features):
            if name.startswith("pool") and min(x.shape[-2:]) < 2:
                raise InputError(f"The image is too small for VGG-19 layers after {name}; use a larger size.")
            x = module(x)
            if name in wanted:
                out[name] = x
                if len(out) == len(wanted):
                    break
        return out


def hub_checkpoint_dir() -> Path:
    """Where ``torch.hub`` keeps downloaded weights (``$TORCH_HOME``, else ``$XDG_CACHE_HOME/torch``)."""
    torch_home = os.environ.get("TORCH_HOME")
    if torch_home:
        return Path(torch_home).expanduser() / "hub" / "checkpoints"
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache).expanduser() / "torch" / "hub" / "checkpoints"


def find_vgg19_weights(path: str | os.PathLike[str] | None = None) -> Path | None:
    """The given file, else torchvision's cached ``vgg19-dcbb9e9d.pth`` (or a ``vgg19*.safetensors``) if present."""
    if path is not None:
        return Path(path)
    directory = hub_checkpoint_dir()
    candidates = [directory / HUB_FILE, *sorted(directory.glob("vgg19*.pth")),
                  *sorted(directory.glob("vgg19*.safetensors"))]
    return next((c for c in candidates if c.is_file()), None)


def _read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path))
    state = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise ModelError(f"{path.name} does not hold a state dict.")
    return state


def load_vgg19(path: str | os.PathLike[str] | None = None) -> VGG19Features:
    """VGG-19 features with torchvision ImageNet weights; a clear :class:`ModelError` when they are not there."""
    found = find_vgg19_weights(path)
    if found is None or not found.is_file():
        where = found if found is not None else hub_checkpoint_dir() / HUB_FILE
        raise ModelError(
            f"VGG-19 weights not found at {where}. Copy torchvision's {HUB_FILE} there (nothing is downloaded), "
            "pass it with --loss-weights, or use --loss-net squeezenet."
        )
    try:
        state = _read_state_dict(found)
    except ModelError:
        raise
    except Exception as exc:  # noqa: BLE001 - torch.load / safetensors raise many types for a bad file
        raise ModelError(f"Cannot read VGG-19 weights from {found}: {exc}") from exc
    model = VGG19Features()
    features = {k.removeprefix("features."): v for k, v in state.items() if k.startswith("features.")}
    if not features:
        features = {k: v for k, v in state.items() if k.split(".")[0].isdigit()}
    expected = model.features.state_dict()
    missing = sorted(set(expected) - set(features), key=lambda k: int(k.split(".")[0]))
    if missing:
        raise ModelError(f"{found.name} is not a torchvision VGG-19 state dict (missing {', '.join(missing[:4])}).")
    for key, tensor in expected.items():
        if tuple(features[key].shape) != tuple(tensor.shape):
            raise ModelError(f"{found.name}: {key} has shape {tuple(features[key].shape)}, "
                             f"expected {tuple(tensor.shape)}; it is not VGG-19.")
    model.features.load_state_dict({k: features[k].float() for k in expected})
    return model.eval().requires_grad_(False)
