"""The collapsible dock section: the header folds the body, sums up what is inside, and the expanded states survive
a save and restore (damaged values ignored)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from genart_desktop.ui.collapsible import (
    CollapsibleSection,
    restore_section_states,
    section_states,
)


def sections(qtbot):
    root = QWidget()
    qtbot.addWidget(root)
    layout = QVBoxLayout(root)
    made = []
    for title, name, expanded in (("Regions", "regions", False), ("Placement", "placement", True)):
        section = CollapsibleSection(title, name, expanded=expanded)
        section.content.addWidget(QLabel(f"inside {title}"))
        layout.addWidget(section)
        made.append(section)
    root.show()
    return root, made


def test_the_header_folds_the_body_and_shows_the_summary(qtbot):
    _root, (regions, placement) = sections(qtbot)
    assert not regions.is_expanded() and not regions.body.isVisible() and placement.body.isVisible()
    assert regions.header.arrowType() == Qt.ArrowType.RightArrow
    seen = []
    regions.expanded_changed.connect(seen.append)
    qtbot.mouseClick(regions.header, Qt.MouseButton.LeftButton)
    assert regions.is_expanded() and regions.body.isVisible() and seen == [True]
    assert regions.header.arrowType() == Qt.ArrowType.DownArrow
    regions.set_expanded(True)  # no change, no signal
    assert seen == [True]
    regions.set_summary("2")
    assert regions.header.text() == "Regions: 2" and regions.title() == "Regions"
    regions.setTitle("Areas")
    regions.set_summary("")
    assert regions.header.text() == "Areas"
    qtbot.mouseClick(regions.header, Qt.MouseButton.LeftButton)
    assert not regions.is_expanded() and not regions.body.isVisible() and seen == [True, False]


def test_a_disabled_section_shows_only_its_header_and_keeps_its_state(qtbot):
    _root, (_regions, placement) = sections(qtbot)
    placement.setEnabled(False)
    assert not placement.body.isVisible() and placement.is_expanded() and placement.header.isVisible()
    assert placement.header.arrowType() == Qt.ArrowType.RightArrow  # the arrow says what shows
    placement.setEnabled(True)
    assert placement.body.isVisible() and placement.header.arrowType() == Qt.ArrowType.DownArrow


def test_expanded_states_are_saved_and_restored_by_name(qtbot):
    root, (regions, placement) = sections(qtbot)
    assert section_states(root) == {"regions": False, "placement": True}
    restore_section_states(root, {"regions": True, "placement": "yes", "gone": False})  # a damaged value is ignored
    assert regions.is_expanded() and placement.is_expanded()
    restore_section_states(root, {"placement": False})
    assert regions.is_expanded() and not placement.is_expanded()
    restore_section_states(root, ["not", "a", "mapping"])
    assert section_states(root) == {"regions": True, "placement": False}
