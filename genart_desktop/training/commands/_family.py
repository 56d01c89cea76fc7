"""A subcommand that trains one family and nothing else: the family's options become its flags and ``run``
launches the trainer, imported only when it runs so ``genart-train --help`` works without torch."""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable

from genart_desktop.training.config import TrainConfig, add_training_arguments


def training_command(config: type[TrainConfig], trainer: str
                     ) -> tuple[Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]:
    """``add_arguments`` and ``run`` for ``config``'s family; ``trainer`` is ``"package.module.TrainerClass"``."""

    def add_arguments(parser: argparse.ArgumentParser) -> None:
        add_training_arguments(parser, config)

    def run(args: argparse.Namespace) -> int:
        from genart_desktop.training.launch import launch

        module, _, name = trainer.rpartition(".")
        return launch(args, config, getattr(importlib.import_module(module), name))

    return add_arguments, run
