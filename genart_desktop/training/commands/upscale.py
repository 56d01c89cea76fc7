"""``genart-train upscale``: train a x2/x4 super-resolution network on a folder of photos."""

from __future__ import annotations

from genart_desktop.training.commands._family import training_command
from genart_desktop.training.upscale.config import UpscaleConfig

NAME = "upscale"
HELP = ("Train a super-resolution network (x2 or x4, pixel shuffle) on photos, with Real-ESRGAN-style "
        "degradations made on the fly; export it with `genart-train export RUN`.")

add_arguments, run = training_command(UpscaleConfig, "genart_desktop.training.upscale.trainer.UpscaleTrainer")
