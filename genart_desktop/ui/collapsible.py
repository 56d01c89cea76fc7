"""A collapsible section for long docks: a one-line header (an arrow, the title and a short summary of what is set
inside, e.g. "Regions: 2") over a body that shows only while the section is expanded.

Why: settings used now and then (regional prompts, a control picture, placement details) should not push the
essential ones below the fold, yet the header's summary still tells at a glance what they are set to. A disabled
section shows only its header (nothing inside can be used) and keeps its expanded state for when it is enabled
again. :func:`section_states` and :func:`restore_section_states` let the window's preferences remember which
sections the user left open, keyed by each section's object name.
"""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import QSizePolicy, QToolButton, QVBoxLayout, QWidget

HEADER_STYLE = ("QToolButton { border: none; border-bottom: 1px solid #3a3a40; border-radius: 0px; font-weight: bold;"
                " padding: 3px 0px; } QToolButton:checked { background: transparent; }"
                " QToolButton:hover { background: #3a3a40; }")  # a rule under the title, not a pressed button


class CollapsibleSection(QWidget):
    """A titled section whose body (``self.body``, laid out by ``self.content``) folds away under its header."""

    expanded_changed = Signal(bool)

    def __init__(self, title: str, name: str, expanded: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self._title = title
        self._summary = ""
        self._expanded = not expanded  # so that set_expanded below sets everything up
        self.header = QToolButton()
        self.header.setObjectName(f"{name}-header")
        self.header.setCheckable(True)
        self.header.setAutoRaise(True)
        self.header.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.header.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)  # long summaries elide
        self.header.setStyleSheet(HEADER_STYLE)
        self.header.toggled.connect(self.set_expanded)
        self.body = QWidget()
        self.content = QVBoxLayout(self.body)
        self.content.setContentsMargins(8, 0, 0, 4)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.header)
        layout.addWidget(self.body)
        self.set_expanded(expanded)
        self._show_header()

    # -- title and summary ---------------------------------------------------------------------------------------
    def title(self) -> str:
        return self._title

    def setTitle(self, title: str) -> None:
        """QGroupBox's name, so that a section can stand in for a group box."""
        self._title = title
        self._show_header()

    def summary(self) -> str:
        return self._summary

    def set_summary(self, summary: str) -> None:
        """What is set inside, shown after the title ("" shows the title alone)."""
        self._summary = summary
        self._show_header()

    def _show_header(self) -> None:
        text = f"{self._title}: {self._summary}" if self._summary else self._title
        self.header.setText(text)
        self.header.setToolTip(text)

    # -- expanding -------------------------------------------------------------------------------------------------
    def is_expanded(self) -> bool:
        return self._expanded

    def set_expanded(self, expanded: bool) -> None:
        expanded = bool(expanded)
        changed, self._expanded = expanded != self._expanded, expanded
        self.header.blockSignals(True)
        self.header.setChecked(expanded)
        self.header.blockSignals(False)
        self._show_body()
        if changed:
            self.expanded_changed.emit(expanded)

    def _show_body(self) -> None:
        shown = self._expanded and self.isEnabled()
        self.body.setVisible(shown)
        self.header.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.EnabledChange:
            self._show_body()
        super().changeEvent(event)


def section_states(root: QWidget) -> dict[str, bool]:
    """Whether each named section under ``root`` is expanded."""
    return {section.objectName(): section.is_expanded()
            for section in root.findChildren(CollapsibleSection) if section.objectName()}


def restore_section_states(root: QWidget, states: Mapping[str, object]) -> None:
    """Expand or collapse the sections under ``root`` as ``states`` says; unknown names and non-booleans are
    ignored (a damaged preference never matters)."""
    if not isinstance(states, Mapping):
        return
    for section in root.findChildren(CollapsibleSection):
        value = states.get(section.objectName())
        if isinstance(value, bool):
            section.set_expanded(value)
