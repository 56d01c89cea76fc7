"""The document's undoable commands. Each one keeps only what it needs to go both ways and announces its change."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from genart_desktop.document.geometry import Rect
from genart_desktop.document.history import Command, TilePatch
from genart_desktop.document.layer import Layer
from genart_desktop.document.selection import mask_bounds

if TYPE_CHECKING:
    from genart_desktop.document.document import Document
    from genart_desktop.document.regions import PromptRegion, PromptRegions


def diff_bounds(before: np.ndarray, after: np.ndarray) -> Rect | None:
    """The bounding box of the pixels that differ between two same-shaped arrays."""
    changed = before != after
    if changed.ndim == 3:
        changed = changed.any(axis=2)
    return mask_bounds(changed)


def patch_between(before: np.ndarray, after: np.ndarray) -> TilePatch:
    """A tile patch of the whole-array difference, diffed only inside the changed bounding box."""
    bounds = diff_bounds(before, after)
    if bounds is None:
        return TilePatch([], tuple(before.shape[2:]))
    sl = bounds.slices()
    return TilePatch.from_region(before[sl], after[sl], (bounds.x, bounds.y))


class PixelCommand(Command):
    """A change to one layer's pixels (stroke, fill, paste, move, merge), stored as tile patches."""

    def __init__(self, doc: Document, layer: Layer, patch: TilePatch, text: str) -> None:
        super().__init__()
        self.doc, self.layer, self.patch, self.text = doc, layer, patch, text

    def redo(self) -> None:
        self.doc._pixels_changed(self.patch.apply(self.layer.pixels, "after"))

    def undo(self) -> None:
        self.doc._pixels_changed(self.patch.apply(self.layer.pixels, "before"))

    @property
    def nbytes(self) -> int:
        return self.patch.nbytes + 128


class SelectionCommand(Command):
    def __init__(self, doc: Document, patch: TilePatch, text: str) -> None:
        super().__init__()
        self.doc, self.patch, self.text = doc, patch, text

    def _apply(self, which: str) -> None:
        rect = self.patch.apply(self.doc.selection._raw(), which)
        self.doc.selection._touched()
        self.doc._emit("selection", rect)

    def redo(self) -> None:
        self._apply("after")

    def undo(self) -> None:
        self._apply("before")

    @property
    def nbytes(self) -> int:
        return self.patch.nbytes + 128


class InsertLayerCommand(Command):
    """Put ``layer`` at ``index`` and make it active; undo takes it out and restores the previous active layer."""

    def __init__(self, doc: Document, layer: Layer, index: int, text: str) -> None:
        super().__init__()
        self.doc, self.layer, self.index, self.text = doc, layer, index, text
        self.active_before = doc.active_index
        self.applied = False

    def redo(self) -> None:
        self.active_before = self.doc.active_index
        self.doc._layers.insert(self.index, self.layer)
        self.doc._set_active_silently(self.index)
        self.doc._layers_changed()
        self.applied = True

    def undo(self) -> None:
        self.doc._layers.remove(self.layer)
        self.doc._set_active_silently(self.active_before)
        self.doc._layers_changed()
        self.applied = False

    @property
    def nbytes(self) -> int:
        # while the layer is in the document the document owns its pixels; undone, only this command keeps them
        return 256 if self.applied else int(self.layer.pixels.nbytes) + 256


class RemoveLayerCommand(Command):
    def __init__(self, doc: Document, index: int, text: str = "Delete Layer") -> None:
        super().__init__()
        self.doc, self.index, self.text = doc, index, text
        self.layer = doc.layers[index]
        self.active_before = doc.active_index
        self.applied = False

    def redo(self) -> None:
        current = self.doc.active_index
        self.active_before = current
        del self.doc._layers[self.index]
        if self.index < current:
            active = current - 1
        elif self.index == current:
            active = max(self.index - 1, 0)  # the layer below takes the focus
        else:
            active = current
        self.doc._set_active_silently(min(active, len(self.doc._layers) - 1))
        self.doc._layers_changed()
        self.applied = True

    def undo(self) -> None:
        self.doc._layers.insert(self.index, self.layer)
        self.doc._set_active_silently(self.active_before)
        self.doc._layers_changed()
        self.applied = False

    @property
    def nbytes(self) -> int:
        # a removed layer lives on only in this command
        return int(self.layer.pixels.nbytes) + 256 if self.applied else 256


class MoveLayerCommand(Command):
    text = "Move Layer in Stack"

    def __init__(self, doc: Document, src: int, dst: int) -> None:
        super().__init__()
        self.doc, self.src, self.dst = doc, src, dst

    def _move(self, a: int, b: int) -> None:
        active = self.doc.active_layer
        layer = self.doc._layers.pop(a)
        self.doc._layers.insert(b, layer)
        self.doc._set_active_silently(self.doc._layers.index(active))
        self.doc._layers_changed()

    def redo(self) -> None:
        self._move(self.src, self.dst)

    def undo(self) -> None:
        self._move(self.dst, self.src)


class LayerPropertyCommand(Command):
    def __init__(self, doc: Document, layer: Layer, before: dict[str, Any], after: dict[str, Any], text: str) -> None:
        super().__init__()
        self.doc, self.layer, self.before, self.after, self.text = doc, layer, before, after, text

    def _apply(self, values: dict[str, Any]) -> None:
        for key, value in values.items():
            setattr(self.layer, key, value)
        self.doc._layers_changed()

    def redo(self) -> None:
        self._apply(self.after)

    def undo(self) -> None:
        self._apply(self.before)


class RegionsCommand(Command):
    """An edit of the regional prompts (add, remove, rename, re-prompt, restore): the list before and after. The
    regions are immutable and an edit that keeps a region shares its mask, so a step costs only the masks that
    exist on one side alone."""

    def __init__(self, regions: PromptRegions, before: tuple[PromptRegion, ...], after: tuple[PromptRegion, ...],
                 text: str) -> None:
        super().__init__()
        self.regions, self.before, self.after, self.text = regions, before, after, text
        self.applied = False

    def redo(self) -> None:
        self.regions._take(self.after)
        self.applied = True

    def undo(self) -> None:
        self.regions._take(self.before)
        self.applied = False

    @property
    def nbytes(self) -> int:
        shown, kept = (self.after, self.before) if self.applied else (self.before, self.after)
        live = {id(region.mask) for region in shown}
        return 256 + sum(int(region.mask.nbytes) for region in kept if id(region.mask) not in live)
