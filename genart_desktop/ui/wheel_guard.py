"""The mouse wheel changes a slider, spin box or combo box only when that control has the keyboard focus.

Why: docks scroll, and scrolling one with the wheel used to change whatever control passed under the cursor
(Strength jumped from 0.60 to 0.78). Krita and GIMP leave a control alone until it is clicked. One app-wide event
filter does this for every dock, present and future: such controls stop taking the focus from the wheel, and a
wheel turn over one without the focus scrolls the dock around it instead.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QAbstractScrollArea, QAbstractSlider, QAbstractSpinBox, QApplication, QComboBox, \
    QScrollBar, QWidget

GUARDED = (QAbstractSlider, QAbstractSpinBox, QComboBox)


def is_guarded(widget: QObject) -> bool:
    """A control the wheel would change (scroll bars are for scrolling, so they are left alone)."""
    return isinstance(widget, GUARDED) and not isinstance(widget, QScrollBar)


def _scroll_area_around(widget: QWidget) -> QAbstractScrollArea | None:
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, QAbstractScrollArea) and not is_guarded(parent):
            return parent
        parent = parent.parentWidget()
    return None


class WheelGuard(QObject):
    """Installed on the QApplication by :func:`install_wheel_guard`."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        kind = event.type()
        if kind == QEvent.Type.Polish and is_guarded(watched):
            if watched.focusPolicy() == Qt.FocusPolicy.WheelFocus:
                watched.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # a wheel turn no longer gives it the focus
        elif kind == QEvent.Type.Wheel and is_guarded(watched) and not watched.hasFocus():
            self._scroll_instead(watched, event)
            return True
        return False

    @staticmethod
    def _scroll_instead(widget: QWidget, event: QWheelEvent) -> None:
        area = _scroll_area_around(widget)
        if area is None:
            return
        viewport = area.viewport()
        position = QPointF(viewport.mapFromGlobal(event.globalPosition().toPoint()))
        forwarded = QWheelEvent(position, event.globalPosition(), event.pixelDelta(), event.angleDelta(),
                                event.buttons(), event.modifiers(), event.phase(), event.inverted())
        QApplication.sendEvent(viewport, forwarded)


def install_wheel_guard(app: QApplication) -> WheelGuard:
    """Install the guard once per application (later calls return the same one)."""
    guard = app.findChild(WheelGuard)
    if guard is None:
        guard = WheelGuard(app)
        app.installEventFilter(guard)
    return guard
