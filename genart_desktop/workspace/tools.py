"""Painting tools as a Qt-free controller: pointer input in canvas coordinates becomes document operations.

The canvas widget only translates its events (mouse or tablet) into ``press``/``move``/``release`` calls with canvas
coordinates, pressure and modifier names; everything a tool *does* lives here, so it can be tested without Qt.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable
from enum import Enum

from genart_desktop.core.errors import GenArtError
from genart_desktop.document.brush import BrushSettings
from genart_desktop.document.events import Signal
from genart_desktop.document.geometry import Rect


class Tool(str, Enum):
    BRUSH = "brush"
    ERASER = "eraser"
    PICKER = "picker"
    FILL = "fill"
    SELECT_RECT = "select_rect"
    SELECT_ELLIPSE = "select_ellipse"
    SELECT_LASSO = "select_lasso"
    SELECT_BRUSH = "select_brush"
    MOVE = "move"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def paints(self) -> bool:
        return self in (Tool.BRUSH, Tool.ERASER, Tool.SELECT_BRUSH)

    @property
    def selects(self) -> bool:
        return self.value.startswith("select_")


_LABELS = {
    Tool.BRUSH: "Brush",
    Tool.ERASER: "Eraser",
    Tool.PICKER: "Colour picker",
    Tool.FILL: "Fill",
    Tool.SELECT_RECT: "Rectangle selection",
    Tool.SELECT_ELLIPSE: "Ellipse selection",
    Tool.SELECT_LASSO: "Lasso selection",
    Tool.SELECT_BRUSH: "Brush selection",
    Tool.MOVE: "Move layer",
}

SELECTION_MODES = ("replace", "add", "subtract")


def selection_mode_for(default: str, modifiers: Iterable[str]) -> str:
    """Shift adds to the selection and Alt subtracts from it, as in Krita, GIMP and Photoshop."""
    mods = set(modifiers)
    if "shift" in mods:
        return "add"
    if "alt" in mods:
        return "subtract"
    return default


def drag_rect(x0: float, y0: float, x1: float, y1: float, square: bool = False) -> Rect:
    """The integer pixel rectangle spanned by a drag; ``square`` constrains it to equal sides."""
    if square:
        side = max(abs(x1 - x0), abs(y1 - y0))
        x1 = x0 + math.copysign(side, x1 - x0 or 1.0)
        y1 = y0 + math.copysign(side, y1 - y0 or 1.0)
    left, right = sorted((x0, x1))
    top, bottom = sorted((y0, y1))
    left_i, top_i = int(math.floor(left)), int(math.floor(top))
    return Rect(left_i, top_i, int(math.ceil(right)) - left_i, int(math.ceil(bottom)) - top_i)


@dataclasses.dataclass
class ToolOptions:
    """Everything the tool dock edits; the brush settings are shared by the brush, eraser and brush selection."""

    brush: BrushSettings = dataclasses.field(
        default_factory=lambda: BrushSettings(
            size=24.0, hardness=0.8, opacity=1.0, flow=1.0, spacing=0.1, color=(20, 20, 20),
            pressure_size=True, pressure_opacity=False,
        )
    )
    fill_tolerance: int = 16
    fill_contiguous: bool = True
    sample_merged: bool = True
    selection_mode: str = "replace"
    selection_feather: int = 0


class ToolController:
    """Routes pointer input to the document for the current tool and keeps the transient state of a gesture."""

    def __init__(self, document=None, options: ToolOptions | None = None):
        self.document = document
        self.options = options or ToolOptions()
        self.tool = Tool.BRUSH
        self.color_changed = Signal()  # callback((r, g, b))
        self.options_changed = Signal()  # callback(ToolOptions)
        self.error = Signal()  # callback(message: str)
        self._stroke = None
        self._points: list[tuple[float, float]] = []
        self._start: tuple[float, float] | None = None
        self._last: tuple[float, float] | None = None
        self._modifiers: set[str] = set()
        self._move_index: int | None = None

    # ----------------------------------------------------------------- options
    @property
    def brush(self) -> BrushSettings:
        return self.options.brush

    def set_brush(self, **changes) -> None:
        self.options.brush = dataclasses.replace(self.options.brush, **changes)
        self.options_changed.emit(self.options)

    def set_option(self, **changes) -> None:
        for key, value in changes.items():
            if not hasattr(self.options, key) or key == "brush":
                raise AttributeError(f"Unknown tool option {key!r}")
            setattr(self.options, key, value)
        self.options_changed.emit(self.options)

    @property
    def color(self) -> tuple[int, int, int]:
        return tuple(self.options.brush.color)

    def set_color(self, color: Iterable[int]) -> None:
        rgb = tuple(int(max(0, min(255, c))) for c in list(color)[:3])
        if rgb == self.color:
            return
        self.options.brush = dataclasses.replace(self.options.brush, color=rgb)
        self.color_changed.emit(rgb)

    def set_tool(self, tool: Tool | str) -> None:
        self.cancel()
        self.tool = Tool(tool)

    def set_document(self, document) -> None:
        self.cancel()
        self.document = document

    # ---------------------------------------------------------------- gestures
    @property
    def active(self) -> bool:
        """True between press and release."""
        return self._start is not None

    def press(self, x: float, y: float, pressure: float = 1.0, modifiers: Iterable[str] = ()) -> None:
        if self.document is None:
            return
        self.cancel()
        self._modifiers = set(modifiers)
        self._start = self._last = (x, y)
        self._points = [(x, y)]
        try:
            self._press(x, y, pressure)
        except GenArtError as exc:
            self._abort(str(exc))

    def move(self, x: float, y: float, pressure: float = 1.0, modifiers: Iterable[str] | None = None) -> None:
        if not self.active:
            return
        if modifiers is not None:
            self._modifiers = set(modifiers)
        self._last = (x, y)
        try:
            if self._stroke is not None:
                self._stroke.add_point(float(x), float(y), float(pressure))
            elif self.tool in (Tool.SELECT_LASSO,):
                self._points.append((x, y))
            elif self.tool is Tool.PICKER:
                self._pick(x, y)
        except GenArtError as exc:
            self._abort(str(exc))

    def release(self, x: float, y: float, pressure: float = 1.0, modifiers: Iterable[str] | None = None) -> None:
        if not self.active:
            return
        if modifiers is not None:
            self._modifiers = set(modifiers)
        try:
            if (x, y) != self._last:
                self.move(x, y, pressure)
            if self.active:
                self._release(x, y)
        except GenArtError as exc:
            self.error.emit(str(exc))
        finally:
            self._reset()

    def cancel(self) -> None:
        """Abandon the gesture; a stroke already painted is committed so the pixels and the history agree."""
        if self._stroke is not None:
            stroke, self._stroke = self._stroke, None
            try:
                stroke.end()
            except GenArtError as exc:
                self.error.emit(str(exc))
        self._reset()

    # ------------------------------------------------------------- previews
    def preview(self) -> tuple[str, object] | None:
        """What the view should draw while a gesture runs: ("rect"|"ellipse", Rect), ("lasso"|"path", points),
        ("move", (dx, dy)), or None."""
        if not self.active or self._start is None or self._last is None:
            return None
        (x0, y0), (x1, y1) = self._start, self._last
        if self.tool in (Tool.SELECT_RECT, Tool.SELECT_ELLIPSE):
            rect = drag_rect(x0, y0, x1, y1, square=False)
            return ("rect" if self.tool is Tool.SELECT_RECT else "ellipse", rect)
        if self.tool is Tool.SELECT_LASSO:
            return ("lasso", list(self._points))
        if self.tool is Tool.SELECT_BRUSH:
            return ("path", list(self._points))
        if self.tool is Tool.MOVE and self._move_index is not None:
            return ("move", self.move_offset())
        return None

    def move_offset(self) -> tuple[int, int]:
        if self._start is None or self._last is None:
            return (0, 0)
        return (int(round(self._last[0] - self._start[0])), int(round(self._last[1] - self._start[1])))

    @property
    def moving_layer_index(self) -> int | None:
        return self._move_index if self.active else None

    # ------------------------------------------------------------- internals
    def _press(self, x: float, y: float, pressure: float) -> None:
        doc = self.document
        if self.tool in (Tool.BRUSH, Tool.ERASER):
            self._stroke = doc.begin_stroke(self.options.brush, tool=self.tool.value)
            self._stroke.add_point(float(x), float(y), float(pressure))
        elif self.tool is Tool.SELECT_BRUSH:
            self._stroke = _PointRecorder(self._points)
        elif self.tool is Tool.PICKER:
            self._pick(x, y)
        elif self.tool is Tool.FILL:
            if 0 <= x < doc.width and 0 <= y < doc.height:
                doc.fill(int(x), int(y), self.color, tolerance=self.options.fill_tolerance,
                         contiguous=self.options.fill_contiguous)
            self._reset()
        elif self.tool is Tool.MOVE:
            layer = doc.active_layer
            if getattr(layer, "locked", False):
                self._abort(f"The layer \u201c{layer.name}\u201d is locked.")
                return
            self._move_index = doc.active_index

    def _release(self, x: float, y: float) -> None:
        doc = self.document
        mode = selection_mode_for(self.options.selection_mode, self._modifiers)
        feather = int(self.options.selection_feather)
        if self.tool in (Tool.BRUSH, Tool.ERASER):
            stroke, self._stroke = self._stroke, None
            if stroke is not None:
                stroke.end()
        elif self.tool in (Tool.SELECT_RECT, Tool.SELECT_ELLIPSE):
            x0, y0 = self._start
            rect = drag_rect(x0, y0, x, y, square="ctrl" in self._modifiers)
            if rect.width < 1 or rect.height < 1:
                if mode == "replace" and not doc.selection.is_empty:
                    doc.deselect()  # a click without a drag drops the selection, as in every editor
                return
            if self.tool is Tool.SELECT_RECT:
                doc.select_rect(rect, mode=mode, feather=feather)
            else:
                doc.select_ellipse(rect, mode=mode, feather=feather)
        elif self.tool is Tool.SELECT_LASSO:
            points = _dedupe(self._points + [(x, y)])
            if len(points) >= 3:
                doc.select_polygon(points, mode=mode, feather=feather)
            elif mode == "replace" and not doc.selection.is_empty:
                doc.deselect()
        elif self.tool is Tool.SELECT_BRUSH:
            self._stroke = None
            points = _dedupe(self._points)
            if points:
                radius = max(0.5, float(self.options.brush.size) / 2.0)
                doc.select_brush_stroke(points, radius, mode=mode, feather=feather)
        elif self.tool is Tool.MOVE and self._move_index is not None:
            dx, dy = self.move_offset()
            if dx or dy:
                doc.offset_layer(self._move_index, dx, dy)

    def _pick(self, x: float, y: float) -> None:
        doc = self.document
        if 0 <= x < doc.width and 0 <= y < doc.height:
            r, g, b, a = doc.pick_color(int(x), int(y), sample_merged=self.options.sample_merged)
            if a > 0:
                self.set_color((r, g, b))

    def _abort(self, message: str) -> None:
        self._stroke = None
        self._reset()
        self.error.emit(message)

    def _reset(self) -> None:
        self._stroke = None
        self._start = self._last = None
        self._points = []
        self._move_index = None


class _PointRecorder:
    """Stands in for a stroke while the brush-selection tool collects its path."""

    def __init__(self, points: list[tuple[float, float]]):
        self._points = points

    def add_point(self, x: float, y: float, pressure: float = 1.0) -> None:
        self._points.append((x, y))

    def end(self) -> None:
        pass


def _dedupe(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for point in points:
        if not out or out[-1] != point:
            out.append(point)
    return out
