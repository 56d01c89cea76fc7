"""The Colour dock: a saturation/value square, a hue strip, a hex field and recent colours.

It shows and edits the tool controller's colour; the colour picker tool updates it through the controller.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QLinearGradient, QPainter, QPen
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QLineEdit, QSizePolicy, QToolButton, QVBoxLayout, QWidget

from genart_desktop.workspace.tools import ToolController

RECENT_COUNT = 12


class SaturationValueSquare(QWidget):
    """Saturation grows to the right, value upwards, for the current hue."""

    picked = Signal(float, float)  # saturation, value in 0..1

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._hue = 0.0
        self._sat = 0.0
        self._val = 0.0
        self.setMinimumSize(120, 120)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setCursor(Qt.CursorShape.CrossCursor)

    def set_hsv(self, hue: float, sat: float, val: float) -> None:
        self._hue, self._sat, self._val = hue, sat, val
        self.update()

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        rect = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        horizontal = QLinearGradient(rect.topLeft(), rect.topRight())
        horizontal.setColorAt(0.0, QColor(255, 255, 255))
        horizontal.setColorAt(1.0, QColor.fromHsvF(max(self._hue, 0.0), 1.0, 1.0))
        painter.fillRect(rect, horizontal)
        vertical = QLinearGradient(rect.topLeft(), rect.bottomLeft())
        vertical.setColorAt(0.0, QColor(0, 0, 0, 0))
        vertical.setColorAt(1.0, QColor(0, 0, 0, 255))
        painter.fillRect(rect, vertical)
        x = rect.left() + self._sat * rect.width()
        y = rect.top() + (1.0 - self._val) * rect.height()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(QColor(0, 0, 0), 1.5))
        painter.drawEllipse(QPointF(x, y), 6, 6)
        painter.setPen(QPen(QColor(255, 255, 255), 1.5))
        painter.drawEllipse(QPointF(x, y), 5, 5)
        painter.end()

    def _pick(self, position: QPointF) -> None:
        sat = min(1.0, max(0.0, position.x() / max(1, self.width() - 1)))
        val = min(1.0, max(0.0, 1.0 - position.y() / max(1, self.height() - 1)))
        self.picked.emit(sat, val)

    def mousePressEvent(self, event) -> None:
        self._pick(event.position())

    def mouseMoveEvent(self, event) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton:
            self._pick(event.position())


class HueStrip(QWidget):
    picked = Signal(float)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._hue = 0.0
        self.setFixedHeight(16)
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    def set_hue(self, hue: float) -> None:
        self._hue = hue
        self.update()

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        rect = QRectF(self.rect())
        gradient = QLinearGradient(rect.topLeft(), rect.topRight())
        for step in range(7):
            gradient.setColorAt(step / 6, QColor.fromHsvF((step / 6) % 1.0, 1.0, 1.0))
        painter.fillRect(rect, gradient)
        x = rect.left() + max(self._hue, 0.0) * rect.width()
        painter.setPen(QPen(QColor(0, 0, 0), 3))
        painter.drawLine(QPointF(x, 0), QPointF(x, rect.height()))
        painter.setPen(QPen(QColor(255, 255, 255), 1))
        painter.drawLine(QPointF(x, 0), QPointF(x, rect.height()))
        painter.end()

    def _pick(self, position: QPointF) -> None:
        self.picked.emit(min(0.9999, max(0.0, position.x() / max(1, self.width()))))

    def mousePressEvent(self, event) -> None:
        self._pick(event.position())

    def mouseMoveEvent(self, event) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton:
            self._pick(event.position())


class ColorPanel(QWidget):
    def __init__(self, controller: ToolController, parent: QWidget | None = None):
        super().__init__(parent)
        self.controller = controller
        self._hue = 0.0
        self._recent: list[tuple[int, int, int]] = []
        self.square = SaturationValueSquare()
        self.hue = HueStrip()
        self.swatch = QLabel()
        self.swatch.setFixedSize(38, 38)
        self.hex = QLineEdit()
        self.hex.setMaxLength(7)
        self.hex.setPlaceholderText("#rrggbb")
        self.hex.setFixedWidth(90)
        self.hex.editingFinished.connect(self._from_hex)
        self.square.picked.connect(self._from_square)
        self.hue.picked.connect(self._from_hue)
        self.recent_grid = QGridLayout()
        self.recent_grid.setSpacing(3)
        self._recent_buttons: list[QToolButton] = []
        for index in range(RECENT_COUNT):
            button = QToolButton()
            button.setFixedSize(20, 20)
            policy = button.sizePolicy()
            policy.setRetainSizeWhenHidden(True)  # the row's space is there from the start: nothing jumps
            button.setSizePolicy(policy)
            button.setVisible(False)
            button.clicked.connect(lambda _c=False, i=index: self._use_recent(i))
            self._recent_buttons.append(button)
            self.recent_grid.addWidget(button, index // 6, index % 6)
        top = QHBoxLayout()
        top.addWidget(self.swatch)
        top.addWidget(self.hex)
        top.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.square, 1)
        layout.addWidget(self.hue)
        layout.addLayout(top)
        layout.addLayout(self.recent_grid)
        controller.color_changed.connect(self._show)
        self._show(controller.color)

    @property
    def color(self) -> tuple[int, int, int]:
        return self.controller.color

    @property
    def recent_colors(self) -> list[tuple[int, int, int]]:
        return list(self._recent)

    def set_color(self, rgb: tuple[int, int, int]) -> None:
        self.controller.set_color(rgb)
        self._show(self.controller.color)

    def remember(self, rgb: tuple[int, int, int]) -> None:
        """Add a colour to the recent row (called when a stroke uses it)."""
        rgb = tuple(int(c) for c in rgb[:3])
        if rgb in self._recent:
            self._recent.remove(rgb)
        self._recent.insert(0, rgb)
        del self._recent[RECENT_COUNT:]
        for button, colour in zip(self._recent_buttons, self._recent + [None] * RECENT_COUNT):
            button.setVisible(colour is not None)
            if colour is not None:
                button.setStyleSheet(f"background: rgb{colour}; border: 1px solid #1d1d20; border-radius: 3px;")
                button.setToolTip("#%02x%02x%02x" % colour)

    def _show(self, rgb) -> None:
        colour = QColor(*rgb[:3])
        hue, sat, val, _ = colour.getHsvF()
        if hue >= 0 and sat > 0.0 and val > 0.0:
            self._hue = hue  # greys keep the hue the user had chosen
        self.square.set_hsv(self._hue, sat, val)
        self.hue.set_hue(self._hue)
        self.swatch.setStyleSheet(f"background: {colour.name()}; border: 1px solid #1d1d20; border-radius: 4px;")
        if not self.hex.hasFocus():
            self.hex.setText(colour.name())

    def _from_square(self, sat: float, val: float) -> None:
        colour = QColor.fromHsvF(self._hue, sat, val)
        self._apply(colour, sat, val)

    def _from_hue(self, hue: float) -> None:
        self._hue = hue
        _, sat, val, _ = QColor(*self.controller.color).getHsvF()
        self._apply(QColor.fromHsvF(hue, sat, val), sat, val)

    def _apply(self, colour: QColor, sat: float, val: float) -> None:
        self.controller.set_color((colour.red(), colour.green(), colour.blue()))
        # keep the marker exactly where the user put it, even where RGB rounding would move it
        self.square.set_hsv(self._hue, sat, val)
        self.hue.set_hue(self._hue)

    def _from_hex(self) -> None:
        colour = QColor(self.hex.text().strip())
        if colour.isValid():
            self.set_color((colour.red(), colour.green(), colour.blue()))
        else:
            self.hex.setText(QColor(*self.controller.color).name())

    def _use_recent(self, index: int) -> None:
        if index < len(self._recent):
            self.set_color(self._recent[index])
