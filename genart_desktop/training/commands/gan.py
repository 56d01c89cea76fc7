"""``genart-train gan``: train a DCGAN-style GAN (non-saturating or WGAN-GP) on a folder of images."""

from __future__ import annotations

from genart_desktop.training.commands._family import training_command
from genart_desktop.training.gan.config import GanConfig

NAME = "gan"
HELP = "Train a GAN (DCGAN-style, non-saturating or WGAN-GP loss) on a dataset or a folder of images."

add_arguments, run = training_command(GanConfig, "genart_desktop.training.gan.trainer.GanTrainer")
