"""``run_app``: the QApplication, the dark theme, the main window, an optional file to open, crash recovery."""

from __future__ import annotations

import argparse
import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from genart_desktop.core.failure import enable_file_logging, report
from genart_desktop.ui.theme import apply_dark_theme
from genart_desktop.ui.wheel_guard import install_wheel_guard

APP_NAME = "GenArt Desktop"


def parse_app_args(args: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="genart", description="GenArt Desktop painting studio.")
    parser.add_argument("file", nargs="?", help="an .ora file or image to open")
    parser.add_argument("--no-recovery", action="store_true", help="do not offer to recover autosaved work")
    known, _qt_args = parser.parse_known_args(args)  # Qt's own options (-platform, -style ...) pass through
    return known


def ensure_application(args: list[str] | None = None) -> QApplication:
    app = QApplication.instance()
    if app is None:
        app = QApplication([sys.argv[0] if sys.argv else "genart", *(args or [])])
    app.setApplicationName(APP_NAME)
    app.setOrganizationName("GenArt")
    app.setApplicationDisplayName(APP_NAME)
    apply_dark_theme(app)
    install_wheel_guard(app)  # the wheel changes a control only when it has the focus
    return app


def create_main_window(registry=None, restore: bool = True):
    """The main window, with the model registry shown in its status bar (a registry that fails is reported
    in the status bar rather than stopping the app)."""
    from genart_desktop.ui.main_window import MainWindow

    if registry is None:
        try:
            from genart_desktop.engine.registry import ModelRegistry

            registry = ModelRegistry()
        except Exception:  # noqa: BLE001 - the painting app must start even when the engine cannot
            registry = None
    window = MainWindow(registry=registry)
    from genart_desktop.ui.ai_panels import install_ai_panels

    install_ai_panels(window)
    if restore:
        window.restore_preferences()  # layout, brush, colours, recent files: once every dock exists
    return window


def run_app(args: list[str]) -> int:
    """Open the app (and FILE when given); returns the exit code when the last window closes.

    Whatever fails during start-up is one escaped line on stderr and exit code 2 (the traceback goes to the user
    log file); a failure while recovering work or opening FILE is reported the same way but leaves the app open.
    """
    enable_file_logging()
    try:
        return _start(args)
    except KeyboardInterrupt:
        print("genart: interrupted", file=sys.stderr)
        return 130
    except SystemExit:
        raise
    except BaseException as exc:  # noqa: BLE001 - the catch-all: one line, never a traceback
        print(f"genart: {report(exc, 'app start-up')}", file=sys.stderr)
        return 2


def _start(args: list[str]) -> int:
    options = parse_app_args(args)
    app = ensure_application([a for a in args if a != options.file])
    window = create_main_window()
    window.show()

    def after_start() -> None:
        try:
            if not options.no_recovery:
                window.offer_recovery()
            if options.file:
                window.open_file(options.file)  # asks first only if recovered work is now open
        except Exception as exc:  # noqa: BLE001 - a slot must not raise: report it and keep the app open
            line = report(exc, "opening the app")
            print(f"genart: {line}", file=sys.stderr)
            window.statusBar().showMessage(line)

    QTimer.singleShot(0, after_start)
    return int(app.exec())
