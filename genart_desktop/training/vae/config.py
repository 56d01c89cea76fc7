"""VAE options (the single source of truth for flags, options.json and checkpoints)."""

from __future__ import annotations

from dataclasses import dataclass

from genart_desktop.core.errors import InputError
from genart_desktop.training.config import TrainConfig, option


@dataclass
class VaeConfig(TrainConfig):
    FAMILY = "vae"
    ARCHITECTURE = ("resolution", "latent", "latent_dim", "latent_channels", "latent_downsample", "channels",
                    "max_channels", "convs")

    lr: float = option(1e-3, "learning rate")
    latent: str = option("vector", "vector: one code per image; spatial: a small latent image", ("vector", "spatial"))
    latent_dim: int = option(128, "size of a vector latent")
    latent_channels: int = option(4, "channels of a spatial latent")
    latent_downsample: int = option(8, "spatial latent: image size / latent size", (4, 8, 16))
    channels: int = option(32, "encoder/decoder width at full resolution (doubles per halving, capped)")
    max_channels: int = option(256, "cap on any layer's width")
    convs: int = option(2, "convolutions per resolution level (1 is about twice as fast on a CPU)", (1, 2, 3))
    beta: float = option(1.0, "weight of the KL term (per image element)")
    kl_warmup: int = option(0, "steps over which the KL weight ramps up from 0 to --beta")
    recon: str = option("l1", "reconstruction loss", ("l1", "l2"))
    adv_weight: float = option(0.0, "weight of a patch-adversarial loss against blur (0: off)")
    adv_start: int = option(0, "step at which the adversarial loss starts")
    holdout: float = option(0.05, "fraction of images held out to measure reconstruction PSNR")
    monitor_samples: int = option(32, "images used for sample grids")

    def validate(self) -> None:
        super().validate()
        for name in ("latent_dim", "latent_channels", "channels", "max_channels", "monitor_samples"):
            if getattr(self, name) <= 0:
                raise InputError(f"--{name.replace('_', '-')} must be positive.")
        if self.beta < 0 or self.adv_weight < 0 or self.kl_warmup < 0 or self.adv_start < 0:
            raise InputError("--beta, --adv-weight, --kl-warmup and --adv-start must not be negative.")
        if not 0.0 <= self.holdout < 0.5:
            raise InputError("--holdout must be in [0, 0.5).")
        if self.latent == "spatial" and self.resolution // self.latent_downsample < 2:
            raise InputError("--latent-downsample leaves a latent smaller than 2x2.")

    def latent_shape(self) -> list[int]:
        if self.latent == "vector":
            return [self.latent_dim]
        side = self.resolution // self.latent_downsample
        return [self.latent_channels, side, side]
