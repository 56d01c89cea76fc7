"""The document: a canvas size, a stack of layers, a selection and an undo history, with change events for views.

Every edit goes through a :mod:`commands` object recorded in :attr:`Document.history`; views listen to
:attr:`Document.changed` and read :meth:`Document.composite`, which is cached per tile.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from genart_desktop.core.errors import InputError
from genart_desktop.core.images import MAX_IMAGE_PIXELS, MAX_IMAGE_SIDE, check_pixel_image
from genart_desktop.document.blend import composite_layers
from genart_desktop.document.brush import BrushSettings
from genart_desktop.document.commands import (
    InsertLayerCommand,
    LayerPropertyCommand,
    MoveLayerCommand,
    PixelCommand,
    RemoveLayerCommand,
    SelectionCommand,
    patch_between,
)
from genart_desktop.document.composite import Compositor
from genart_desktop.document.events import DocumentChange, Signal
from genart_desktop.document.fill import fill_region
from genart_desktop.document.geometry import Rect
from genart_desktop.document.history import CompoundCommand, History, TilePatch
from genart_desktop.document.layer import Layer, check_blend_mode, check_opacity
from genart_desktop.document.regions import PromptRegions
from genart_desktop.document import selection as sel
from genart_desktop.document.stroke import TOOLS, Stroke

PROPERTY_NAMES = ("name", "opacity", "visible", "blend_mode", "locked")


def check_canvas_size(width: int, height: int) -> tuple[int, int]:
    try:
        w, h = int(width), int(height)
    except (TypeError, ValueError) as exc:
        raise InputError(f"Canvas size must be whole numbers, got {width!r} x {height!r}.") from exc
    if w < 1 or h < 1 or w > MAX_IMAGE_SIDE or h > MAX_IMAGE_SIDE or w * h > MAX_IMAGE_PIXELS:
        raise InputError(f"Canvas size {w}x{h} is outside 1..{MAX_IMAGE_SIDE} px per side.")
    return w, h


class Document:
    def __init__(self, width: int, height: int, background: tuple[int, ...] | None = (255, 255, 255, 255),
                 max_undo_bytes: int | None = None) -> None:
        self._width, self._height = check_canvas_size(width, height)
        pixels = np.zeros((self._height, self._width, 4), np.uint8)
        if background is not None:
            color = tuple(int(c) for c in background)
            pixels[...] = (color + (255,))[:4] if len(color) == 3 else color[:4]
        self._layers: list[Layer] = [Layer("Background" if background is not None else "Layer 1", pixels)]
        self._active = 0
        self.selection = sel.Selection(self._width, self._height)
        self.regions = PromptRegions(self._width, self._height, self._push)  # regional prompts (undo steps)
        self.regions.changed.connect(self._regions_edited)
        self.history = History(max_undo_bytes)
        self.path: Path | None = None
        self.metadata: dict[str, Any] = {}
        self.changed = Signal()
        self._compositor = Compositor(self._width, self._height, lambda: self._layers)
        self._stroke: Stroke | None = None
        self._clean_id = self.history.top_id
        self._force_dirty = False
        self._layer_counter = 1
        self.history.changed.connect(lambda: self._emit("history", None))

    @classmethod
    def from_layers(cls, width: int, height: int, layers: Sequence[Layer], metadata: dict[str, Any] | None = None,
                    max_undo_bytes: int | None = None) -> Document:
        """A document holding ``layers`` (bottom first) with an empty history: how files are opened."""
        doc = cls(width, height, None, max_undo_bytes)
        if not layers:
            raise InputError("A document needs at least one layer.")
        for layer in layers:
            if layer.pixels.shape != (doc.height, doc.width, 4):
                raise InputError(f"Layer {layer.name!r} is {layer.width}x{layer.height}, not the canvas size.")
        doc._layers = list(layers)
        doc._active = len(doc._layers) - 1
        doc._layer_counter = len(doc._layers)
        doc.metadata = dict(metadata or {})
        doc._compositor.invalidate()
        return doc

    # -- properties ------------------------------------------------------------------------------------------------
    @property
    def width(self) -> int:
        return self._width

    @property
    def height(self) -> int:
        return self._height

    @property
    def rect(self) -> Rect:
        return Rect(0, 0, self._width, self._height)

    @property
    def layers(self) -> list[Layer]:
        """The layer stack, bottom first. A copy of the list: change it through the document's methods."""
        return list(self._layers)

    @property
    def active_index(self) -> int:
        return self._active

    @property
    def active_layer(self) -> Layer:
        return self._layers[self._active]

    @property
    def dirty(self) -> bool:
        return self._force_dirty or self.history.top_id != self._clean_id

    @dirty.setter
    def dirty(self, value: bool) -> None:
        if value:
            self._force_dirty = True
        else:
            self.mark_clean()
        self._emit("document", None)

    def mark_clean(self) -> None:
        """Called after a save or load: the current state is what is on disk."""
        self._clean_id = self.history.top_id
        self._force_dirty = False

    @property
    def is_painting(self) -> bool:
        return self._stroke is not None

    # -- events ----------------------------------------------------------------------------------------------------
    def _emit(self, kind: str, rect: Rect | None) -> None:
        if kind in ("pixels", "layers", "document"):
            self._compositor.invalidate(rect)
        self.changed.emit(DocumentChange(kind, rect))

    def _regions_edited(self) -> None:
        self._emit("regions", None)

    def _pixels_changed(self, rect: Rect | None) -> None:
        if rect is not None and rect.is_empty():
            return
        self._emit("pixels", rect)

    def _layers_changed(self) -> None:
        self._emit("layers", None)

    def _set_active_silently(self, index: int) -> None:
        self._active = max(0, min(int(index), len(self._layers) - 1))

    # -- compositing -----------------------------------------------------------------------------------------------
    def composite(self, rect: Rect | None = None) -> np.ndarray:
        return self._compositor.composite(rect)

    # -- history ---------------------------------------------------------------------------------------------------
    def undo(self) -> bool:
        self._finish_stroke()
        return self.history.undo()

    def redo(self) -> bool:
        self._finish_stroke()
        return self.history.redo()

    @property
    def can_undo(self) -> bool:
        return self.history.can_undo

    @property
    def can_redo(self) -> bool:
        return self.history.can_redo

    def _finish_stroke(self) -> None:
        if self._stroke is not None:
            self._stroke.end()

    def _stroke_finished(self, stroke: Stroke) -> None:
        if self._stroke is stroke:
            self._stroke = None

    def _push(self, command: Any) -> None:
        self.history.push(command, apply=True)

    # -- layers ----------------------------------------------------------------------------------------------------
    def _index(self, index: int) -> int:
        if not isinstance(index, (int, np.integer)) or not 0 <= int(index) < len(self._layers):
            raise InputError(f"There is no layer {index!r} (the document has {len(self._layers)}).")
        return int(index)

    def _editable(self, index: int) -> Layer:
        layer = self._layers[self._index(index)]
        if layer.locked:
            raise InputError(f"Layer {layer.name!r} is locked; unlock it to change its pixels.")
        return layer

    def _next_name(self) -> str:
        self._layer_counter += 1
        names = {layer.name for layer in self._layers}
        while f"Layer {self._layer_counter}" in names:
            self._layer_counter += 1
        return f"Layer {self._layer_counter}"

    def _canvas_pixels(self, pixels: np.ndarray | None, origin: tuple[int, int] = (0, 0)) -> np.ndarray:
        """``pixels`` (RGB or RGBA, any size) placed at ``origin`` on a transparent canvas-sized layer."""
        canvas = np.zeros((self._height, self._width, 4), np.uint8)
        if pixels is None:
            return canvas
        check_pixel_image(pixels)
        if pixels.shape[2] == 3:
            pixels = np.dstack([pixels, np.full(pixels.shape[:2], 255, np.uint8)])
        ox, oy = int(origin[0]), int(origin[1])
        target = Rect(ox, oy, pixels.shape[1], pixels.shape[0])
        inside = target.clamp(self._width, self._height)
        if not inside.is_empty():
            canvas[inside.slices()] = pixels[inside.translated(-ox, -oy).slices()]
        return canvas

    def add_layer(self, name: str | None = None, pixels: np.ndarray | None = None, index: int | None = None,
                  origin: tuple[int, int] = (0, 0)) -> Layer:
        """A new layer (transparent, or holding ``pixels`` at ``origin``) at ``index`` (default: above the active
        one); it becomes the active layer."""
        self._finish_stroke()
        position = self._active + 1 if index is None else int(index)
        if not 0 <= position <= len(self._layers):
            raise InputError(f"Cannot insert a layer at position {index}.")
        layer = Layer(name or self._next_name(), self._canvas_pixels(pixels, origin))
        self._push(InsertLayerCommand(self, layer, position, "Add Layer" if pixels is None else "Paste Layer"))
        return layer

    def duplicate_layer(self, index: int) -> Layer:
        self._finish_stroke()
        source = self._layers[self._index(index)]
        copy = source.copy(f"{source.name} copy")
        copy.locked = False
        self._push(InsertLayerCommand(self, copy, int(index) + 1, "Duplicate Layer"))
        return copy

    def remove_layer(self, index: int) -> None:
        self._finish_stroke()
        self._index(index)
        if len(self._layers) == 1:
            raise InputError("A document needs at least one layer; add another before deleting this one.")
        self._push(RemoveLayerCommand(self, int(index)))

    def move_layer(self, src: int, dst: int) -> None:
        """Move the layer at ``src`` so that it ends up at index ``dst``."""
        self._finish_stroke()
        self._index(src)
        self._index(dst)
        if src != dst:
            self._push(MoveLayerCommand(self, int(src), int(dst)))

    def merge_down(self, index: int) -> None:
        """Flatten the layer at ``index`` into the one below it, keeping the lower layer's properties."""
        self._finish_stroke()
        index = self._index(index)
        if index == 0:
            raise InputError("The bottom layer has nothing below it to merge into.")
        upper = self._layers[index]
        lower = self._editable(index - 1)
        if upper.visible:
            merged = composite_layers([(lower.pixels, 1.0, "normal"), (upper.pixels, upper.opacity,
                                                                         upper.blend_mode)], (self._height, self._width))
        else:
            merged = lower.pixels
        patch = patch_between(lower.pixels, merged)
        commands = [RemoveLayerCommand(self, index, "Remove Merged Layer")]
        if not patch.is_empty:
            commands.insert(0, PixelCommand(self, lower, patch, "Merge Pixels"))
        self._push(CompoundCommand("Merge Down", commands))
        self._set_active_silently(index - 1)
        self._emit("active", None)

    def set_layer_property(self, index: int, **values: Any) -> None:
        """Change one or more of ``name``, ``opacity``, ``visible``, ``blend_mode``, ``locked`` as one step."""
        self._finish_stroke()
        layer = self._layers[self._index(index)]
        unknown = set(values) - set(PROPERTY_NAMES)
        if unknown:
            raise InputError(f"Unknown layer properties: {', '.join(sorted(unknown))}.")
        clean: dict[str, Any] = {}
        for key, value in values.items():
            if key == "name":
                value = str(value).strip()
                if not value:
                    raise InputError("A layer name cannot be empty.")
            elif key == "opacity":
                value = check_opacity(value)
            elif key == "blend_mode":
                value = check_blend_mode(value)
            else:
                value = bool(value)
            if getattr(layer, key) != value:
                clean[key] = value
        if not clean:
            return
        before = {key: getattr(layer, key) for key in clean}
        text = {"name": "Rename Layer", "opacity": "Layer Opacity", "visible": "Layer Visibility",
                "blend_mode": "Blend Mode", "locked": "Lock Layer"}[next(iter(clean))] if len(clean) == 1 \
            else "Layer Properties"
        self._push(LayerPropertyCommand(self, layer, before, clean, text))

    def set_active(self, index: int) -> None:
        index = self._index(index)
        if index != self._active:
            self._finish_stroke()
            self._active = index
            self._emit("active", None)

    def offset_layer(self, index: int, dx: int, dy: int) -> None:
        """Move a layer's content by whole pixels (the move tool); content pushed off the canvas is cut."""
        self._finish_stroke()
        layer = self._editable(index)
        dx, dy = int(round(dx)), int(round(dy))
        if dx == 0 and dy == 0:
            return
        moved = np.zeros_like(layer.pixels)
        src = self.rect.intersect(self.rect.translated(-dx, -dy))
        if not src.is_empty():
            moved[src.translated(dx, dy).slices()] = layer.pixels[src.slices()]
        self._apply_pixels(layer, moved, "Move Layer")

    def _apply_pixels(self, layer: Layer, new_pixels: np.ndarray, text: str) -> bool:
        patch = patch_between(layer.pixels, new_pixels)
        if patch.is_empty:
            return False
        self._push(PixelCommand(self, layer, patch, text))
        return True

    def _apply_region(self, layer: Layer, rect: Rect, region: np.ndarray, text: str) -> bool:
        """Record and apply new pixels for ``rect`` of ``layer``."""
        patch = TilePatch.from_region(layer.pixels[rect.slices()], region, (rect.x, rect.y))
        if patch.is_empty:
            return False
        self._push(PixelCommand(self, layer, patch, text))
        return True

    def add_result_layer(self, pixels: np.ndarray, name: str, metadata: dict[str, Any] | None = None,
                         use_selection: bool = True, origin: tuple[int, int] | None = None) -> Layer:
        """Land an AI result: a new layer above the active one, cut to the (feathered) selection, one undo step."""
        self._finish_stroke()
        check_pixel_image(pixels)
        if origin is None and (pixels.shape[0], pixels.shape[1]) != (self._height, self._width):
            raise InputError(f"The result is {pixels.shape[1]}x{pixels.shape[0]} but the canvas is "
                             f"{self._width}x{self._height}; give an origin to place a smaller image.")
        canvas = self._canvas_pixels(pixels, origin or (0, 0))
        if use_selection and not self.selection.is_empty:
            alpha = canvas[..., 3].astype(np.uint32) * self.selection._raw()
            canvas[..., 3] = ((alpha + 127) // 255).astype(np.uint8)
        layer = Layer(str(name) or self._next_name(), canvas, metadata=dict(metadata or {}))
        self._push(InsertLayerCommand(self, layer, self._active + 1, f"Add {layer.name}"))
        return layer

    # -- painting --------------------------------------------------------------------------------------------------
    def begin_stroke(self, brush: BrushSettings, tool: str = "brush") -> Stroke:
        if tool not in TOOLS:
            raise InputError(f"Unknown painting tool {tool!r}; use 'brush' or 'eraser'.")
        self._finish_stroke()
        layer = self._editable(self._active)
        self._stroke = Stroke(self, layer, brush, tool)
        return self._stroke

    def fill(self, x: float, y: float, color: Sequence[int], tolerance: int = 0, contiguous: bool = True) -> bool:
        """Bucket fill on the active layer from ``(x, y)``, limited by the selection; False when nothing changed."""
        self._finish_stroke()
        layer = self._editable(self._active)
        ix, iy = int(np.floor(x)), int(np.floor(y))
        if not self.rect.contains(ix, iy):
            return False
        rgba = tuple(int(c) for c in color)
        if len(rgba) == 3:
            rgba += (255,)
        if len(rgba) != 4 or any(not 0 <= c <= 255 for c in rgba):
            raise InputError(f"Fill colour must be RGB or RGBA values from 0 to 255, got {tuple(color)!r}.")
        if not 0 <= int(tolerance) <= 255:
            raise InputError(f"Fill tolerance must be from 0 to 255, got {tolerance}.")
        region = fill_region(layer.pixels, ix, iy, int(tolerance), contiguous)
        coverage = region.astype(np.float32)
        if not self.selection.is_empty:
            coverage *= self.selection._raw() * np.float32(1.0 / 255.0)
        bounds = sel.mask_bounds(coverage > 0)
        if bounds is None:
            return False
        sl = bounds.slices()
        original = layer.pixels[sl]
        alpha = coverage[sl] * np.float32(rgba[3] / 255.0)
        oa = original[..., 3] * np.float32(1.0 / 255.0)
        keep = oa * (1.0 - alpha)
        new_a = alpha + keep
        safe = np.where(new_a > 0, new_a, 1.0)
        rgb = original[..., :3] * (keep / safe)[..., None] + np.asarray(rgba[:3], np.float32) * (alpha / safe)[..., None]
        out = np.empty_like(original)
        out[..., :3] = np.clip(np.rint(rgb), 0, 255)
        out[..., 3] = np.clip(np.rint(new_a * 255.0), 0, 255)
        return self._apply_region(layer, bounds, out, "Fill")

    def pick_color(self, x: float, y: float, sample_merged: bool = True) -> tuple[int, int, int, int]:
        ix, iy = int(np.floor(x)), int(np.floor(y))
        if not self.rect.contains(ix, iy):
            return (0, 0, 0, 0)
        if sample_merged:
            px = self.composite(Rect(ix, iy, 1, 1))[0, 0]
        else:
            px = self.active_layer.pixels[iy, ix]
        return tuple(int(c) for c in px)  # type: ignore[return-value]

    # -- selection -------------------------------------------------------------------------------------------------
    def _set_selection(self, new_mask: np.ndarray, text: str) -> bool:
        self._finish_stroke()
        patch = patch_between(self.selection._raw(), new_mask)
        if patch.is_empty:
            return False
        self._push(SelectionCommand(self, patch, text))
        return True

    def _select_shape(self, shape: np.ndarray, mode: str, feather: float, text: str) -> bool:
        sel.check_mode(mode)
        if feather and feather > 0:
            shape = sel.feather(shape, float(feather))
        return self._set_selection(sel.combine(self.selection._raw(), shape, mode), text)

    def select_rect(self, rect: Rect, mode: str = "replace", feather: float = 0) -> bool:
        return self._select_shape(sel.rect_mask(self._width, self._height, rect), mode, feather, "Select Rectangle")

    def select_ellipse(self, rect: Rect, mode: str = "replace", feather: float = 0) -> bool:
        return self._select_shape(sel.ellipse_mask(self._width, self._height, rect), mode, feather, "Select Ellipse")

    def select_polygon(self, points: Sequence[tuple[float, float]], mode: str = "replace", feather: float = 0) -> bool:
        return self._select_shape(sel.polygon_mask(self._width, self._height, points), mode, feather, "Lasso Select")

    def select_brush_stroke(self, points: Sequence[tuple[float, float]], radius: float, mode: str = "add",
                            feather: float = 0) -> bool:
        return self._select_shape(sel.stroke_mask(self._width, self._height, points, radius), mode, feather,
                                  "Brush Select")

    def select_all(self) -> bool:
        return self._set_selection(np.full((self._height, self._width), 255, np.uint8), "Select All")

    def deselect(self) -> bool:
        return self._set_selection(np.zeros((self._height, self._width), np.uint8), "Deselect")

    def invert_selection(self) -> bool:
        return self._set_selection(255 - self.selection._raw(), "Invert Selection")

    def feather_selection(self, radius: float) -> bool:
        return self._set_selection(sel.feather(self.selection._raw(), float(radius)), "Feather Selection")
