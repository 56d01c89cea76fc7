"""``genart-train vae``: train a convolutional VAE (vector or spatial latent) on a folder of images."""

from __future__ import annotations

from genart_desktop.training.commands._family import training_command
from genart_desktop.training.vae.config import VaeConfig

NAME = "vae"
HELP = "Train a convolutional VAE (beta-KL, L1/L2, optional patch-adversarial term) on a dataset or image folder."

add_arguments, run = training_command(VaeConfig, "genart_desktop.training.vae.trainer.VaeTrainer")
