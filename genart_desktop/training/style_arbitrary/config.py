"""Options of ``genart-train style-arbitrary`` (flags, options.json, checkpoints and the card's command line)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from genart_desktop.core.errors import InputError
from genart_desktop.training.config import TrainConfig, option

# Paintings kept out of training so the card can say how the network does on styles it never saw.
DEFAULT_HELD_OUT = "botticelli_birth_of_venus.jpg,van_gogh_cafe_terrace_at_night.jpg,vermeer_girl_with_a_pearl_earring.jpg"


@dataclass
class ArbitraryStyleConfig(TrainConfig):
    FAMILY = "style-arbitrary"
    ARCHITECTURE = ("width",)

    data: str = option("", "folder of content photos (a held-out share is kept for measuring)")
    styles: str = option("", "folder of style pictures (paintings); each step crops them at random places and scales")
    held_out_styles: str = option(DEFAULT_HELD_OUT, "comma-separated file names in --styles never trained on "
                                                    "(measured as unseen styles)")
    photo_style_fraction: float = option(0.3, "share of steps whose style picture is another photo (teaches the "
                                              "decoder colours and textures beyond the paintings)")
    resolution: int = option(256, "training crop of the content and style pictures (square)", (128, 192, 256))
    steps: int = option(6000, "total optimisation steps")
    batch_size: int = option(4, "content pictures per step (each with its own style picture)")
    lr: float = option(3e-4, "Adam learning rate of the decoder")
    flip: bool = option(True, "random horizontal flips")
    log_every: int = option(25, "steps between log lines and loss-curve updates")
    sample_every: int = option(250, "steps between sample grids")
    checkpoint_every: int = option(250, "steps between checkpoints")
    content_weight: float = option(1.0, "weight of the content loss (AdaIN target features, relative error)")
    style_weight: float = option(2.0, "weight of the style loss (feature mean/std over four layers, relative error)")
    tv_weight: float = option(1.0, "weight of the total-variation loss")
    width: int = option(128, "decoder channels at 1/8 of the size (halved at each upsampling)")
    holdout: float = option(0.1, "share of the content photos kept for measuring")
    loss_weights: str = option("", "SqueezeNet 1.1 weights file (default: looked up locally, never downloaded)")

    def validate(self) -> None:
        super().validate()
        if not self.styles:
            raise InputError("Give the style pictures with --styles FOLDER.")
        if not Path(self.styles).is_dir():
            raise InputError(f"The style folder {self.styles} does not exist.")
        if not 0.0 <= self.photo_style_fraction <= 1.0 or not 0.0 <= self.holdout < 0.5:
            raise InputError("--photo-style-fraction must be 0..1 and --holdout 0..0.5.")
        if min(self.content_weight, self.style_weight, self.tv_weight) < 0:
            raise InputError("Loss weights must not be negative.")
        if not 16 <= self.width <= 512:
            raise InputError("--width must be 16..512.")

    def held_out_names(self) -> set[str]:
        return {name.strip() for name in self.held_out_styles.split(",") if name.strip()}
