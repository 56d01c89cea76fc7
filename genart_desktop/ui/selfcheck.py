"""The self-test's window check: build the real main window offscreen, render it once, take it down again.

Lives in the ui package (the only one that may import Qt); the launcher hands it to ``cli.selftest``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from genart_desktop.core.atomic import atomic_write_bytes


def check_window(registry: Any, screenshot: Path | None = None) -> tuple[bool, str]:
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    missing = _missing_offscreen_plugin()
    if missing:
        return False, missing
    from PySide6.QtCore import QBuffer, QIODevice

    from genart_desktop.ui.app import create_main_window, ensure_application

    app = ensure_application([])
    window = create_main_window(registry)
    try:
        window.resize(1280, 800)
        window.show()
        app.processEvents()
        picture = window.grab()
        title = window.windowTitle()
    finally:
        window.hide()  # hide, not close: closing may ask about unsaved work, which nobody can answer here
        window.deleteLater()
        app.processEvents()
    if picture.isNull() or picture.width() <= 0:
        return False, "the main window rendered nothing"
    detail = f"main window built offscreen ({picture.width()}x{picture.height()}, '{title}')"
    if screenshot is not None:
        buffer = QBuffer()
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        if not picture.save(buffer, "PNG"):
            return False, f"{detail}, but Qt could not encode the picture as PNG"
        atomic_write_bytes(screenshot, bytes(buffer.data()))
        detail += f", saved {screenshot}"
    return True, detail


def _missing_offscreen_plugin() -> str | None:
    """Qt aborts the whole process when a platform plugin is missing, so look for it first and say so instead."""
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtWidgets import QApplication

    if QApplication.instance() is not None:
        return None
    folders = [Path(path) / "platforms" for path in QCoreApplication.libraryPaths()]
    if any(any(folder.glob("*qoffscreen*")) for folder in folders):
        return None
    searched = ", ".join(str(folder) for folder in folders) or "no plugin folder at all"
    return f"Qt's offscreen platform plugin is missing (searched {searched}); the installation lacks Qt plugins"
