"""Undo history: a stack of commands that store only what changed, within a memory cap in bytes.

Pixel commands keep tile patches (:class:`TilePatch`): the before and after contents of the fixed-size tiles a change
touched, zlib-compressed, so 200 brush strokes on a 4096 x 4096 canvas cost about the area they painted, not 200
copies of the canvas. When the total passes ``max_bytes`` the oldest steps are dropped (the newest is always kept).
"""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import numpy as np

from genart_desktop.document.events import Signal
from genart_desktop.document.geometry import Rect, union_all

PATCH_TILE = 64
_command_ids = itertools.count(1)


class Command:
    """One undoable step. Subclasses implement ``redo`` (apply) and ``undo`` and report their ``nbytes``."""

    text = "Edit"

    def __init__(self) -> None:
        self.uid = next(_command_ids)

    def redo(self) -> None:
        raise NotImplementedError

    def undo(self) -> None:
        raise NotImplementedError

    @property
    def nbytes(self) -> int:
        return 256


class CompoundCommand(Command):
    """Several commands applied in order and undone in reverse, shown as one step."""

    def __init__(self, text: str, commands: Iterable[Command]) -> None:
        super().__init__()
        self.text = text
        self.commands = list(commands)

    def redo(self) -> None:
        for command in self.commands:
            command.redo()

    def undo(self) -> None:
        for command in reversed(self.commands):
            command.undo()

    @property
    def nbytes(self) -> int:
        return sum(c.nbytes for c in self.commands) + 64


class _Tile:
    __slots__ = ("rect", "before", "after")

    def __init__(self, rect: Rect, before: bytes, after: bytes) -> None:
        self.rect = rect
        self.before = before
        self.after = after


class TilePatch:
    """The changed tiles between two versions of a region of an ``(H, W)`` or ``(H, W, C)`` uint8 array."""

    def __init__(self, tiles: list[_Tile], trailing: tuple[int, ...]) -> None:
        self._tiles = list(tiles)
        self._trailing = trailing
        self._nbytes = sum(len(t.before) + len(t.after) + 96 for t in self._tiles) + 64

    @classmethod
    def from_region(cls, before: np.ndarray, after: np.ndarray, origin: tuple[int, int] = (0, 0),
                    tile: int = PATCH_TILE) -> TilePatch:
        """Diff ``before`` and ``after`` (same shape, placed at ``origin`` in the array) on a grid aligned to ``tile``."""
        if before.shape != after.shape:
            raise ValueError("before and after differ in shape")
        ox, oy = origin
        h, w = before.shape[:2]
        tiles: list[_Tile] = []
        if h and w:
            for gy in range((oy // tile) * tile, oy + h, tile):
                y0, y1 = max(gy, oy) - oy, min(gy + tile, oy + h) - oy
                for gx in range((ox // tile) * tile, ox + w, tile):
                    x0, x1 = max(gx, ox) - ox, min(gx + tile, ox + w) - ox
                    b = before[y0:y1, x0:x1]
                    a = after[y0:y1, x0:x1]
                    if np.array_equal(a, b):
                        continue
                    tiles.append(_Tile(Rect(ox + x0, oy + y0, x1 - x0, y1 - y0),
                                       zlib.compress(np.ascontiguousarray(b).tobytes(), 1),
                                       zlib.compress(np.ascontiguousarray(a).tobytes(), 1)))
        return cls(tiles, tuple(before.shape[2:]))

    @property
    def is_empty(self) -> bool:
        return not self._tiles

    @property
    def nbytes(self) -> int:
        return self._nbytes

    @property
    def bounds(self) -> Rect | None:
        return union_all(t.rect for t in self._tiles)

    @property
    def changed_area(self) -> int:
        return sum(t.rect.area for t in self._tiles)

    def apply(self, array: np.ndarray, which: str) -> Rect | None:
        """Write the ``"before"`` or ``"after"`` version into ``array``; returns the changed bounds."""
        for t in self._tiles:
            data = t.before if which == "before" else t.after
            shape = (t.rect.height, t.rect.width) + self._trailing
            array[t.rect.slices()] = np.frombuffer(zlib.decompress(data), np.uint8).reshape(shape)
        return self.bounds


def _default_max_bytes() -> int:
    from genart_desktop.core.settings import load_settings

    return int(load_settings()["undo_memory_mb"]) * 1024 * 1024


class History:
    """Undo and redo stacks. ``push`` records a command that has already been applied."""

    def __init__(self, max_bytes: int | None = None) -> None:
        self.max_bytes = _default_max_bytes() if max_bytes is None else int(max_bytes)
        self._undo: list[Command] = []
        self._redo: list[Command] = []
        self.changed = Signal()
        self.dropped_steps = 0
        self._group: list[Command] | None = None

    # -- recording -------------------------------------------------------------------------------------------------
    def push(self, command: Command, apply: bool = False) -> None:
        if apply:
            command.redo()
        if self._group is not None:
            self._group.append(command)
            return
        self._undo.append(command)
        self._redo.clear()
        self._enforce_cap()
        self.changed.emit()

    @contextmanager
    def grouped(self, text: str) -> Iterator[None]:
        """Record the commands pushed inside as one step named ``text`` (one user action that makes several
        edits); when the block fails, the ones already applied are undone, so it leaves nothing behind."""
        if self._group is not None:  # already inside a group: the outer one records
            yield
            return
        self._group = group = []
        try:
            yield
        except BaseException:
            for command in reversed(group):
                command.undo()
            raise
        finally:
            self._group = None
        if len(group) == 1:
            self.push(group[0])
        elif group:
            self.push(CompoundCommand(text, group))

    def _enforce_cap(self) -> None:
        while len(self._undo) > 1 and self.memory_bytes > self.max_bytes:
            self._undo.pop(0)
            self.dropped_steps += 1

    # -- navigation ------------------------------------------------------------------------------------------------
    def undo(self) -> bool:
        return self._step(self._undo, self._redo, "undo")

    def redo(self) -> bool:
        return self._step(self._redo, self._undo, "redo")

    def _step(self, source: list[Command], target: list[Command], action: str) -> bool:
        """Take the latest command off ``source``, run its ``action`` (undo or redo), keep it on ``target``."""
        if not source:
            return False
        command = source.pop()
        getattr(command, action)()
        target.append(command)
        self.changed.emit()
        return True

    def clear(self) -> None:
        self._undo.clear()
        self._redo.clear()
        self.changed.emit()

    # -- state -----------------------------------------------------------------------------------------------------
    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    @property
    def undo_text(self) -> str:
        return self._undo[-1].text if self._undo else ""

    @property
    def redo_text(self) -> str:
        return self._redo[-1].text if self._redo else ""

    @property
    def undo_count(self) -> int:
        return len(self._undo)

    @property
    def redo_count(self) -> int:
        return len(self._redo)

    @property
    def memory_bytes(self) -> int:
        return sum(c.nbytes for c in self._undo) + sum(c.nbytes for c in self._redo)

    @property
    def top_id(self) -> int:
        """The id of the command a redo-free state ends with (0 for none); documents use it to track 'saved'."""
        return self._undo[-1].uid if self._undo else 0
