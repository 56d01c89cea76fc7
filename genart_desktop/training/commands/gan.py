"""``genart-train gan``: train a DCGAN-style GAN (non-saturating or WGAN-GP) on a folder of images."""

from __future__ import annotations

import argparse

from genart_desktop.training.config import add_training_arguments
from genart_desktop.training.gan.config import GanConfig

NAME = "gan"
HELP = "Train a GAN (DCGAN-style, non-saturating or WGAN-GP loss) on a dataset or a folder of images."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_training_arguments(parser, GanConfig)


def run(args: argparse.Namespace) -> int:
    from genart_desktop.training.gan.trainer import GanTrainer
    from genart_desktop.training.launch import launch

    return launch(args, GanConfig, GanTrainer)
