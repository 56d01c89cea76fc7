"""Window-less subcommands of ``genart`` (``genart models``, ``genart style``, ``genart --export`` ...).

Each subcommand is a module in this package that defines ``NAME`` (the word after ``genart``), ``HELP``,
``add_arguments(parser)`` and ``run(args) -> int``. ``--export`` (Krita style) is routed to the ``export`` module.
Any failure prints one escaped line and exits 2 (the traceback goes to the user log file); Ctrl+C during a job stops
it through the job's terminate path and exits 130.
"""

from __future__ import annotations

import argparse
import sys
from types import ModuleType

from genart_desktop.core.failure import enable_file_logging, report
from genart_desktop.core.subcommands import discover
from genart_desktop.engine.job_limits import Interrupted


def _subcommands() -> dict[str, ModuleType]:
    return discover(sys.modules[__name__])


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
    """Run one command; every failure ends as one escaped line on stderr (traceback in the log file), exit 2."""
    enable_file_logging()
    try:
        if "--export" in args:
            args = ["export", *[a for a in args if a != "--export"]]
        parser = build_parser()
        namespace = parser.parse_args(args)
        if namespace.command is None:
            parser.print_help()
            return 0
        module = _subcommands()[namespace.command]
        return int(module.run(namespace) or 0)
    except (Interrupted, KeyboardInterrupt):
        print("genart: interrupted", file=sys.stderr)
        return 130
    except SystemExit:  # argparse's --help, --version and usage errors
        raise
    except BaseException as exc:  # noqa: BLE001 - the catch-all: one line, never a traceback
        print(f"genart: {report(exc, 'genart ' + ' '.join(args)[:200])}", file=sys.stderr)
        return 2
