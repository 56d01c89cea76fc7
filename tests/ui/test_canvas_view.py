"""The canvas widget driven with real mouse and tablet events: pixels, pressure, undo, zoom, pan, selection."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QPointingDevice
from PySide6.QtTest import QTest

from genart_desktop.document.document import Document
from genart_desktop.ui.canvas_view import CanvasView
from genart_desktop.ui.qimage import qimage_to_rgba
from genart_desktop.workspace.tools import Tool, ToolController
from tests.ui.helpers import mouse_stroke, pen_device, send_tablet, tablet_stroke, widget_point


@pytest.fixture
def view(qtbot):
    doc = Document(200, 120)
    controller = ToolController(doc)
    controller.set_brush(size=10.0, hardness=1.0, color=(200, 30, 30), pressure_size=True, pressure_opacity=False)
    canvas = CanvasView(controller)
    qtbot.addWidget(canvas)
    canvas.resize(400, 300)
    canvas.set_document(doc)
    canvas.show()
    qtbot.waitExposed(canvas)
    canvas.set_view(zoom=1.0, center=(100, 60))
    return canvas


def painted(doc: Document) -> np.ndarray:
    """Mask of pixels that are no longer the white background."""
    return np.any(doc.layers[-1].pixels[..., :3] != 255, axis=2)


def test_mouse_stroke_paints_interpolated_line(view):
    doc = view.document
    mouse_stroke(view, [(20, 60), (180, 60)])  # one move event across 160 px
    mask = painted(doc)
    row = mask[60]
    assert row[25:175].all(), "dabs must be interpolated between the two pointer events"
    assert not mask[:40].any() and not mask[80:].any()
    assert tuple(doc.layers[-1].pixels[60, 100, :3]) == (200, 30, 30)
    assert doc.can_undo and doc.history.undo_count == 1


def test_undo_redo_restore_pixels_exactly(view):
    doc = view.document
    before = doc.layers[-1].pixels.copy()
    mouse_stroke(view, [(30, 30), (90, 50), (150, 90)])
    after = doc.layers[-1].pixels.copy()
    assert not np.array_equal(before, after)
    doc.undo()
    assert np.array_equal(doc.layers[-1].pixels, before)
    doc.redo()
    assert np.array_equal(doc.layers[-1].pixels, after)


def test_canvas_shows_the_document_pixels(view):
    mouse_stroke(view, [(40, 60), (160, 60)])
    shot = qimage_to_rgba(view.grab().toImage())
    point = widget_point(view, 100, 60)
    assert tuple(shot[point.y(), point.x(), :3]) == (200, 30, 30)
    corner = widget_point(view, 5, 5)
    assert tuple(shot[corner.y(), corner.x(), :3]) == (255, 255, 255)
    outside = widget_point(view, -30, -30)
    assert tuple(shot[outside.y(), outside.x(), :3]) != (255, 255, 255)


def test_tablet_events_are_accepted_and_use_pressure(view):
    doc = view.document
    events = tablet_stroke(view, [(20, 30, 1.0), (180, 30, 1.0)])
    assert all(event.isAccepted() for event in events), "accepted tablet events are not re-sent as mouse events"
    tablet_stroke(view, [(20, 90, 0.2), (180, 90, 0.2)])
    mask = painted(doc)
    heavy = mask[:, 100][0:60].sum()
    light = mask[:, 100][60:].sum()
    assert heavy >= 9 and 0 < light <= 4, (heavy, light)
    assert doc.history.undo_count == 2


def test_mouse_events_during_a_tablet_stroke_do_not_start_a_second_stroke(view):
    doc = view.document
    send_tablet(view, QEvent.Type.TabletPress, 20, 60, 0.8)
    QTest.mousePress(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, widget_point(view, 20, 100))
    QTest.mouseMove(view, widget_point(view, 180, 100))
    send_tablet(view, QEvent.Type.TabletMove, 120, 60, 0.8)
    send_tablet(view, QEvent.Type.TabletRelease, 120, 60, 0.8)
    QTest.mouseRelease(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, widget_point(view, 180, 100))
    mask = painted(doc)
    assert mask[60, 30:110].all()
    assert not mask[95:].any()
    assert doc.history.undo_count == 1


def test_pressure_opacity_mapping(view):
    doc = view.document
    view.controller.set_brush(pressure_size=False, pressure_opacity=True, color=(0, 0, 0))
    tablet_stroke(view, [(50, 60, 0.3)])  # one dab: its coverage is the pressure
    tablet_stroke(view, [(150, 60, 1.0)])
    light = int(doc.layers[-1].pixels[60, 50, 0])
    full = int(doc.layers[-1].pixels[60, 150, 0])
    assert full == 0 and 160 < light < 200, (light, full)  # 30 % black over white


def test_pen_eraser_end_erases_then_restores_the_brush(view):
    doc = view.document
    layer_pixels = doc.layers[-1].pixels
    assert layer_pixels[60, 100, 3] == 255
    eraser = pen_device(QPointingDevice.PointerType.Eraser)
    tablet_stroke(view, [(20, 60, 1.0), (180, 60, 1.0)], device=eraser)
    assert doc.layers[-1].pixels[60, 100, 3] == 0
    assert view.controller.tool is Tool.BRUSH


def test_eraser_tool_with_mouse(view):
    doc = view.document
    view.controller.set_tool(Tool.ERASER)
    mouse_stroke(view, [(50, 60), (150, 60)])
    assert doc.layers[-1].pixels[60, 100, 3] == 0
    assert doc.layers[-1].pixels[10, 100, 3] == 255


def test_picker_and_fill(view):
    doc = view.document
    mouse_stroke(view, [(-20, 60), (220, 60)])  # a wall across the whole canvas
    view.controller.set_color((0, 0, 255))
    view.controller.set_tool(Tool.PICKER)
    mouse_stroke(view, [(100, 60)])
    assert view.controller.color == (200, 30, 30)
    view.controller.set_color((10, 200, 10))
    view.controller.set_tool(Tool.FILL)
    mouse_stroke(view, [(100, 10)])
    pixels = doc.layers[-1].pixels
    assert tuple(pixels[10, 100, :3]) == (10, 200, 10)
    assert tuple(pixels[60, 100, :3]) == (200, 30, 30)  # the stroke bounds the contiguous fill
    assert tuple(pixels[110, 100, :3]) == (255, 255, 255)


def test_rectangle_selection_limits_painting_and_modifiers(view):
    doc = view.document
    view.controller.set_tool(Tool.SELECT_RECT)
    mouse_stroke(view, [(40, 20), (100, 100)])
    assert doc.selection.bounds() == doc.selection.bounds().__class__(40, 20, 60, 80)
    mouse_stroke(view, [(120, 20), (160, 100)], modifiers=Qt.KeyboardModifier.ShiftModifier)
    assert doc.selection.mask[50, 140] == 255 and doc.selection.mask[50, 40] == 255
    mouse_stroke(view, [(40, 20), (100, 60)], modifiers=Qt.KeyboardModifier.AltModifier)
    assert doc.selection.mask[30, 50] == 0 and doc.selection.mask[80, 50] == 255
    view.controller.set_tool(Tool.BRUSH)
    mouse_stroke(view, [(5, 80), (195, 80)])
    mask = painted(doc)
    assert mask[80, 50] and mask[80, 140]
    assert not mask[80, 10] and not mask[80, 110] and not mask[80, 190]
    shot = view.grab()  # marching ants paint without errors
    assert not shot.isNull()


def test_ellipse_lasso_and_brush_selection_with_feather(view):
    doc = view.document
    view.controller.set_tool(Tool.SELECT_ELLIPSE)
    view.controller.set_option(selection_feather=6)
    mouse_stroke(view, [(40, 20), (160, 100)])
    mask = doc.selection.mask
    assert mask[60, 100] == 255 and mask[22, 42] == 0
    assert 0 < mask[60, 40] < 255  # feathered rim
    view.controller.set_tool(Tool.SELECT_LASSO)
    view.controller.set_option(selection_feather=0)
    mouse_stroke(view, [(10, 10), (60, 10), (60, 60), (10, 60)])
    mask = doc.selection.mask
    assert mask[30, 30] == 255 and mask[60, 100] == 0
    view.controller.set_tool(Tool.SELECT_BRUSH)
    view.controller.set_brush(size=20.0)
    mouse_stroke(view, [(120, 100), (180, 100)], modifiers=Qt.KeyboardModifier.ShiftModifier)
    mask = doc.selection.mask
    assert mask[100, 150] == 255 and mask[30, 30] == 255
    doc.undo()
    assert doc.selection.mask[100, 150] == 0


def test_click_without_drag_deselects(view):
    doc = view.document
    doc.select_rect(doc.rect.__class__(10, 10, 50, 50))
    view.controller.set_tool(Tool.SELECT_RECT)
    mouse_stroke(view, [(100, 100)])
    assert doc.selection.is_empty


def test_move_tool_offsets_active_layer(view):
    doc = view.document
    layer = doc.add_layer("Dot")
    doc.set_active(1)
    view.controller.set_tool(Tool.BRUSH)
    mouse_stroke(view, [(50, 50)])
    assert layer.pixels[50, 50, 3] == 255
    view.controller.set_tool(Tool.MOVE)
    mouse_stroke(view, [(50, 50), (60, 55), (80, 70)])
    assert layer.pixels[70, 80, 3] == 255 and layer.pixels[50, 50, 3] == 0
    doc.undo()
    assert layer.pixels[50, 50, 3] == 255


def test_locked_layer_reports_error_and_changes_nothing(view):
    doc = view.document
    messages = []
    view.controller.error.connect(messages.append)
    doc.set_layer_property(0, locked=True)
    before = doc.layers[0].pixels.copy()
    mouse_stroke(view, [(20, 60), (180, 60)])
    assert messages and "locked" in messages[0]
    assert np.array_equal(doc.layers[0].pixels, before)


def test_zoom_keeps_anchor_and_steps(view):
    anchor = QPointF(300, 100)
    before = view.map_to_canvas(anchor)
    view.zoom_in(anchor)
    assert view.zoom == pytest.approx(1.5)
    after = view.map_to_canvas(anchor)
    assert after.x() == pytest.approx(before.x(), abs=1e-6) and after.y() == pytest.approx(before.y(), abs=1e-6)
    view.zoom_out()
    view.zoom_out()
    assert view.zoom == pytest.approx(2 / 3)
    view.actual_pixels()
    assert view.zoom == 1.0
    view.fit_to_view()
    assert view.zoom == pytest.approx(min((400 - 48) / 200, (300 - 48) / 120))
    assert (view.center.x(), view.center.y()) == (100, 60)


def test_wheel_zoom(view, qtbot):
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    position = QPointF(200, 150)
    event = QWheelEvent(position, QPointF(view.mapToGlobal(position)), QPoint(0, 0), QPoint(0, 120),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(view, event)
    assert view.zoom == pytest.approx(1.25)


def test_middle_button_and_space_drag_pan(view):
    doc = view.document
    start = view.center
    mouse_stroke(view, [(100, 60), (80, 50)], button=Qt.MouseButton.MiddleButton)
    assert view.center.x() == pytest.approx(start.x() + 20) and view.center.y() == pytest.approx(start.y() + 10)
    QTest.keyPress(view, Qt.Key.Key_Space)
    centre = view.center
    mouse_stroke(view, [(100, 60), (90, 60)])
    QTest.keyRelease(view, Qt.Key.Key_Space)
    assert view.center.x() == pytest.approx(centre.x() + 10)
    assert not doc.can_undo, "panning must not paint"


def test_rotated_view_maps_input_to_canvas(view):
    doc = view.document
    view.set_view(rotation=90)
    mouse_stroke(view, [(100, 20), (100, 100)])
    mask = painted(doc)
    assert mask[30:90, 100].all() and not mask[60, 20]
    view.reset_rotation()
    assert view.rotation == 0


def test_tiles_are_cached_and_invalidated(view):
    doc = Document(600, 600)
    view.set_document(doc)
    view.set_view(zoom=1.0, center=(300, 300))
    view.grab()
    count = view.cached_tile_count
    assert 0 < count <= 9
    view.grab()
    assert view.cached_tile_count == count
    doc.add_layer("x", pixels=np.full((10, 10, 4), 255, np.uint8), origin=(300, 300))
    assert view.cached_tile_count < count  # the change dropped the cache it touched


def test_transparent_areas_show_a_checkerboard(view):
    doc = Document(100, 100, background=None)
    view.set_document(doc)
    view.set_view(zoom=1.0, center=(50, 50))
    shot = qimage_to_rgba(view.grab().toImage())
    origin = widget_point(view, 0, 0)
    patch = shot[origin.y() + 2: origin.y() + 40, origin.x() + 2: origin.x() + 40, 0]
    assert set(np.unique(patch)) == {153, 204}
