"""The canvas widget: draws the document's composite tile by tile and turns pointer input into tool gestures.

Only the exposed region is drawn; each 256 px tile of the composite is converted to a QImage once and cached until
the document reports a change that touches it. The view transform is zoom, pan (the canvas point shown at the
widget centre) and an optional rotation.
"""

from __future__ import annotations

import math
from collections import OrderedDict

from PySide6.QtCore import QPointF, QRect, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QBrush, QColor, QImage, QPainter, QPainterPath, QPen, QPixmap, QPolygonF, QTransform, QPointingDevice,
)
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QLineEdit, QWidget

from genart_desktop.document.geometry import Rect
from genart_desktop.ui.qimage import rgba_to_qimage
from genart_desktop.ui.theme import CANVAS_BACKGROUND
from genart_desktop.workspace.selection_outline import outline_paths
from genart_desktop.workspace.tools import Tool, ToolController

TILE = 256
MAX_CACHED_TILES = 512
OVERLAY_WHILE_PAINTING = 0.35  # a staged or live preview's opacity while a stroke is being painted
MIN_ZOOM, MAX_ZOOM = 1 / 64, 64.0
ZOOM_LADDER = (1 / 64, 1 / 48, 1 / 32, 1 / 24, 1 / 16, 1 / 12, 1 / 8, 1 / 6, 1 / 4, 1 / 3, 1 / 2, 2 / 3, 1.0,
               1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0, 24.0, 32.0, 48.0, 64.0)


def _modifier_names(modifiers) -> set[str]:
    names = set()
    if modifiers & Qt.KeyboardModifier.ShiftModifier:
        names.add("shift")
    if modifiers & Qt.KeyboardModifier.AltModifier:
        names.add("alt")
    if modifiers & Qt.KeyboardModifier.ControlModifier:
        names.add("ctrl")
    return names


def _checkerboard(cell: int = 8) -> QBrush:
    pixmap = QPixmap(cell * 2, cell * 2)
    pixmap.fill(QColor(204, 204, 204))
    painter = QPainter(pixmap)
    painter.fillRect(0, 0, cell, cell, QColor(153, 153, 153))
    painter.fillRect(cell, cell, cell, cell, QColor(153, 153, 153))
    painter.end()
    return QBrush(pixmap)


