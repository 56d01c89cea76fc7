"""The Qt-free controllers behind the canvas (genart_desktop.workspace): tool routing, selection outline, autosave
timing. No widgets here; they live beside the UI tests because the UI is their only client."""

from __future__ import annotations

import numpy as np
import pytest

from genart_desktop.document.autosave import AutosaveStore
from genart_desktop.document.document import Document
from genart_desktop.document.geometry import Rect
from genart_desktop.workspace.autosave import AutosaveScheduler
from genart_desktop.workspace.selection_outline import outline_paths, outline_segments
from genart_desktop.workspace.tools import Tool, ToolController, drag_rect, selection_mode_for


def test_outline_of_a_rectangle_is_one_closed_loop():
    mask = np.zeros((6, 8), np.uint8)
    mask[1:4, 2:6] = 255
    assert sorted(outline_segments(mask)) == sorted([(2, 1, 6, 1), (2, 4, 6, 4), (2, 1, 2, 4), (6, 1, 6, 4)])
    paths = outline_paths(mask)
    assert len(paths) == 1 and paths[0][0] == paths[0][-1] and len(paths[0]) == 5


def test_outline_threshold_and_holes():
    mask = np.zeros((10, 10), np.uint8)
    mask[1:9, 1:9] = 255
    mask[4:6, 4:6] = 0
    mask[0, 0] = 100  # below half: not selected
    paths = outline_paths(mask)
    assert len(paths) == 2 and all(p[0] == p[-1] for p in paths)
    assert outline_segments(np.zeros((4, 4), np.uint8)) == []


def test_selection_modes_and_drag_rect():
    assert selection_mode_for("replace", {"shift"}) == "add"
    assert selection_mode_for("replace", {"alt"}) == "subtract"
    assert selection_mode_for("add", ()) == "add"
    assert drag_rect(10.5, 20.2, 4.1, 8.9) == Rect(4, 8, 7, 13)
    assert drag_rect(0, 0, 10, 4, square=True) == Rect(0, 0, 10, 10)


def test_controller_routes_a_stroke_and_ignores_input_without_a_press():
    doc = Document(50, 50)
    controller = ToolController(doc)
    controller.move(10, 10)
    controller.release(10, 10)
    assert not doc.can_undo
    controller.set_brush(size=6.0, color=(0, 0, 255))
    controller.press(5, 25)
    assert controller.active
    controller.move(45, 25, 0.5)
    controller.release(45, 25)
    assert not controller.active and doc.history.undo_count == 1
    assert tuple(doc.layers[0].pixels[25, 25, :3]) == (0, 0, 255)


def test_controller_preview_and_cancel():
    doc = Document(50, 50)
    controller = ToolController(doc)
    controller.set_tool(Tool.SELECT_RECT)
    controller.press(5, 5)
    controller.move(20, 30)
    assert controller.preview() == ("rect", Rect(5, 5, 15, 25))
    controller.cancel()
    assert controller.preview() is None and doc.selection.is_empty


def test_colour_signal_and_validation():
    controller = ToolController(Document(8, 8))
    seen = []
    controller.color_changed.connect(seen.append)
    controller.set_color((300, -4, 12))
    assert controller.color == (255, 0, 12) and seen == [(255, 0, 12)]
    controller.set_color((255, 0, 12))
    assert len(seen) == 1
    with pytest.raises(AttributeError):
        controller.set_option(no_such_option=1)


def test_autosave_scheduler_timing(tmp_path):
    clock = [0.0]
    store = AutosaveStore(tmp_path)
    scheduler = AutosaveScheduler(store, interval_s=60, clock=lambda: clock[0])
    doc = Document(20, 20)
    scheduler.attach(doc)
    clock[0] = 100
    assert not scheduler.tick(), "an unchanged document is not autosaved"
    doc.add_layer("x")
    clock[0] = 130
    assert scheduler.tick(), "changed and the interval has passed"
    assert [e.doc_id for e in store.pending()] == [scheduler.doc_id]
    clock[0] = 150
    doc.add_layer("y")
    assert not scheduler.tick(), "not again before the interval"
    clock[0] = 191
    assert scheduler.tick()
    doc.mark_clean()  # saved by the user
    clock[0] = 400
    assert not scheduler.tick()
    assert store.pending() == [], "a saved document leaves no snapshot behind"
    assert scheduler.orphans() == []


def test_disabled_autosave(tmp_path):
    scheduler = AutosaveScheduler(AutosaveStore(tmp_path), interval_s=0)
    doc = Document(8, 8)
    scheduler.attach(doc)
    doc.add_layer()
    assert not scheduler.enabled and not scheduler.tick(now=1e9)
