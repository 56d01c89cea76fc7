"""Options of the upscaler trainer (flags, options.json, checkpoints and the card's command line)."""

from __future__ import annotations

from dataclasses import dataclass

from genart_desktop.core.errors import InputError
from genart_desktop.training.config import TrainConfig, option
from genart_desktop.training.upscale.network import ARCHITECTURES, SCALES, UpscaleNetConfig

DEGRADATIONS = ("real", "bicubic")


@dataclass
class UpscaleConfig(TrainConfig):
    FAMILY = "upscale"
    ARCHITECTURE = ("scale", "arch", "width", "blocks")
    CARD_FAMILY = "upscaler"
    # A lower rate for the last stretch is the usual way to finish a super-resolution run; the optimiser takes it.
    RESUMABLE_EXTRA = frozenset({"lr"})

    data: str = option("", "folder of photos (a held-out share of its files is kept for measuring)")
    resolution: int = option(512, "side of the square each training picture is cropped and fitted to before "
                                  "patches are cut from it", (128, 192, 256, 384, 512, 768, 1024))
    patch: int = option(128, "side of the high-resolution training patches (the network sees patch/scale)")
    scale: int = option(4, "upscale factor", SCALES)
    arch: str = option("residual", "residual: residual blocks at low resolution (quality); espcn: three "
                                   "convolutions (speed)", ARCHITECTURES)
    width: int = option(32, "feature channels")
    blocks: int = option(8, "residual blocks (residual architecture)")
    steps: int = option(20000, "total optimisation steps")
    batch_size: int = option(8, "patches per step")
    lr: float = option(5e-4, "Adam learning rate")
    flip: bool = option(True, "random flips and quarter turns of the patches")
    log_every: int = option(25, "steps between log lines and loss-curve updates")
    sample_every: int = option(250, "steps between sample grids and held-out PSNR")
    checkpoint_every: int = option(250, "steps between checkpoints")
    degradation: str = option("real", "real: Real-ESRGAN-style blur, resize, noise and JPEG (a share of the "
                                      "patches, see --degraded-fraction); bicubic: clean bicubic downscales only",
                              DEGRADATIONS)
    degraded_fraction: float = option(0.5, "share of the patches that get the real degradations (the rest are "
                                           "clean bicubic downscales)")
    second_order: bool = option(True, "apply the degradations twice (Real-ESRGAN's second order)")
    perceptual_weight: float = option(0.02, "weight of the SqueezeNet feature loss (relative L1 of features)")
    adversarial_weight: float = option(0.0, "weight of the patch-discriminator loss (0: none)")
    loss_weights: str = option("", "SqueezeNet weights file (default: looked up locally, never downloaded)")
    holdout: float = option(0.1, "share of the photo files held out for measurement (never trained on)")
    extra_data: str = option("", "more training folders, comma-separated (e.g. paintings); dataset folders or "
                                 "plain image folders")
    extra_fraction: float = option(0.25, "share of the patches cut from --extra-data")
    ema_decay: float = option(0.999, "weight EMA decay (the EMA network is what gets exported)")

    def network(self) -> UpscaleNetConfig:
        return UpscaleNetConfig(self.scale, self.arch, self.width, self.blocks)

    def extra_folders(self) -> list[str]:
        return [part.strip() for part in self.extra_data.split(",") if part.strip()]

    def validate(self) -> None:
        super().validate()
        self.network()
        if self.patch % self.scale or not 16 <= self.patch // self.scale or self.patch > self.resolution:
            raise InputError(f"--patch must be a multiple of --scale, at least 16 x scale and at most --resolution, "
                             f"not {self.patch}.")
        for name in ("degraded_fraction", "extra_fraction"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise InputError(f"--{name.replace('_', '-')} must be between 0 and 1.")
        if not 0.0 <= self.holdout < 0.9:
            raise InputError("--holdout must be at least 0 and below 0.9.")
        if min(self.perceptual_weight, self.adversarial_weight) < 0:
            raise InputError("Loss weights must not be negative.")
        if not 0.0 <= self.ema_decay < 1.0:
            raise InputError("--ema-decay must be in [0, 1).")
