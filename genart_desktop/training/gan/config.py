"""GAN options (the single source of truth for flags, options.json and checkpoints)."""

from __future__ import annotations

from dataclasses import dataclass

from genart_desktop.core.errors import InputError
from genart_desktop.training.config import TrainConfig, option

POLICIES = ("color", "translation", "cutout")


def parse_policy(text: str) -> tuple[str, ...]:
    """``color,translation`` -> ("color", "translation"); unknown names raise ValueError."""
    names = tuple(p.strip() for p in text.split(",") if p.strip())
    unknown = [n for n in names if n not in POLICIES]
    if unknown:
        raise ValueError(f"unknown DiffAugment policy {', '.join(unknown)}; choose from {', '.join(POLICIES)}")
    return names


@dataclass
class GanConfig(TrainConfig):
    FAMILY = "gan"
    ARCHITECTURE = ("resolution", "latent_dim", "g_arch", "upsample", "g_channels", "d_channels", "max_channels",
                    "spectral_norm")

    loss: str = option("ns", "ns: non-saturating; wgan-gp: Wasserstein with gradient penalty", ("ns", "wgan-gp"))
    latent_dim: int = option(128, "size of the latent vector z")
    g_arch: str = option("plain", "plain: one picture at full size; skip: a picture at every size, summed coarse to "
                                  "fine (StyleGAN2's skip generator; steadier at 64 px and up)", ("plain", "skip"))
    upsample: str = option("", "generator upsampling: nearest or bilinear (empty: nearest for plain, bilinear for "
                               "skip)", ("", "nearest", "bilinear"))
    g_channels: int = option(64, "generator width at full resolution (doubles per halving, capped)")
    d_channels: int = option(64, "discriminator width at full resolution (doubles per halving, capped)")
    max_channels: int = option(512, "cap on any layer's width")
    lr_d: float = option(0.0, "discriminator learning rate (0: same as --lr)")
    beta1: float = option(0.5, "Adam beta1 (WGAN-GP papers use 0.0)")
    beta2: float = option(0.999, "Adam beta2 (WGAN-GP papers use 0.9)")
    d_steps: int = option(1, "discriminator updates per generator update")
    gp_weight: float = option(10.0, "gradient-penalty weight (wgan-gp)")
    spectral_norm: bool = option(False, "spectral normalisation in the discriminator")
    diffaugment: str = option("", "DiffAugment policy for small datasets, e.g. color,translation,cutout")
    ema_decay: float = option(0.999, "generator EMA decay (the EMA generator is what gets exported)")
    monitor_samples: int = option(64, "fixed latents used for sample grids and the diversity score")
    collapse_drop: float = option(0.35, "warn when diversity falls by this fraction below its best so far")

    def upsample_mode(self) -> str:
        return self.upsample or ("bilinear" if self.g_arch == "skip" else "nearest")

    def validate(self) -> None:
        super().validate()
        for name in ("latent_dim", "g_channels", "d_channels", "max_channels", "d_steps"):
            if getattr(self, name) <= 0:
                raise InputError(f"--{name.replace('_', '-')} must be positive.")
        if self.monitor_samples < 2:
            raise InputError("--monitor-samples must be at least 2.")
        if not 0.0 <= self.ema_decay < 1.0:
            raise InputError("--ema-decay must be in [0, 1).")
        if self.lr_d < 0:
            raise InputError("--lr-d must be 0 (same as --lr) or positive.")
        try:
            parse_policy(self.diffaugment)
        except ValueError as exc:
            raise InputError(f"--diffaugment: {exc}.") from exc
