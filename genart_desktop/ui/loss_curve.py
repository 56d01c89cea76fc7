"""A live loss curve drawn with QPainter (no plotting library: the app ships without matplotlib).

Losses of a training fall over orders of magnitude, so the vertical axis is logarithmic when every value is
positive; the horizontal axis spans the whole run (0..total steps), so the curve grows to the right as it learns.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

COLOURS = ("#8ab4f8", "#f6ae2d", "#81c995", "#f28b82", "#c58af9", "#78d9ec")
MARGIN = 8
LEGEND_H = 16


def _series(points: list[tuple[int, dict[str, float]]]) -> dict[str, list[tuple[int, float]]]:
    series: dict[str, list[tuple[int, float]]] = {}
    for step, losses in points:
        for name, value in losses.items():
            if math.isfinite(value):
                series.setdefault(name, []).append((step, value))
    return series


class LossCurve(QWidget):
    """``set_points(points, total)`` with points ``[(step, {loss name: value})]``; one coloured line per loss."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.points: list[tuple[int, dict[str, float]]] = []
        self.total = 0
        self.setMinimumHeight(110)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setToolTip("Training losses (lower is better; logarithmic scale)")

    def sizeHint(self) -> QSize:
        return QSize(320, 150)

    def set_points(self, points: list[tuple[int, dict[str, float]]], total: int) -> None:
        self.points, self.total = list(points), int(total)
        self.update()

    def series(self) -> dict[str, list[tuple[int, float]]]:
        return _series(self.points)

    def paintEvent(self, _event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor("#1e1f22"))
        plot = QRectF(MARGIN, MARGIN + LEGEND_H, self.width() - 2 * MARGIN, self.height() - 2 * MARGIN - LEGEND_H)
        painter.setPen(QPen(QColor("#3c3f44"), 1))
        painter.drawRect(plot)
        series = self.series()
        if not series or plot.width() < 10 or plot.height() < 10:
            painter.setPen(QColor("#9aa4b2"))
            painter.drawText(plot, Qt.AlignmentFlag.AlignCenter, "The loss curve appears with the first steps")
            return
        values = [value for line in series.values() for _, value in line]
        logarithmic = min(values) > 0
        scale = (lambda v: math.log10(v)) if logarithmic else (lambda v: v)
        low, high = min(map(scale, values)), max(map(scale, values))
        if high - low < 1e-9:
            low, high = low - 0.5, high + 0.5
        last_step = max(step for line in series.values() for step, _ in line)
        span = max(self.total, last_step, 1)

        def at(step: int, value: float) -> QPointF:
            x = plot.left() + plot.width() * step / span
            y = plot.bottom() - plot.height() * (scale(value) - low) / (high - low)
            return QPointF(x, y)

        x = MARGIN
        for index, (name, line) in enumerate(sorted(series.items())):
            colour = QColor(COLOURS[index % len(COLOURS)])
            path = QPainterPath(at(*line[0]))
            for step, value in line[1:]:
                path.lineTo(at(step, value))
            painter.setPen(QPen(colour, 1.6))
            painter.drawPath(path)
            label = f"{name} {line[-1][1]:.3g}"
            painter.drawText(QPointF(x, MARGIN + 11), label)
            x += painter.fontMetrics().horizontalAdvance(label) + 14
