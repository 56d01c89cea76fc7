"""Item 4 of issue 22: Copy, Copy merged and Paste as new layer through the system clipboard, File > Recent, and
the Help pages shipped with the app."""

from __future__ import annotations

import re

import numpy as np
from PySide6.QtGui import QGuiApplication, QImage, QKeySequence

from genart_desktop.document.geometry import Rect
from genart_desktop.ui.help_dialog import PAGES, page_html
from genart_desktop.ui.qimage import qimage_to_rgba, rgba_to_qimage


def paint_two_layers(doc) -> None:
    red = np.zeros((doc.height, doc.width, 4), np.uint8)
    red[..., 0], red[..., 3] = 255, 255
    doc.add_layer("Red", pixels=red)
    blue = np.zeros((doc.height, doc.width, 4), np.uint8)
    blue[10:30, 10:30, 2], blue[10:30, 10:30, 3] = 255, 255
    doc.add_layer("Blue square", pixels=blue)


def test_copy_the_layer_in_the_selection_and_paste_it_back_where_it_was(qtbot, window):
    doc = window.document
    paint_two_layers(doc)
    doc.select_rect(Rect(5, 5, 30, 30))
    assert window.copy_image(merged=False)
    copied = qimage_to_rgba(QGuiApplication.clipboard().image())
    assert copied.shape == (30, 30, 4)
    assert copied[0, 0, 3] == 0 and tuple(copied[10, 10]) == (0, 0, 255, 255)  # the layer alone, not the red below
    layers = len(doc.layers)
    assert window.paste_image()
    assert len(doc.layers) == layers + 1 and doc.active_layer.name == "Pasted"
    assert tuple(doc.active_layer.pixels[15, 15]) == (0, 0, 255, 255)  # landed over the selection it came from
    window.undo()
    assert len(doc.layers) == layers


def test_copy_merged_has_everything_visible(qtbot, window):
    paint_two_layers(window.document)
    assert window.copy_image(merged=True)
    merged = qimage_to_rgba(QGuiApplication.clipboard().image())
    assert merged.shape[:2] == (window.document.height, window.document.width)
    assert tuple(merged[0, 0]) == (255, 0, 0, 255) and tuple(merged[15, 15]) == (0, 0, 255, 255)


def test_an_image_from_another_program_pastes_as_a_centred_layer(qtbot, window):
    pixels = np.zeros((20, 40, 4), np.uint8)
    pixels[..., 1], pixels[..., 3] = 200, 255
    QGuiApplication.clipboard().setImage(rgba_to_qimage(pixels, premultiply=False))
    doc = window.document
    assert window.paste_image()
    layer = doc.active_layer.pixels
    y0, x0 = (doc.height - 20) // 2, (doc.width - 40) // 2
    assert tuple(layer[y0 + 5, x0 + 5]) == (0, 200, 0, 255) and layer[y0 - 1, x0, 3] == 0


def test_an_empty_clipboard_or_selection_says_why_in_the_status_bar(qtbot, window):
    QGuiApplication.clipboard().setImage(QImage())
    QGuiApplication.clipboard().setText("just words")
    assert not window.paste_image()
    assert "no image" in window.statusBar().currentMessage()
    window.document.add_layer("Empty")
    window.document.select_rect(Rect(0, 0, 10, 10))
    assert not window.copy_image()
    assert "Nothing to copy" in window.statusBar().currentMessage()


def test_recent_menu_follows_open_and_save(qtbot, window, tmp_path):
    assert not window.recent_menu.isEnabled()
    window.save_to(tmp_path / "one.ora")
    window.save_to(tmp_path / "two.ora")
    names = [action.text() for action in window.recent_menu.actions()]
    assert names == ["&1 two.ora", "&2 one.ora"] and window.recent_menu.isEnabled()


def test_help_pages_ship_and_list_every_shortcut_of_the_menus(qtbot, window):
    for name in PAGES:
        assert "missing" not in page_html(name)
    shortcuts_page = page_html("shortcuts")
    listed = {key for cell in re.findall(r"<td>(.*?)</td>", shortcuts_page) for key in re.split(r" / |, ", cell)}
    for key in ("copy", "copy_merged", "paste", "save", "open", "undo", "layer_new", "brush_bigger", "quick_start"):
        sequence = window.actions[key].shortcut().toString(QKeySequence.SequenceFormat.PortableText)
        assert sequence in listed, (key, sequence)
    window.actions["quick_start"].trigger()
    assert window.help_dialog.windowTitle() == "Quick start"
    assert "Quick start" in window.help_dialog.browser.toPlainText()
    window.actions["shortcuts"].trigger()
    assert "Keyboard shortcuts" in window.help_dialog.browser.toPlainText()
