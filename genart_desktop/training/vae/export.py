"""The VAE's export: encoder ``image -> mean, logvar`` and decoder ``latent -> image``, thumbnail from the decoder."""

from __future__ import annotations

from typing import Any

import torch

from genart_desktop.training.checkpoint import load_module_tensors
from genart_desktop.training.export.network_family import NetworkFamilyExporter
from genart_desktop.training.export.networks import IMAGE_RANGE, Network, tensor_entry
from genart_desktop.training.export.registry import register
from genart_desktop.training.vae.config import VaeConfig
from genart_desktop.training.vae.models import Decoder, Encoder


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
    enc_io = {"inputs": {"image": tensor_entry(["batch", 3, r, r], value_range=IMAGE_RANGE)},
              "outputs": {"mean": tensor_entry(["batch", *shape]), "logvar": tensor_entry(["batch", *shape])}}
    dec_io = {"inputs": {"latent": tensor_entry(["batch", *shape])},
              "outputs": {"image": tensor_entry(["batch", 3, r, r], value_range=IMAGE_RANGE)}}
    return [Network("encoder", "encoder.onnx", encoder, {"image": image}, enc_io),
            Network("decoder", "decoder.onnx", decoder, {"latent": latent}, dec_io)]


def _latent(cfg: VaeConfig, truncation: float) -> dict[str, Any]:
    return {"shape": cfg.latent_shape(), "distribution": "normal"}


def _settings(cfg: VaeConfig, truncation: float) -> dict[str, Any]:
    return {"latent_kind": cfg.latent, "beta": cfg.beta}


EXPORTER = register(NetworkFamilyExporter(VaeConfig.FAMILY, VaeConfig, vae_networks, "decoder", _latent, _settings))
