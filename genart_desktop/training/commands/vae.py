"""``genart-train vae``: train a convolutional VAE (vector or spatial latent) on a folder of images."""

from __future__ import annotations

import argparse

from genart_desktop.training.config import add_training_arguments
from genart_desktop.training.vae.config import VaeConfig

NAME = "vae"
HELP = "Train a convolutional VAE (beta-KL, L1/L2, optional patch-adversarial term) on a dataset or image folder."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_training_arguments(parser, VaeConfig)


def run(args: argparse.Namespace) -> int:
    from genart_desktop.training.launch import launch
    from genart_desktop.training.vae.trainer import VaeTrainer

    return launch(args, VaeConfig, VaeTrainer)
