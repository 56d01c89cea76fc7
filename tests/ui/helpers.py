"""Helpers for driving the canvas with real Qt input events."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QInputDevice, QPointingDevice, QTabletEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

_PEN = None


def pen_device(pointer_type=QPointingDevice.PointerType.Pen) -> QPointingDevice:
    global _PEN
    if pointer_type == QPointingDevice.PointerType.Pen and _PEN is not None:
        return _PEN
    caps = QInputDevice.Capability.Position | QInputDevice.Capability.Pressure
    device = QPointingDevice("test stylus", 4242 if pointer_type == QPointingDevice.PointerType.Pen else 4243,
                             QInputDevice.DeviceType.Stylus, pointer_type, caps, 1, 3)
    if pointer_type == QPointingDevice.PointerType.Pen:
        _PEN = device
    return device


def widget_point(view, x: float, y: float) -> QPoint:
    point = view.map_from_canvas(x, y)
    return QPoint(round(point.x()), round(point.y()))


def mouse_stroke(view, points, modifiers=Qt.KeyboardModifier.NoModifier, button=Qt.MouseButton.LeftButton):
    """Press at the first canvas point, move through the rest, release at the last."""
    first = widget_point(view, *points[0])
    QTest.mousePress(view, button, modifiers, first)
    for x, y in points[1:]:
        QTest.mouseMove(view, widget_point(view, x, y))
    QTest.mouseRelease(view, button, modifiers, widget_point(view, *points[-1]))


def send_tablet(view, kind, x: float, y: float, pressure: float, device=None,
                modifiers=Qt.KeyboardModifier.NoModifier) -> QTabletEvent:
    device = device or pen_device()
    position = QPointF(view.map_from_canvas(x, y))
    button = Qt.MouseButton.LeftButton if kind != QEvent.Type.TabletMove else Qt.MouseButton.NoButton
    buttons = Qt.MouseButton.NoButton if kind == QEvent.Type.TabletRelease else Qt.MouseButton.LeftButton
    event = QTabletEvent(kind, device, position, QPointF(view.mapToGlobal(position)), pressure, 0.0, 0.0, 0.0,
                         0.0, 0.0, modifiers, button, buttons)
    event.setAccepted(False)
    QApplication.sendEvent(view, event)
    return event


def tablet_stroke(view, points, device=None):
    """``points`` are (x, y, pressure); returns the events so tests can check they were accepted."""
    events = [send_tablet(view, QEvent.Type.TabletPress, *points[0], device=device)]
    for x, y, p in points[1:]:
        events.append(send_tablet(view, QEvent.Type.TabletMove, x, y, p, device=device))
    events.append(send_tablet(view, QEvent.Type.TabletRelease, *points[-1], device=device))
    return events
