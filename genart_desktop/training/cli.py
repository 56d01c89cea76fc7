"""The ``genart-train`` entry point.

Each subcommand is a module in ``genart_desktop.training.commands`` that defines ``NAME``, ``HELP``,
``add_arguments(parser)`` and ``run(args) -> int``. torch is imported by the subcommands, not here, so ``--help``
works (and says what to install) even where torch is missing.
"""

from __future__ import annotations

import argparse
import sys
from types import ModuleType

from genart_desktop.core.errors import GenArtError
from genart_desktop.core.subcommands import discover


def _subcommands() -> dict[str, ModuleType]:
    from genart_desktop.training import commands

    return discover(commands)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="genart-train",
        description="Train GAN, VAE, style and diffusion models on a folder of images and export them to ONNX. "
        "Needs the train extra: pip install 'genart-desktop[train]'.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in sorted(_subcommands().items()):
        module.add_arguments(sub.add_parser(name, help=module.HELP, description=module.HELP))
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    namespace = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if namespace.command is None:
        parser.print_help()
        return 0
    try:
        return int(_subcommands()[namespace.command].run(namespace) or 0)
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.split(".")[0] in ("torch", "onnx", "onnxscript", "safetensors", "h5py", "tqdm"):
            print(f"genart-train: {exc.name} is missing; install the train extra: pip install 'genart-desktop[train]'",
                  file=sys.stderr)
            return 2
        raise
    except GenArtError as exc:
        print(f"genart-train: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
