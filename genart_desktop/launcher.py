"""The ``genart`` entry point: subcommands run without a window; anything else opens the app.

Kept tiny so that ``genart models`` or ``genart --export`` never imports Qt and the app never imports torch.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] in (["--self-test"], ["self-test"]):
        from genart_desktop.cli import selftest
        from genart_desktop.ui.selfcheck import check_window

        return selftest.main(args[1:], window_check=check_window)
    if args[:1] == ["screenshot-tour"]:  # a window-less run of the app itself, so it lives in the ui package
        from genart_desktop.ui.screenshot_tour import main as tour

        return tour(args[1:])
    from genart_desktop import cli

    if cli.handles(args):
        return cli.run(args)
    from genart_desktop.ui.app import run_app

    return run_app(args)


if __name__ == "__main__":
    sys.exit(main())
