"""The document's regional prompts: named canvas-sized masks, each with the prompt the diffusion dock gives it.

They belong to the document (saved in its .ora, restored on open) rather than to the dock, because they are drawn
on this canvas. Edits are not undo steps; they mark the document changed through :attr:`PromptRegions.changed`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from genart_desktop.core.errors import InputError
from genart_desktop.document.events import Signal

MAX_DOCUMENT_REGIONS = 8  # as many as one picture can follow (engine.pipelines.regions.MAX_REGIONS)
MAX_REGION_NAME = 256
MAX_REGION_PROMPT = 4000


@dataclass(frozen=True, eq=False)
class PromptRegion:
    """A region: its ``name``, its ``prompt`` and its ``mask`` ((H, W) uint8 at canvas size, 255 = inside)."""

    name: str
    prompt: str
    mask: np.ndarray = field(repr=False)

    @property
    def is_empty(self) -> bool:
        return not self.mask.any()


class PromptRegions:
    """The ordered regions of one canvas; ``changed()`` fires after every edit."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self._items: list[PromptRegion] = []
        self._counter = 0
        self.changed = Signal()

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[PromptRegion]:
        return iter(list(self._items))

    def __getitem__(self, index: int) -> PromptRegion:
        return self._items[index]

    def _checked(self, name: str, prompt: str, mask: np.ndarray) -> PromptRegion:
        mask = np.asarray(mask)
        if mask.shape != (self.height, self.width) or mask.dtype != np.uint8:
            raise InputError(f"A region's mask must be {self.width}x{self.height} uint8 like the canvas, got shape "
                             f"{mask.shape} and dtype {mask.dtype}.")
        if not mask.any():
            raise InputError("The region is empty: select an area (or pick a layer with opaque pixels) first.")
        if not isinstance(prompt, str) or len(prompt) > MAX_REGION_PROMPT:
            raise InputError(f"A region's prompt must be text of at most {MAX_REGION_PROMPT} characters.")
        if not isinstance(name, str) or not name.strip():
            raise InputError("A region needs a name.")
        frozen = np.array(mask, np.uint8)
        frozen.flags.writeable = False
        return PromptRegion(name[:MAX_REGION_NAME], prompt, frozen)

    def add(self, mask: np.ndarray, prompt: str = "", name: str | None = None) -> PromptRegion:
        """Append a region (InputError when there are already :data:`MAX_DOCUMENT_REGIONS`, or the mask is
        empty or of another size)."""
        if len(self._items) >= MAX_DOCUMENT_REGIONS:
            raise InputError(f"A picture can follow at most {MAX_DOCUMENT_REGIONS} regions; remove one first.")
        self._counter += 1
        region = self._checked(name or f"Region {self._counter}", prompt, mask)
        self._items.append(region)
        self.changed.emit()
        return region

    def set_prompt(self, index: int, prompt: str) -> None:
        region = self._items[index]
        if prompt != region.prompt:
            self._items[index] = self._checked(region.name, prompt, region.mask)
            self.changed.emit()

    def remove(self, index: int) -> None:
        del self._items[index]
        self.changed.emit()

    def replace_all(self, regions: Sequence[tuple[str, str, np.ndarray]]) -> None:
        """Make ``regions`` ((name, prompt, mask) each) the whole list, all checked before any is taken."""
        if len(regions) > MAX_DOCUMENT_REGIONS:
            raise InputError(f"A document holds at most {MAX_DOCUMENT_REGIONS} regions, got {len(regions)}.")
        checked = [self._checked(name, prompt, mask) for name, prompt, mask in regions]
        self._items = checked
        self._counter = max(self._counter, len(checked))
        self.changed.emit()
