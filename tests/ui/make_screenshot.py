"""Paint a small scene in the real main window, generate with the shipped models, and save a screenshot
(resources/screenshot.png).

Run under a display, e.g.:
    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python -m tests.ui.make_screenshot resources/screenshot.png
"""

from __future__ import annotations

import math
import sys

import numpy as np
from PySide6.QtCore import QTimer

from genart_desktop.document.geometry import Rect
from genart_desktop.ui.app import create_main_window, ensure_application
from genart_desktop.workspace.tools import Tool


def sky(width: int, height: int) -> np.ndarray:
    t = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    top = np.array([38, 62, 120], np.float32)
    bottom = np.array([246, 178, 120], np.float32)
    rgb = top * (1 - t) + bottom * t
    pixels = np.empty((height, width, 4), np.uint8)
    pixels[..., :3] = np.broadcast_to(rgb, (height, width, 3)).astype(np.uint8)
    pixels[..., 3] = 255
    return pixels


def stroke(controller, points, pressure=lambda t: 1.0):
    controller.press(*points[0], pressure(0.0))
    for index, (x, y) in enumerate(points[1:], 1):
        controller.move(x, y, pressure(index / (len(points) - 1)))
    controller.release(*points[-1], pressure(1.0))


def paint_scene(window) -> None:
    doc = window.document
    c = window.controller
    w, h = doc.width, doc.height
    doc.add_layer("Sky", pixels=sky(w, h))
    doc.add_layer("Sun")
    c.set_tool(Tool.SELECT_ELLIPSE)
    c.set_option(selection_feather=12)
    doc.select_ellipse(Rect(1180, 300, 260, 260), feather=12)
    c.set_color((255, 226, 150))
    doc.fill(1310, 430, c.color, tolerance=0)
    doc.deselect()
    doc.add_layer("Hills")
    c.set_tool(Tool.BRUSH)
    c.set_brush(size=90, hardness=0.55, opacity=1.0, flow=0.9, spacing=0.08, pressure_size=True)
    for layer_index, (colour, base, amp) in enumerate((((83, 112, 92), 640, 60), ((48, 78, 66), 760, 45), ((26, 44, 40), 880, 35))):
        c.set_color(colour)
        y0 = base
        for row in range(0, 300, 50):
            pts = [(x, y0 + row + amp * math.sin(x / (260 + 40 * layer_index) + layer_index)) for x in range(-60, w + 80, 24)]
            stroke(c, pts, lambda t: 0.85 + 0.15 * math.sin(math.pi * t))
    doc.add_layer("Ink")
    c.set_brush(size=7, hardness=0.9, flow=1.0, spacing=0.05, pressure_size=True)
    c.set_color((20, 22, 30))
    for k in range(9):  # birds
        x, y = 420 + k * 70 + (k % 3) * 25, 300 + (k * 37) % 120
        stroke(c, [(x - 22, y - 6), (x - 10, y - 12), (x, y)], lambda t: 0.3 + 0.7 * t)
        stroke(c, [(x, y), (x + 10, y - 12), (x + 22, y - 6)], lambda t: 1.0 - 0.7 * t)
    doc.set_layer_property(doc.active_index, opacity=0.9)
    doc.set_layer_property(2, blend_mode="screen")
    c.set_brush(size=36, hardness=0.8, flow=1.0, spacing=0.1)
    c.set_color((232, 96, 64))
    doc.select_ellipse(Rect(300, 620, 520, 300), feather=4)
    c.set_tool(Tool.BRUSH)
    doc.add_layer("Poppies")
    for k in range(5):  # strokes cut to the selection: only the ellipse takes paint
        y = 660 + k * 55
        pts = [(x, y + 18 * math.sin(x / 45.0 + k)) for x in range(240, 900, 12)]
        stroke(c, pts, lambda t: 0.5 + 0.5 * math.sin(math.pi * t))
    window.tools_panel.select_tool(Tool.BRUSH)
    window.tools_panel.sync_from_controller()
    window.color_panel.remember((63, 92, 78))
    window.color_panel.remember((20, 22, 30))
    window.color_panel.remember((255, 226, 150))
    window.color_panel.remember((232, 96, 64))
    window.layers_panel.refresh_thumbnails()


def main(out: str) -> int:
    app = ensure_application([])
    window = create_main_window()
    window.resize(1560, 940)
    window.show()
    paint_scene(window)
    window.canvas.fit_to_view()

    def show_ai_docks() -> None:
        """The shipped models at work: a generated heart in the Diffusion dock, the GAN's grid in the explorer."""
        docks = window.docks
        if "Diffusion" in docks:
            docks["Diffusion"].raise_()
            panel = docks["Diffusion"].widget()
            panel.prompt_edit.setPlainText("red heart")
            panel.generate()
        if "Latent Explorer" in docks:
            docks["Latent Explorer"].raise_()

    def shoot() -> None:
        window.grab().save(out)
        window.document.mark_clean()
        window.close()
        app.quit()

    QTimer.singleShot(300, show_ai_docks)
    QTimer.singleShot(8000, shoot)
    app.exec()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "resources/screenshot.png"))
