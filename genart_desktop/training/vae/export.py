"""The VAE's export: encoder ``image -> mean, logvar`` and decoder ``latent -> image``, thumbnail from the decoder."""

from __future__ import annotations

from typing import Any

import torch

from genart_desktop.engine.alpha import CONVENTION
from genart_desktop.training.checkpoint import load_module_tensors
from genart_desktop.training.export.network_family import NetworkFamilyExporter
from genart_desktop.training.export.networks import IMAGE_RANGE, Network, tensor_entry
from genart_desktop.training.export.registry import register
from genart_desktop.training.vae.config import VaeConfig
from genart_desktop.training.vae.models import Decoder, Encoder

FIRST_CONV = 0  # index of the encoder's first convolution in its body


def image_channels(tensors: dict[str, torch.Tensor]) -> int:
    """3 or 4, read from the checkpoint itself (the encoder's first convolution), so the export always matches
    what was trained."""
    weight = tensors.get(f"encoder.body.{FIRST_CONV}.weight")
    return int(weight.shape[1]) if weight is not None else 3


def image_entry(channels: int, r: int) -> dict[str, Any]:
    """The card's image tensor; a 4-channel one says its alpha convention (premultiplied colour)."""
    entry = tensor_entry(["batch", channels, r, r], value_range=IMAGE_RANGE)
    return {**entry, "alpha": CONVENTION} if channels == 4 else entry


def vae_networks(cfg: VaeConfig, tensors: dict[str, torch.Tensor]) -> list[Network]:
    shape, channels = cfg.latent_shape(), image_channels(tensors)
    encoder = Encoder(cfg.resolution, shape, cfg.channels, cfg.max_channels, cfg.convs, channels)
    decoder = Decoder(cfg.resolution, shape, cfg.channels, cfg.max_channels, cfg.convs, channels)
    load_module_tensors("encoder", encoder, tensors)
    load_module_tensors("decoder", decoder, tensors)
    r = cfg.resolution
    generator = torch.Generator().manual_seed(2)
    image = torch.rand(3, channels, r, r, generator=generator) * 2 - 1
    latent = torch.randn(3, *shape, generator=generator)
    enc_io = {"inputs": {"image": image_entry(channels, r)},
              "outputs": {"mean": tensor_entry(["batch", *shape]), "logvar": tensor_entry(["batch", *shape])}}
    dec_io = {"inputs": {"latent": tensor_entry(["batch", *shape])},
              "outputs": {"image": image_entry(channels, r)}}
    return [Network("encoder", "encoder.onnx", encoder, {"image": image}, enc_io),
            Network("decoder", "decoder.onnx", decoder, {"latent": latent}, dec_io)]


def _latent(cfg: VaeConfig, truncation: float) -> dict[str, Any]:
    return {"shape": cfg.latent_shape(), "distribution": "normal"}


def _settings(cfg: VaeConfig, truncation: float) -> dict[str, Any]:
    return {"latent_kind": cfg.latent, "beta": cfg.beta}


EXPORTER = register(NetworkFamilyExporter(VaeConfig.FAMILY, VaeConfig, vae_networks, "decoder", _latent, _settings))
