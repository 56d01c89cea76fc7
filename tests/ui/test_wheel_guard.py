"""Item 2 of issue 22: scrolling a dock with the wheel must not change the slider or spin box under the cursor."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QDoubleSpinBox, QScrollArea, QSlider, QVBoxLayout, QWidget

from genart_desktop.ui.wheel_guard import install_wheel_guard


def wheel(widget, steps: int = -1) -> None:
    centre = QPointF(widget.rect().center())
    event = QWheelEvent(centre, QPointF(widget.mapToGlobal(centre.toPoint())), QPoint(0, 0), QPoint(0, 120 * steps),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)


def dock_like(qtbot):
    install_wheel_guard(QApplication.instance())
    area = QScrollArea()
    inner = QWidget()
    column = QVBoxLayout(inner)
    spin = QDoubleSpinBox()
    spin.setRange(0, 1)
    spin.setSingleStep(0.01)
    spin.setValue(0.6)
    slider = QSlider(Qt.Orientation.Horizontal)
    slider.setRange(0, 100)
    slider.setValue(60)
    column.addWidget(spin)
    column.addWidget(slider)
    for _ in range(30):
        column.addWidget(QSlider(Qt.Orientation.Horizontal))
    area.setWidget(inner)
    area.setWidgetResizable(True)
    area.resize(200, 150)
    qtbot.addWidget(area)
    area.show()
    qtbot.waitExposed(area)
    return area, spin, slider


def test_the_wheel_scrolls_the_dock_instead_of_changing_an_unfocused_control(qtbot):
    area, spin, slider = dock_like(qtbot)
    area.setFocus()
    wheel(spin)
    wheel(slider)
    assert spin.value() == 0.6 and slider.value() == 60
    assert area.verticalScrollBar().value() > 0  # the turn scrolled the dock
    assert spin.focusPolicy() == Qt.FocusPolicy.StrongFocus  # a wheel turn no longer takes the focus


def test_a_focused_control_still_follows_the_wheel(qtbot):
    _area, spin, _slider = dock_like(qtbot)
    spin.setFocus()
    qtbot.waitUntil(spin.hasFocus)
    wheel(spin, 1)
    assert spin.value() > 0.6


def test_every_dock_of_the_window_is_guarded(qtbot, window):
    from genart_desktop.ui.ai_panels import install_ai_panels

    install_ai_panels(window)
    window.canvas.setFocus()
    controls = [w for w in window.findChildren(QWidget) if isinstance(w, (QDoubleSpinBox, QSlider))]
    assert len(controls) > 10  # tools, colour, style, diffusion and explorer controls
    values = [control.value() for control in controls]
    for control in controls:
        wheel(control)
    assert [control.value() for control in controls] == values
