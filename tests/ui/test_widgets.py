"""The small dock widgets: a button calls its slot without Qt's ``checked`` argument and shows its tip."""

from PySide6.QtCore import Qt

from genart_desktop.ui.widgets import button


def test_button_calls_its_slot_with_no_arguments(qtbot):
    calls = []
    widget = button("Go", "Start it", lambda: calls.append("go"))
    qtbot.addWidget(widget)
    assert (widget.text(), widget.toolTip()) == ("Go", "Start it")
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)
    widget.click()
    assert calls == ["go", "go"]
