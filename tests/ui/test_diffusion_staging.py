"""Staging on the canvas (issue 18): a finished result shows in place over its region as an overlay (not a layer),
the arrows cycle, Enter accepts one undoable layer, Esc discards; Accept and Discard stay visible at 1440x900;
thumbnails are never tinted by the selection highlight."""

from __future__ import annotations

import dataclasses

import numpy as np
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon

from genart_desktop.document.document import Document
from genart_desktop.document.geometry import Rect
from genart_desktop.ui.diffusion_panel import install_diffusion_panel
from tests.fixtures import painted_document
from tests.ui.test_diffusion_panel import choose, click, model_root, settle

ELLIPSE = Rect(400, 150, 974, 780)


def staged_window(qtbot, window, tmp_path, monkeypatch):
    monkeypatch.setenv("GENART_MODELS_DIR", str(model_root(tmp_path)))
    window.resize(1440, 900)
    install_diffusion_panel(window)
    panel = window.diffusion_panel
    doc = painted_document(1920, 1080)
    window.set_document(doc)
    doc.select_ellipse(ELLIPSE)
    choose(panel, "tiny-class")
    panel.class_combo.setCurrentText("red")
    panel.batch_spin.setValue(3)
    click(qtbot, panel.generate_button)
    settle(qtbot, panel)
    window.docks["Diffusion"].raise_()
    qtbot.waitUntil(lambda: panel.accept_button.mapTo(window, panel.accept_button.rect().topLeft()).y() >= 0)
    return panel, doc


def test_results_preview_in_place_and_keys_cycle_accept_and_discard(qtbot, window, tmp_path, monkeypatch):
    panel, doc = staged_window(qtbot, window, tmp_path, monkeypatch)
    canvas = window.canvas
    layers, before = len(doc.layers), doc.composite().copy()
    assert panel.strip.count() == 3
    image, x, y = canvas.overlay
    assert (x, y, image.width(), image.height()) == (ELLIPSE.x, ELLIPSE.y, 974, 780)
    assert len(doc.layers) == layers  # a preview, not a layer
    np.testing.assert_array_equal(doc.composite(), before)
    shown = panel.strip.selected_id()
    canvas.setFocus()
    qtbot.keyClick(canvas, Qt.Key.Key_Right)
    assert panel.strip.selected_id() != shown
    qtbot.keyClick(canvas, Qt.Key.Key_Left)
    assert panel.strip.selected_id() == shown
    qtbot.keyClick(canvas, Qt.Key.Key_Escape)  # discards the one shown
    assert panel.strip.count() == 2 and canvas.overlay is not None
    qtbot.keyClick(canvas, Qt.Key.Key_Return)  # accepts the next one as one undoable layer
    assert len(doc.layers) == layers + 1 and panel.strip.count() == 1
    assert doc.history.undo_count >= 1
    doc.undo()
    assert len(doc.layers) == layers
    panel.discard_selected()
    assert panel.strip.count() == 0 and canvas.overlay is None


def test_accept_and_discard_are_visible_at_1440x900_and_thumbnails_are_not_tinted(qtbot, window, tmp_path,
                                                                                   monkeypatch):
    panel, _doc = staged_window(qtbot, window, tmp_path, monkeypatch)
    for button in (panel.accept_button, panel.discard_button, panel.previous_button, panel.next_button):
        assert button.isVisible() and not button.visibleRegion().isEmpty(), button.text()
        bottom = button.mapTo(window, button.rect().bottomLeft()).y()
        assert bottom <= window.height()
    item = panel.strip.currentItem()
    icon: QIcon = item.icon()
    size = QSize(panel.strip.side, panel.strip.side)
    normal = icon.pixmap(size, QIcon.Mode.Normal).toImage()
    assert icon.pixmap(size, QIcon.Mode.Selected).toImage() == normal


def test_a_cut_out_thumbnail_shows_the_strip_through_its_transparent_pixels(qtbot):
    from genart_desktop.ui.diffusion_strip import _pixmap

    cut_out = np.zeros((16, 16, 4), np.uint8)  # transparent black around an opaque red square
    cut_out[4:12, 4:12] = (230, 40, 30, 255)
    cut_out[2, 2] = (255, 255, 255, 8)  # a nearly transparent edge pixel with a bright straight colour
    shown = _pixmap(cut_out, 64).toImage()  # 16 -> 64: each pixel a 4x4 block

    def rgb(x, y):
        colour = shown.pixelColor(x, y)
        return np.array([colour.red(), colour.green(), colour.blue()])

    strip = np.array([40, 44, 52])  # the strip's background
    assert (rgb(1, 1) == strip).all()  # transparent: the strip, not the pixel's black
    assert np.abs(rgb(9, 9) - strip).max() <= 8  # nearly transparent: nearly the strip, not white
    assert (rgb(32, 32) == (230, 40, 30)).all()


def test_the_overlay_is_drawn_over_the_canvas_without_touching_the_document(qtbot, window):
    canvas = window.canvas
    doc = Document(64, 48)
    window.set_document(doc)
    pixels = np.zeros((10, 10, 4), np.uint8)
    pixels[...] = (0, 0, 255, 255)
    canvas.set_view(zoom=1.0, center=(32, 24))
    canvas.set_overlay(pixels, (5, 6))
    shot = canvas.grab().toImage()
    point = canvas.map_from_canvas(10, 11).toPoint()
    colour = shot.pixelColor(point)
    assert (colour.red(), colour.green(), colour.blue()) == (0, 0, 255)
    assert (doc.composite()[11, 10] == (255, 255, 255, 255)).all()
    canvas.set_overlay(None)
    assert canvas.overlay is None


def test_placement_choices_are_dock_controls_bound_to_the_settings(qtbot, window, tmp_path, monkeypatch):
    monkeypatch.setenv("GENART_MODELS_DIR", str(model_root(tmp_path)))
    install_diffusion_panel(window)
    panel = window.diffusion_panel
    choose(panel, "tiny-class")
    panel.fit_combo.setCurrentIndex(panel.fit_combo.findData("fill"))
    panel.keep_background_check.setChecked(True)
    panel.feather_spin.setValue(20)
    settings = panel.controller.settings
    assert (settings.fit, settings.keep_background, settings.feather) == ("fill", True, 20)
    panel.controller.set_settings(dataclasses.replace(settings, fit="fit", keep_background=False, feather=3))
    assert panel.fit_combo.currentData() == "fit" and not panel.keep_background_check.isChecked()
    assert panel.feather_spin.value() == 3
    assert "multiples of 8" in panel.model_note.text()  # the sizes the model accepts, before anything runs
