"""Options of the fast style network trainer (flags, options.json, checkpoints and the card's command line)."""

from __future__ import annotations

from dataclasses import dataclass

from genart_desktop.core.errors import InputError
from genart_desktop.training.config import TrainConfig, option
from genart_desktop.training.style.perceptual import NETWORKS


@dataclass
class StyleConfig(TrainConfig):
    FAMILY = "style"
    ARCHITECTURE = ("width", "residual_blocks")

    data: str = option("", "folder of content photos (alias --content)")
    style: str = option("", "the style image (e.g. a painting)")
    resolution: int = option(256, "training crop of the content photos (square)", (64, 128, 192, 256, 384, 512))
    steps: int = option(4000, "total optimisation steps")
    batch_size: int = option(4, "content photos per step")
    lr: float = option(1e-3, "Adam learning rate")
    flip: bool = option(True, "random horizontal flips of the content photos")
    log_every: int = option(25, "steps between log lines and loss-curve updates")
    sample_every: int = option(250, "steps between sample grids")
    checkpoint_every: int = option(500, "steps between checkpoints")
    style_size: int = option(512, "long side of the style image when its Gram matrices are measured; smaller "
                                  "gives larger strokes")
    content_weight: float = option(1.0, "weight of the content loss (relative feature error)")
    style_weight: float = option(2.0, "weight of the style loss (relative Gram error, mean over layers); with "
                                      "SqueezeNet at 128 px, 10 and above wash the photo's content out")
    tv_weight: float = option(5.0, "weight of the total-variation loss (mean squared neighbour difference); "
                                   "damps the fine grid texture a strided loss network leaves")
    loss_net: str = option("auto", "perceptual loss network: vgg19 when its weights are on disk, else squeezenet",
                           NETWORKS)
    loss_weights: str = option("", "weights file of the loss network (default: looked up locally, never "
                                   "downloaded)")
    width: int = option(32, "style network channels at full resolution (x2, x4 after each downsampling)")
    residual_blocks: int = option(5, "residual blocks at a quarter of the resolution")

    def validate(self) -> None:
        super().validate()
        if not self.style:
            raise InputError("Give the style image with --style IMAGE.")
        if self.style_size < 64 or self.style_size > 4096:
            raise InputError(f"--style-size must be between 64 and 4096, not {self.style_size}.")
        if min(self.content_weight, self.style_weight, self.tv_weight) < 0:
            raise InputError("Loss weights must not be negative.")
        if not 4 <= self.width <= 256 or not 0 <= self.residual_blocks <= 16:
            raise InputError("--width must be 4..256 and --residual-blocks 0..16.")
