"""What the app remembers between sessions with QSettings: the window's layout (and which collapsible dock sections
are open), the brush and colours, recent files and the last folder (file dialogs start there; the user's Pictures
folder the first time).

Why QSettings: it is how Qt apps keep the dock layout (``saveState``/``restoreState``), and one ini file in the user
data folder (``GENART_HOME`` in tests) keeps it beside the app's other settings. Values that come back damaged are
ignored one by one: a bad entry never stops the app from starting.
"""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, QStandardPaths

from genart_desktop.core.bounded_json import parse_json
from genart_desktop.core.errors import InputError
from genart_desktop.core.paths import user_data_dir
from genart_desktop.ui.collapsible import restore_section_states, section_states

BRUSH_FIELDS = ("size", "hardness", "opacity", "flow", "spacing")
LAYOUT_VERSION = 1  # bump when the docks change so an old layout is not forced onto new docks


def pictures_folder() -> Path:
    """The user's Pictures folder (their home when the platform has none)."""
    found = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.PicturesLocation)
    return Path(found) if found else Path.home()


class Preferences:
    """One QSettings ini file; :meth:`restore` after every dock exists, :meth:`save` when the window closes."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else user_data_dir() / "window.ini"
        self.store = QSettings(str(self.path), QSettings.Format.IniFormat)

    def _json(self, key: str, default):
        raw = self.store.value(key)
        if not isinstance(raw, str):
            return default
        try:
            return parse_json(raw, key, max_bytes=1 << 16)
        except InputError:
            return default

    def save(self, window) -> None:
        self.store.setValue("window/geometry", window.saveGeometry())
        self.store.setValue("window/state", window.saveState(LAYOUT_VERSION))
        brush = window.controller.brush
        self.store.setValue("tools/brush", json.dumps({name: float(getattr(brush, name)) for name in BRUSH_FIELDS}))
        self.store.setValue("tools/color", json.dumps(list(window.controller.color)))
        self.store.setValue("tools/recent_colors", json.dumps([list(c) for c in window.color_panel.recent_colors]))
        self.store.setValue("files/recent", json.dumps([str(p) for p in window.files.recent]))
        folder = window.files.last_folder
        self.store.setValue("files/last_folder", str(folder) if folder is not None else "")
        self.store.setValue("docks/sections", json.dumps(section_states(window)))
        self.store.sync()

    def restore(self, window) -> None:
        """Put back what :meth:`save` wrote; entries that are missing or damaged keep the defaults."""
        geometry, state = self.store.value("window/geometry"), self.store.value("window/state")
        if isinstance(geometry, QByteArray):
            window.restoreGeometry(geometry)
        if isinstance(state, QByteArray):
            window.restoreState(state, LAYOUT_VERSION)
        brush = self._json("tools/brush", {})
        if isinstance(brush, dict):
            changes = {k: float(v) for k, v in brush.items() if k in BRUSH_FIELDS and isinstance(v, (int, float))}
            try:
                window.controller.set_brush(**changes)
            except (InputError, ValueError, TypeError):
                pass
            window.tools_panel.sync_from_controller()
        for colour in reversed(_colours(self._json("tools/recent_colors", []))):
            window.color_panel.remember(colour)
        current = _colours([self._json("tools/color", None)])
        if current:
            window.color_panel.set_color(current[0])
        recent = self._json("files/recent", [])
        if isinstance(recent, list):
            window.files.set_recent([p for p in recent if isinstance(p, str) and p])
        folder = self.store.value("files/last_folder")
        if isinstance(folder, str) and folder:
            window.files.last_folder = Path(folder)
        restore_section_states(window, self._json("docks/sections", {}))


def _colours(values) -> list[tuple[int, int, int]]:
    if not isinstance(values, list):
        return []
    return [tuple(v) for v in values
            if isinstance(v, list) and len(v) == 3 and all(type(c) is int and 0 <= c <= 255 for c in v)]
