"""The document's regional prompts: named canvas-sized masks, each with the prompt the diffusion dock gives it.

They belong to the document (saved in its .ora, restored on open) rather than to the dock, because they are drawn
on this canvas. Every edit (add, remove, rename, re-prompt, restore) is one undo step: a
:class:`~genart_desktop.document.commands.RegionsCommand` swapping the whole (small, immutable) list, handed to
``record`` (the document's history); :attr:`PromptRegions.changed` fires after each change, undo and redo included.
Reading a file (:meth:`PromptRegions.load`) is not an edit.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from genart_desktop.core.errors import InputError
from genart_desktop.document.commands import RegionsCommand
from genart_desktop.document.events import Signal
from genart_desktop.document.history import Command

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
    """The ordered regions of one canvas; ``changed()`` fires after every edit. ``record`` takes each edit's
    command and applies it (the document's undo history); without one, edits apply directly."""

    def __init__(self, width: int, height: int, record: Callable[[Command], None] | None = None) -> None:
        self.width, self.height = width, height
        self.record = record
        self._items: tuple[PromptRegion, ...] = ()
        self._counter = 0
        self.changed = Signal()

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[PromptRegion]:
        return iter(self._items)

    def __getitem__(self, index: int) -> PromptRegion:
        return self._items[index]

    @staticmethod
    def _checked_text(name: str, prompt: str) -> str:
        """The name to keep (cut to :data:`MAX_REGION_NAME`); InputError for a blank name or an overlong prompt."""
        if not isinstance(prompt, str) or len(prompt) > MAX_REGION_PROMPT:
            raise InputError(f"A region's prompt must be text of at most {MAX_REGION_PROMPT} characters.")
        if not isinstance(name, str) or not name.strip():
            raise InputError("A region needs a name.")
        return name[:MAX_REGION_NAME]

    def _checked(self, name: str, prompt: str, mask: np.ndarray) -> PromptRegion:
        mask = np.asarray(mask)
        if mask.shape != (self.height, self.width) or mask.dtype != np.uint8:
            raise InputError(f"A region's mask must be {self.width}x{self.height} uint8 like the canvas, got shape "
                             f"{mask.shape} and dtype {mask.dtype}.")
        if not mask.any():
            raise InputError("The region is empty: select an area (or pick a layer with opaque pixels) first.")
        name = self._checked_text(name, prompt)
        frozen = np.array(mask, np.uint8)
        frozen.flags.writeable = False
        return PromptRegion(name, prompt, frozen)

    # -- edits (each one undo step) ------------------------------------------------------------------------------
    def _edit(self, items: Sequence[PromptRegion], text: str) -> None:
        command = RegionsCommand(self, self._items, tuple(items), text)
        if self.record is None:
            command.redo()
        else:
            self.record(command)

    def _take(self, items: tuple[PromptRegion, ...]) -> None:
        """Make ``items`` the list (commands' redo and undo, and loading); announces the change."""
        self._items = items
        self.changed.emit()

    def add(self, mask: np.ndarray, prompt: str = "", name: str | None = None) -> PromptRegion:
        """Append a region (InputError when there are already :data:`MAX_DOCUMENT_REGIONS`, or the mask is
        empty or of another size)."""
        if len(self._items) >= MAX_DOCUMENT_REGIONS:
            raise InputError(f"A picture can follow at most {MAX_DOCUMENT_REGIONS} regions; remove one first.")
        region = self._checked(name or f"Region {self._counter + 1}", prompt, mask)
        self._counter += 1
        self._edit((*self._items, region), "Add Region")
        return region

    def _replace(self, index: int, text: str, **values: str) -> None:
        """Change one region's name or prompt (the mask is shared, not copied); nothing when it is unchanged."""
        region = self._items[index]
        changed = dataclasses.replace(region, **values)
        changed = dataclasses.replace(changed, name=self._checked_text(changed.name, changed.prompt))
        if (changed.name, changed.prompt) != (region.name, region.prompt):
            self._edit((*self._items[:index], changed, *self._items[index + 1:]), text)

    def set_prompt(self, index: int, prompt: str) -> None:
        self._replace(index, "Region Prompt", prompt=prompt)

    def rename(self, index: int, name: str) -> None:
        self._replace(index, "Rename Region", name=name)

    def remove(self, index: int) -> None:
        region = self._items[index]
        self._edit(tuple(r for r in self._items if r is not region), "Remove Region")

    def _all_checked(self, regions: Sequence[tuple[str, str, np.ndarray]]) -> tuple[PromptRegion, ...]:
        if len(regions) > MAX_DOCUMENT_REGIONS:
            raise InputError(f"A document holds at most {MAX_DOCUMENT_REGIONS} regions, got {len(regions)}.")
        checked = tuple(self._checked(name, prompt, mask) for name, prompt, mask in regions)
        self._counter = max(self._counter, len(checked))
        return checked

    def replace_all(self, regions: Sequence[tuple[str, str, np.ndarray]], text: str = "Restore Regions") -> None:
        """Make ``regions`` ((name, prompt, mask) each) the whole list as one undo step, all checked before any
        is taken."""
        self._edit(self._all_checked(regions), text)

    def load(self, regions: Sequence[tuple[str, str, np.ndarray]]) -> None:
        """:meth:`replace_all` for a document being read from its file: not an undo step."""
        self._take(self._all_checked(regions))
