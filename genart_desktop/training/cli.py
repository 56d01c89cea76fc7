"""The ``genart-train`` entry point.

Each subcommand is a module in ``genart_desktop.training.commands`` that defines ``NAME``, ``HELP``,
``add_arguments(parser)`` and ``run(args) -> int``. torch is imported by the subcommands, not here, so ``--help``
works (and says what to install) even where torch is missing.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from types import ModuleType

from genart_desktop.core.errors import GenArtError
from genart_desktop.core.subcommands import discover
from genart_desktop.training.progress import emit_error, json_stdout


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
    if getattr(namespace, "progress", "bar") != "json":
        return _run(namespace)
    with json_stdout() as stream:  # stdout carries the JSON lines only; everything else goes to stderr
        namespace.progress_stream = stream
        try:
            return _run(namespace, lambda message: emit_error(stream, message))
        except KeyboardInterrupt:  # a second Ctrl+C before the training loop began
            emit_error(stream, "Stopped before training began; nothing was saved.")
            return 2
        except Exception as exc:  # noqa: BLE001 - a program reading the lines must always get an ending
            traceback.print_exc()
            emit_error(stream, f"{type(exc).__name__}: {exc}")
            return 2


def _run(namespace: argparse.Namespace, report=None) -> int:  # noqa: ANN001 - report(message) or None
    """Run the subcommand; a known failure is one line on stderr (and through ``report``) and exit code 2."""
    def fail(message: str) -> int:
        print(f"genart-train: {message}", file=sys.stderr)
        if report is not None:
            report(message)
        return 2

    try:
        return int(_subcommands()[namespace.command].run(namespace) or 0)
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.split(".")[0] in ("torch", "onnx", "onnxscript", "safetensors", "h5py", "tqdm"):
            return fail(f"{exc.name} is missing; install the train extra: pip install 'genart-desktop[train]'")
        raise
    except GenArtError as exc:
        return fail(str(exc))
    except FloatingPointError as exc:  # the loop's divergence stop: the message says what to do
        return fail(str(exc))


if __name__ == "__main__":
    sys.exit(main())