class CanvasView(QWidget):
    zoom_changed = Signal(float)
    rotation_changed = Signal(float)
    cursor_moved = Signal(object)  # QPointF in canvas pixels, or None when the pointer leaves
    gesture_finished = Signal()  # a stroke, fill, selection or move was released
    overlay_key = Signal(str)  # "accept", "discard", "previous" or "next" while a staged result is shown

    def __init__(self, controller: ToolController, parent: QWidget | None = None):
        super().__init__(parent)
        self.controller = controller
        self.document = None
        self._zoom = 1.0
        self._rotation = 0.0
        self._center = QPointF(0.0, 0.0)
        self._tiles: OrderedDict[tuple[int, int], QImage] = OrderedDict()
        self._checker = _checkerboard()
        self._ants: QPainterPath | None = None
        self._ants_phase = 0
        self._ants_timer = QTimer(self)
        self._ants_timer.setInterval(180)
        self._ants_timer.timeout.connect(self._march)
        self._pan_from: QPointF | None = None
        self._space_down = False
        self._tablet_down = False
        self._tablet_restore_tool: Tool | None = None
        self._hover: QPointF | None = None
        self._move_image: QImage | None = None
        self._overlay: tuple[QImage, int, int] | None = None  # a staged result previewed in place (not a layer)
        self._overlay_size: tuple[int, int] | None = None  # canvas pixels the overlay is drawn over (scaled)
        self._fit_pending = True
        self.setMouseTracking(True)
        self.setAttribute(Qt.WidgetAttribute.WA_TabletTracking, True)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setMinimumSize(200, 200)

    # ------------------------------------------------------------------ staged-result overlay
    def set_overlay(self, pixels, origin: tuple[int, int] = (0, 0), size: tuple[int, int] | None = None) -> None:
        """Show ``pixels`` (RGBA uint8) over the canvas at ``origin`` (canvas pixels), scaled to ``size`` (width,
        height; a live preview is rendered smaller than its region) when given, until replaced or cleared with
        None; the document is not touched."""
        self._overlay = None if pixels is None else (rgba_to_qimage(pixels), int(origin[0]), int(origin[1]))
        self._overlay_size = None if pixels is None or size is None else (int(size[0]), int(size[1]))
        self.update()

    @property
    def overlay(self) -> tuple[QImage, int, int] | None:
        return self._overlay

    def _paint_overlay(self, painter: QPainter) -> None:
        """The overlay over the painting; see-through while the pen paints, so the stroke shows under a preview."""
        if self._overlay is not None:
            image, x, y = self._overlay
            painter.setOpacity(OVERLAY_WHILE_PAINTING if self.controller.active and self.controller.tool.paints
                               else 1.0)
            if self._overlay_size is None:
                painter.drawImage(QPointF(x, y), image)
            else:
                painter.drawImage(QRectF(x, y, *self._overlay_size), image)
            painter.setOpacity(1.0)

    # ------------------------------------------------------------------ document
    def set_document(self, document) -> None:
        if self.document is not None:
            self.document.changed.disconnect(self._on_document_changed)
        self.document = document
        self._tiles.clear()
        self._ants = None
        if document is not None:
            document.changed.connect(self._on_document_changed)
        self._update_ants_timer()
        self._fit_pending = True
        if self.width() > 0 and self.isVisible():
            self.fit_to_view()
        self.update()

    def _on_document_changed(self, change) -> None:
        kind = change.kind
        if kind in ("pixels", "layers", "document"):
            if change.rect is None or kind == "document":
                self._tiles.clear()
                self.update()
            else:
                self._invalidate(change.rect)
        if kind in ("selection", "document") or (kind == "pixels" and change.rect is None):
            self._ants = None
            self._update_ants_timer()
            self.update()

    def _invalidate(self, rect: Rect) -> None:
        if rect.is_empty():
            return
        tx0, ty0 = rect.x // TILE, rect.y // TILE
        tx1, ty1 = (rect.right - 1) // TILE, (rect.bottom - 1) // TILE
        for key in [k for k in self._tiles if tx0 <= k[0] <= tx1 and ty0 <= k[1] <= ty1]:
            del self._tiles[key]
        self.update(self._widget_rect(rect))

    def _widget_rect(self, rect: Rect) -> QRect:
        mapped = self.canvas_transform().mapRect(QRectF(rect.x, rect.y, rect.width, rect.height))
        return mapped.toAlignedRect().adjusted(-2, -2, 2, 2)

    def _tile(self, tx: int, ty: int) -> QImage:
        key = (tx, ty)
        image = self._tiles.get(key)
        if image is not None:
            self._tiles.move_to_end(key)
            return image
        doc = self.document
        rect = Rect(tx * TILE, ty * TILE, TILE, TILE).clamp(doc.width, doc.height)
        image = rgba_to_qimage(doc.composite(rect))
        self._tiles[key] = image
        while len(self._tiles) > MAX_CACHED_TILES:
            self._tiles.popitem(last=False)
        return image

    @property
    def cached_tile_count(self) -> int:
        return len(self._tiles)

    # ------------------------------------------------------------------ view transform
    @property
    def zoom(self) -> float:
        return self._zoom

    @property
    def rotation(self) -> float:
        return self._rotation

    @property
    def center(self) -> QPointF:
        return QPointF(self._center)

    def canvas_transform(self) -> QTransform:
        transform = QTransform()
        transform.translate(self.width() / 2.0, self.height() / 2.0)
        transform.rotate(self._rotation)
        transform.scale(self._zoom, self._zoom)
        transform.translate(-self._center.x(), -self._center.y())
        return transform

    def map_to_canvas(self, point: QPointF) -> QPointF:
        inverse, _ = self.canvas_transform().inverted()
        return inverse.map(QPointF(point))

    def map_from_canvas(self, x: float, y: float) -> QPointF:
        return self.canvas_transform().map(QPointF(x, y))

    def set_view(self, zoom: float | None = None, center: tuple[float, float] | None = None,
                 rotation: float | None = None) -> None:
        self._fit_pending = False
        if center is not None:
            self._center = QPointF(*center)
        if rotation is not None:
            self._set_rotation(rotation)
        if zoom is not None:
            self._set_zoom(zoom)
        self.update()

    def _set_zoom(self, zoom: float) -> None:
        zoom = min(MAX_ZOOM, max(MIN_ZOOM, float(zoom)))
        if zoom != self._zoom:
            self._zoom = zoom
            self.zoom_changed.emit(zoom)

    def _set_rotation(self, degrees: float) -> None:
        degrees = ((float(degrees) + 180.0) % 360.0) - 180.0
        if degrees != self._rotation:
            self._rotation = degrees
            self.rotation_changed.emit(degrees)

    def zoom_to(self, zoom: float, anchor: QPointF | None = None) -> None:
        """Zoom keeping the canvas point under ``anchor`` (widget coordinates; default the centre) in place."""
        self._fit_pending = False
        anchor = QPointF(self.width() / 2.0, self.height() / 2.0) if anchor is None else QPointF(anchor)
        before = self.map_to_canvas(anchor)
        self._set_zoom(zoom)
        after = self.map_to_canvas(anchor)
        self._center += before - after
        self.update()

    def zoom_in(self, anchor: QPointF | None = None) -> None:
        bigger = [z for z in ZOOM_LADDER if z > self._zoom * 1.001]
        self.zoom_to(bigger[0] if bigger else MAX_ZOOM, anchor)

    def zoom_out(self, anchor: QPointF | None = None) -> None:
        smaller = [z for z in ZOOM_LADDER if z < self._zoom / 1.001]
        self.zoom_to(smaller[-1] if smaller else MIN_ZOOM, anchor)

    def actual_pixels(self) -> None:
        self.zoom_to(1.0)

    def fit_to_view(self) -> None:
        """Show the whole canvas (in its current rotation) with a small margin."""
        self._fit_pending = False
        if self.document is None:
            return
        w, h = self.document.width, self.document.height
        angle = math.radians(self._rotation)
        bound_w = abs(w * math.cos(angle)) + abs(h * math.sin(angle))
        bound_h = abs(w * math.sin(angle)) + abs(h * math.cos(angle))
        margin = 24
        zoom = min(max(1, self.width() - 2 * margin) / bound_w, max(1, self.height() - 2 * margin) / bound_h)
        self._center = QPointF(w / 2.0, h / 2.0)
        self._set_zoom(zoom)
        self.update()

    def rotate_by(self, degrees: float) -> None:
        self._fit_pending = False
        self._set_rotation(self._rotation + degrees)
        self.update()

    def reset_rotation(self) -> None:
        self._set_rotation(0.0)
        self.update()

    def pan_by(self, dx: float, dy: float) -> None:
        """Move the picture by (dx, dy) widget pixels."""
        self._fit_pending = False
        origin = self.map_to_canvas(QPointF(0, 0))
        moved = self.map_to_canvas(QPointF(dx, dy))
        self._center -= moved - origin
        self.update()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self._fit_pending and self.document is not None:
            self.fit_to_view()

    # ------------------------------------------------------------------ painting
    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        exposed = event.rect()
        painter.fillRect(exposed, CANVAS_BACKGROUND)
        doc = self.document
        if doc is None:
            painter.end()
            return
        transform = self.canvas_transform()
        canvas_rect = QRectF(0, 0, doc.width, doc.height)
        outline = transform.map(QPolygonF(canvas_rect))
        # a soft drop shadow and the checkerboard that shows through transparent pixels (screen-space cells)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, self._rotation != 0.0)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(0, 0, 0, 70))
        painter.drawPolygon(outline.translated(3, 4))
        clip = QPainterPath()
        clip.addPolygon(outline)
        painter.save()
        painter.setClipPath(clip)
        painter.fillRect(exposed, self._checker)
        painter.restore()

        inverse, _ = transform.inverted()
        visible = inverse.mapRect(QRectF(exposed)).adjusted(-1, -1, 1, 1)
        region = Rect.from_bounds(visible.left(), visible.top(), visible.right(), visible.bottom()).clamp(
            doc.width, doc.height)
        painter.setTransform(transform)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self._zoom < 2.0)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        if not region.is_empty():
            for ty in range(region.y // TILE, (region.bottom - 1) // TILE + 1):
                for tx in range(region.x // TILE, (region.right - 1) // TILE + 1):
                    image = self._tile(tx, ty)
                    # a hair of overlap hides seams between tiles at fractional zoom levels
                    target = QRectF(tx * TILE, ty * TILE, image.width(), image.height())
                    if self._zoom != 1.0 or self._rotation != 0.0:
                        target.adjust(0, 0, 0.5 / self._zoom, 0.5 / self._zoom)
                    painter.drawImage(target, image)
        self._paint_move_preview(painter)
        self._paint_overlay(painter)
        self._paint_selection(painter, transform)
        painter.resetTransform()
        self._paint_gesture(painter, transform)
        self._paint_brush_outline(painter)
        painter.end()

    def _paint_move_preview(self, painter: QPainter) -> None:
        preview = self.controller.preview()
        if self._move_image is None or not preview or preview[0] != "move":
            return
        dx, dy = preview[1]
        painter.setOpacity(0.85)
        painter.drawImage(QPointF(dx, dy), self._move_image)
        painter.setOpacity(1.0)
        pen = QPen(QColor(74, 144, 226), 0, Qt.PenStyle.DashLine)
        pen.setCosmetic(True)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(QRectF(dx, dy, self._move_image.width(), self._move_image.height()))

    def _selection_path(self) -> QPainterPath:
        if self._ants is None:
            path = QPainterPath()
            doc = self.document
            if doc is not None and not doc.selection.is_empty:
                for points in outline_paths(doc.selection.mask):
                    path.moveTo(*points[0])
                    for point in points[1:]:
                        path.lineTo(*point)
            self._ants = path
        return self._ants

    def _paint_selection(self, painter: QPainter, transform: QTransform) -> None:
        path = self._selection_path()
        if path.isEmpty():
            return
        painter.setBrush(Qt.BrushStyle.NoBrush)
        white = QPen(QColor(255, 255, 255), 0)
        white.setCosmetic(True)
        painter.setPen(white)
        painter.drawPath(path)
        black = QPen(QColor(0, 0, 0), 0, Qt.PenStyle.CustomDashLine)
        black.setCosmetic(True)
        black.setDashPattern([4, 4])
        black.setDashOffset(self._ants_phase)
        painter.setPen(black)
        painter.drawPath(path)

    def _paint_gesture(self, painter: QPainter, transform: QTransform) -> None:
        preview = self.controller.preview()
        if not preview:
            return
        kind, data = preview
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setBrush(QColor(74, 144, 226, 40))
        pens = (QPen(QColor(255, 255, 255), 1.0), QPen(QColor(20, 20, 20), 1.0, Qt.PenStyle.DashLine))
        for pen in pens:
            painter.setPen(pen)
            if kind in ("rect", "ellipse"):
                polygon = transform.map(QPolygonF(QRectF(data.x, data.y, data.width, data.height)))
                if kind == "rect":
                    painter.drawPolygon(polygon)
                else:
                    path = QPainterPath()
                    path.addEllipse(QRectF(data.x, data.y, data.width, data.height))
                    painter.drawPath(transform.map(path))
            elif kind == "lasso" and len(data) > 1:
                painter.drawPolygon(QPolygonF([transform.map(QPointF(x, y)) for x, y in data]))
            painter.setBrush(Qt.BrushStyle.NoBrush)
        if kind == "path" and data:
            width = max(1.0, self.controller.brush.size * self._zoom)
            pen = QPen(QColor(74, 144, 226, 110), width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                       Qt.PenJoinStyle.RoundJoin)
            painter.setPen(pen)
            points = [transform.map(QPointF(x, y)) for x, y in data]
            if len(points) == 1:
                painter.drawPoint(points[0])
            else:
                painter.drawPolyline(QPolygonF(points))

    def _paint_brush_outline(self, painter: QPainter) -> None:
        if self._hover is None or not self.controller.tool.paints or self._pan_from is not None:
            return
        radius = self.controller.brush.size * self._zoom / 2.0
        if radius < 2:
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(QColor(0, 0, 0, 160), 1.0))
        painter.drawEllipse(self._hover, radius + 1, radius + 1)
        painter.setPen(QPen(QColor(255, 255, 255, 200), 1.0))
        painter.drawEllipse(self._hover, radius, radius)

    def _update_ants_timer(self) -> None:
        has_selection = self.document is not None and not self.document.selection.is_empty
        if has_selection and not self._ants_timer.isActive():
            self._ants_timer.start()
        elif not has_selection:
            self._ants_timer.stop()

    def _march(self) -> None:
        self._ants_phase = (self._ants_phase + 1) % 8
        bounds = self.document.selection.bounds() if self.document is not None else None
        if bounds is not None:
            self.update(self._widget_rect(bounds))

    # ------------------------------------------------------------------ input: shared
    def _canvas_xy(self, position: QPointF) -> tuple[float, float]:
        point = self.map_to_canvas(position)
        return point.x(), point.y()

    def _set_hover(self, position: QPointF | None) -> None:
        old = self._hover
        self._hover = None if position is None else QPointF(position)
        if self.controller.tool.paints:
            radius = int(self.controller.brush.size * self._zoom / 2.0) + 4
            for point in (old, self._hover):
                if point is not None:
                    self.update(QRect(int(point.x()) - radius, int(point.y()) - radius, 2 * radius, 2 * radius))
        self.cursor_moved.emit(None if position is None else self.map_to_canvas(position))

    def _begin_gesture(self, position: QPointF, pressure: float, modifiers) -> None:
        x, y = self._canvas_xy(position)
        self.controller.press(x, y, pressure, _modifier_names(modifiers))
        if self.controller.tool is Tool.MOVE and self.controller.active and self.document is not None:
            self._move_image = rgba_to_qimage(self.document.active_layer.pixels)
        self.update()
        if not self.controller.active:
            self.gesture_finished.emit()  # one-click tools (fill) are done on press

    def _continue_gesture(self, position: QPointF, pressure: float, modifiers) -> None:
        x, y = self._canvas_xy(position)
        self.controller.move(x, y, pressure, _modifier_names(modifiers))
        if not self.controller.tool.paints or self.controller.tool is Tool.SELECT_BRUSH:
            self.update()

    def _end_gesture(self, position: QPointF, pressure: float, modifiers) -> None:
        x, y = self._canvas_xy(position)
        self.controller.release(x, y, pressure, _modifier_names(modifiers))
        self._move_image = None
        self.update()
        self.gesture_finished.emit()

    def _start_pan(self, position: QPointF) -> None:
        self._pan_from = QPointF(position)
        self.setCursor(Qt.CursorShape.ClosedHandCursor)

    def _end_pan(self) -> None:
        self._pan_from = None
        self.setCursor(Qt.CursorShape.OpenHandCursor if self._space_down else Qt.CursorShape.CrossCursor)

    def _drag_pan(self, position: QPointF) -> None:
        delta = position - self._pan_from
        self._pan_from = QPointF(position)
        self.pan_by(delta.x(), delta.y())

    # ------------------------------------------------------------------ input: mouse
    def mousePressEvent(self, event) -> None:
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        if self._tablet_down:
            event.accept()
            return
        button = event.button()
        if button == Qt.MouseButton.MiddleButton or (button == Qt.MouseButton.LeftButton and self._space_down):
            self._start_pan(event.position())
        elif button == Qt.MouseButton.LeftButton and not self.controller.active:
            self._begin_gesture(event.position(), 1.0, event.modifiers())
        event.accept()

    def mouseMoveEvent(self, event) -> None:
        if self._tablet_down:
            event.accept()
            return
        if self._pan_from is not None:
            self._drag_pan(event.position())
        elif self.controller.active:
            self._continue_gesture(event.position(), 1.0, event.modifiers())
        self._set_hover(event.position())
        event.accept()

    def mouseReleaseEvent(self, event) -> None:
        if self._tablet_down:
            event.accept()
            return
        if self._pan_from is not None and event.button() in (Qt.MouseButton.MiddleButton, Qt.MouseButton.LeftButton):
            self._end_pan()
        elif event.button() == Qt.MouseButton.LeftButton and self.controller.active:
            self._end_gesture(event.position(), 1.0, event.modifiers())
        event.accept()

    def enterEvent(self, event) -> None:
        """Take the keyboard focus (so Space-drag pans at once) unless the user is typing in a field."""
        focused = QApplication.focusWidget()
        if not isinstance(focused, (QLineEdit, QAbstractSpinBox)):
            self.setFocus(Qt.FocusReason.MouseFocusReason)
        super().enterEvent(event)

    def leaveEvent(self, event) -> None:
        self._set_hover(None)
        super().leaveEvent(event)

    def wheelEvent(self, event) -> None:
        delta = event.angleDelta().y() or event.angleDelta().x()
        if not delta:
            return
        if event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            self.rotate_by(15.0 if delta > 0 else -15.0)
        else:
            self.zoom_to(self._zoom * (1.25 ** (delta / 120.0)), event.position())
        event.accept()

    # ------------------------------------------------------------------ input: tablet
    def tabletEvent(self, event) -> None:
        """Pen input with pressure. Accepting the event stops Qt from also sending it as a mouse event."""
        kind = event.type()
        position = event.position()
        pressure = float(event.pressure()) if event.pointingDevice() is not None else 1.0
        pressure = min(1.0, max(0.0, pressure))
        if kind == event.Type.TabletPress:
            self.setFocus(Qt.FocusReason.MouseFocusReason)
            self._tablet_down = True
            if self._space_down or event.button() == Qt.MouseButton.MiddleButton:
                self._start_pan(position)
            elif not self.controller.active:
                device = event.pointingDevice()
                if device is not None and device.pointerType() == QPointingDevice.PointerType.Eraser \
                        and self.controller.tool is Tool.BRUSH:
                    self._tablet_restore_tool = self.controller.tool  # the pen's eraser end erases
                    self.controller.set_tool(Tool.ERASER)
                self._begin_gesture(position, pressure, event.modifiers())
        elif kind == event.Type.TabletMove:
            if self._pan_from is not None:
                self._drag_pan(position)
            elif self._tablet_down and self.controller.active:
                self._continue_gesture(position, pressure, event.modifiers())
            self._set_hover(position)
        elif kind == event.Type.TabletRelease:
            if self._pan_from is not None:
                self._end_pan()
            elif self.controller.active:
                self._end_gesture(position, pressure, event.modifiers())
            self._tablet_down = False
            if self._tablet_restore_tool is not None:
                self.controller.set_tool(self._tablet_restore_tool)
                self._tablet_restore_tool = None
        event.accept()

    # ------------------------------------------------------------------ input: keys
    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_down = True
            if self._pan_from is None:
                self.setCursor(Qt.CursorShape.OpenHandCursor)
            event.accept()
            return
        staging = {Qt.Key.Key_Return: "accept", Qt.Key.Key_Enter: "accept", Qt.Key.Key_Escape: "discard",
                   Qt.Key.Key_Left: "previous", Qt.Key.Key_Right: "next"}
        if self._overlay is not None and event.key() in staging and not self.controller.active:
            self.overlay_key.emit(staging[event.key()])
            event.accept()
            return
        if event.key() == Qt.Key.Key_Escape and self.controller.active:
            self.controller.cancel()
            self._move_image = None
            self.update()
            event.accept()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_down = False
            if self._pan_from is None:
                self.setCursor(Qt.CursorShape.CrossCursor)
            event.accept()
            return
        super().keyReleaseEvent(event)
