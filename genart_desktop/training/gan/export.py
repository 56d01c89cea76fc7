"""The GAN's export: its EMA generator ``z -> image`` and the card's latent (with the recommended truncation)."""

from __future__ import annotations

from typing import Any

import torch

from genart_desktop.training.checkpoint import load_module_tensors
from genart_desktop.training.export.network_family import NetworkFamilyExporter
from genart_desktop.training.export.networks import IMAGE_RANGE, Network, tensor_entry
from genart_desktop.training.export.registry import register
from genart_desktop.training.gan.config import GanConfig
from genart_desktop.training.gan.trainer import build_generator


def gan_networks(cfg: GanConfig, tensors: dict[str, torch.Tensor]) -> list[Network]:
    generator = build_generator(cfg)
    load_module_tensors("G_ema", generator, tensors)
    r = cfg.resolution
    z = torch.randn(3, cfg.latent_dim, generator=torch.Generator().manual_seed(1))
    io = {"inputs": {"z": tensor_entry(["batch", cfg.latent_dim])},
          "outputs": {"image": tensor_entry(["batch", 3, r, r], value_range=IMAGE_RANGE)}}
    return [Network("generator", "generator.onnx", generator, {"z": z}, io)]


def _latent(cfg: GanConfig, truncation: float) -> dict[str, Any]:
    return {"shape": [cfg.latent_dim], "distribution": "normal", "truncation": truncation}


def _settings(cfg: GanConfig, truncation: float) -> dict[str, Any]:
    return {"truncation": truncation, "loss": cfg.loss, "ema": True}


EXPORTER = register(NetworkFamilyExporter(GanConfig.FAMILY, GanConfig, gan_networks, "generator", _latent, _settings))
