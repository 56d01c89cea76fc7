"""Render the app icon (resources/icons/app.svg, the artwork the window uses) into the freedesktop icon theme layout.

    .venv/bin/python packaging/render_icons.py      # rewrites resources/linux/icons/hicolor/

Writes ``scalable/apps/<APP_ID>.svg`` (a copy of the artwork) and ``NxN/apps/<APP_ID>.png`` for every size in
``SIZES``, so desktops that do not read SVG still get a sharp icon. Run it again whenever app.svg changes.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP_ID = "org.genart.GenArtDesktop"
SOURCE = ROOT / "resources" / "icons" / "app.svg"
THEME = ROOT / "resources" / "linux" / "icons" / "hicolor"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def render(source: Path = SOURCE, theme: Path = THEME, sizes: tuple[int, ...] = SIZES) -> list[Path]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication([sys.argv[0]])
    renderer = QSvgRenderer(str(source))
    if not renderer.isValid():
        raise SystemExit(f"{source} is not a valid SVG file.")
    written = []
    scalable = theme / "scalable" / "apps" / f"{APP_ID}.svg"
    scalable.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, scalable)
    written.append(scalable)
    for size in sizes:
        image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        target = theme / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".part")
        if not image.save(str(partial), "PNG"):
            raise SystemExit(f"Could not write {target}.")
        partial.replace(target)
        written.append(target)
    return written


if __name__ == "__main__":
    for path in render():
        print(path.relative_to(ROOT))
