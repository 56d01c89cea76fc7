"""Icons from resources/icons (SVG, drawn for this app); a missing file gives an empty icon, never an error."""

from __future__ import annotations

from functools import lru_cache

from PySide6.QtGui import QIcon

from genart_desktop.core.paths import resources_dir


@lru_cache(maxsize=None)
def icon(name: str) -> QIcon:
    path = resources_dir() / "icons" / f"{name}.svg"
    return QIcon(str(path)) if path.is_file() else QIcon()
