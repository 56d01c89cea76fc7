"""The card ``config`` of an exported diffusion model, in the format the app's adapter reads
(``genart_desktop.engine.pipelines.diffusion_model``; documented in docs/model-card.md, "Diffusion config").

Kept apart from the exporter so the one place that decides what the app is told is small and easy to check against
the engine: the schedule (prediction type included), the conditioning with an inline vocabulary, the latent scale
and paired VAE id, and the default steps and guidance.
"""

from __future__ import annotations

from typing import Any

from genart_desktop.engine.schedules import ScheduleConfig
from genart_desktop.training.diffusion.config import DiffusionConfig
from genart_desktop.training.diffusion.text import Conditioning


def conditioning_config(conditioning: Conditioning, examples: list[str]) -> dict[str, Any]:
    """``config.conditioning``: type, class names or inline vocabulary (word i has id i + 2), max_tokens."""
    out: dict[str, Any] = {"type": conditioning.kind}
    if conditioning.kind == "text":
        assert conditioning.vocabulary is not None
        out["vocabulary"] = list(conditioning.vocabulary.words)
        out["max_tokens"] = conditioning.vocabulary.tokens
    elif conditioning.kind == "class":
        out["classes"] = list(conditioning.classes)
        out["max_tokens"] = 1
    if conditioning.kind != "none":
        out["examples"] = list(examples)
    return out


def latent_config(latent: dict[str, Any], factor: int) -> dict[str, Any]:
    """``config.latent`` for latent diffusion: the U-Net works on ``scaling_factor`` x the paired VAE's latents.

    The exported ``vae_decoder`` is the paired VAE's decoder unchanged, so the app divides by ``scaling_factor``
    before decoding and multiplies the paired encoder's mean by it (image-to-image, inpainting), exactly as training
    scaled its latents. ``vae`` is the paired VAE's model id; ``paired_vae`` records which files it was.
    """
    vae = latent["vae"]
    return {"scaling_factor": float(latent["scale"]), "vae": str(vae["id"]), "factor": int(factor),
            "paired_vae": {k: vae[k] for k in ("id", "name", "latent_shape", "encoder_sha256", "decoder_sha256")
                           if k in vae}}


def card_config(conditioning: Conditioning, schedule: ScheduleConfig, cfg: DiffusionConfig, in_channels: int,
                size: int, latent: dict[str, Any] | None, examples: list[str]) -> dict[str, Any]:
    """The whole ``config`` object (extra keys beyond the engine's are informative only)."""
    factor = cfg.resolution // size
    config: dict[str, Any] = {
        "schedule": schedule.to_dict(),
        "conditioning": conditioning_config(conditioning, examples),
        "default_steps": int(cfg.sample_steps),
        "default_guidance": float(cfg.guidance) if conditioning.kind != "none" else 1.0,
        "default_sampler": cfg.sampler,
        "sample": {"space": "latent" if latent else "pixel", "channels": in_channels, "size": [size, size],
                   "factor": factor},
    }
    if latent:
        config["latent"] = latent_config(latent, factor)
    return config
