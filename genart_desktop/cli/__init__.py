"""Window-less subcommands of ``genart`` (``genart models``, ``genart style``, ``genart --export`` ...).

Each subcommand is a module in this package that defines ``NAME`` (the word after ``genart``), ``HELP``,
``add_arguments(parser)`` and ``run(args) -> int``. ``--export`` (Krita style) is routed to the ``export`` module.
Errors of type :class:`GenArtError` print one line and exit 2 without writing anything.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from types import ModuleType

from genart_desktop.core.errors import GenArtError


def _subcommands() -> dict[str, ModuleType]:
    found: dict[str, ModuleType] = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        name = getattr(module, "NAME", None)
        if name:
            found[name] = module
    return found


def handles(args: list[str]) -> bool:
    """True when the arguments ask for a window-less command rather than the app."""
    if not args:
        return False
    if args[0] in ("-h", "--help", "--version") or "--export" in args:
        return True
    return args[0] in _subcommands()


def build_parser() -> argparse.ArgumentParser:
    from genart_desktop import __version__

    parser = argparse.ArgumentParser(
        prog="genart",
        description="GenArt Desktop. Without a subcommand, opens the app (optionally with FILE).",
    )
    parser.add_argument("--version", action="version", version=f"genart {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in sorted(_subcommands().items()):
        module.add_arguments(sub.add_parser(name, help=module.HELP, description=module.HELP))
    return parser


def run(args: list[str]) -> int:
    if "--export" in args:
        args = ["export", *[a for a in args if a != "--export"]]
    parser = build_parser()
    namespace = parser.parse_args(args)
    if namespace.command is None:
        parser.print_help()
        return 0
    module = _subcommands()[namespace.command]
    try:
        return int(module.run(namespace) or 0)
    except GenArtError as exc:
        print(f"genart: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("genart: interrupted", file=sys.stderr)
        return 130
