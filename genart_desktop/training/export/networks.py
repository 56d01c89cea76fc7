"""Which networks each family exports: role, file, torch module, example inputs, tensor declarations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from genart_desktop.core.errors import InputError
from genart_desktop.training.checkpoint import load_module_tensors
from genart_desktop.training.gan.config import GanConfig
from genart_desktop.training.gan.trainer import build_generator
from genart_desktop.training.vae.config import VaeConfig
from genart_desktop.training.vae.models import Decoder, Encoder

IMAGE_RANGE = [-1.0, 1.0]


@dataclass
class Network:
    role: str
    filename: str
    module: torch.nn.Module
    inputs: dict[str, torch.Tensor]  # example inputs, batch of 3 (parity runs on different values)
    io: dict[str, Any]  # the card's io entry for this role


def _tensor(shape: list, dtype: str = "float32", value_range: list[float] | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"shape": shape, "dtype": dtype}
    if value_range is not None:
        entry["range"] = value_range
    return entry


def gan_networks(cfg: GanConfig, tensors: dict[str, torch.Tensor]) -> list[Network]:
    generator = build_generator(cfg)
    load_module_tensors("G_ema", generator, tensors)
    r = cfg.resolution
    z = torch.randn(3, cfg.latent_dim, generator=torch.Generator().manual_seed(1))
    io = {"inputs": {"z": _tensor(["batch", cfg.latent_dim])},
          "outputs": {"image": _tensor(["batch", 3, r, r], value_range=IMAGE_RANGE)}}
    return [Network("generator", "generator.onnx", generator, {"z": z}, io)]


def vae_networks(cfg: VaeConfig, tensors: dict[str, torch.Tensor]) -> list[Network]:
    shape = cfg.latent_shape()
    encoder = Encoder(cfg.resolution, shape, cfg.channels, cfg.max_channels, cfg.convs)
    decoder = Decoder(cfg.resolution, shape, cfg.channels, cfg.max_channels, cfg.convs)
    load_module_tensors("encoder", encoder, tensors)
    load_module_tensors("decoder", decoder, tensors)
    r = cfg.resolution
    generator = torch.Generator().manual_seed(2)
    image = torch.rand(3, 3, r, r, generator=generator) * 2 - 1
    latent = torch.randn(3, *shape, generator=generator)
    enc_io = {"inputs": {"image": _tensor(["batch", 3, r, r], value_range=IMAGE_RANGE)},
              "outputs": {"mean": _tensor(["batch", *shape]), "logvar": _tensor(["batch", *shape])}}
    dec_io = {"inputs": {"latent": _tensor(["batch", *shape])},
              "outputs": {"image": _tensor(["batch", 3, r, r], value_range=IMAGE_RANGE)}}
    return [Network("encoder", "encoder.onnx", encoder, {"image": image}, enc_io),
            Network("decoder", "decoder.onnx", decoder, {"latent": latent}, dec_io)]


CONFIGS = {"gan": GanConfig, "vae": VaeConfig}
BUILDERS = {"gan": gan_networks, "vae": vae_networks}


def networks_for(family: str, options: dict[str, Any], tensors: dict[str, torch.Tensor]):  # noqa: ANN201
    if family not in BUILDERS:
        raise InputError(f"Exporting {family!r} runs is not supported here (gan and vae are).")
    cfg = CONFIGS[family].from_dict(options)
    return cfg, BUILDERS[family](cfg, tensors)


class HalfPrecision(torch.nn.Module):
    """fp16 weights and arithmetic inside, float32 at the edges, so the app feeds the same tensors either way."""

    def __init__(self, module: torch.nn.Module):
        super().__init__()
        self.inner = module.half()

    def forward(self, *inputs: torch.Tensor):  # noqa: ANN201
        out = self.inner(*[x.half() for x in inputs])
        if isinstance(out, tuple):
            return tuple(o.float() for o in out)
        return out.float()
