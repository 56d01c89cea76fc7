"""The diffusion dock's staged results and history, kept in the document's .ora file so nothing is lost on reopen.

Why a module of its own: what goes into the file (a small index plus one PNG per image) and the checks on the way
back (bounded JSON, allow-listed PNG decoding with pixel caps, every recipe validated) are decided here, Qt-free,
and tested without a display. The members live under :data:`PREFIX` in the .ora zip; readers that do not know them
(Krita, GIMP) ignore them. A damaged store is dropped with a log line; it never stops the document from opening.
"""

from __future__ import annotations

import dataclasses
import io
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from PIL import Image

from genart_desktop.core.bounded_json import parse_json
from genart_desktop.core.errors import InputError
from genart_desktop.core.images import open_image_rgba
from genart_desktop.core.text import shown
from genart_desktop.document.geometry import Rect
from genart_desktop.engine.pipelines.recipe import Recipe
from genart_desktop.workspace.diffusion import DiffusionController, StagedResult
from genart_desktop.workspace.diffusion_placement import Placement

log = logging.getLogger(__name__)

PREFIX = "diffusion/"  # inside the .ora file's extra members (document/io/ora.py)
INDEX = PREFIX + "index.json"
FORMAT = 1
MAX_INDEX_BYTES = 4 << 20
MAX_ITEMS = 200  # staged results and history entries together
MAX_IMAGE_PIXELS = 4096 * 4096


@dataclass(frozen=True)
class Stash:
    """What a file held: finished results (recipe, placement, label, pixels) and the history, newest first."""

    staged: list[tuple[Recipe, Placement, str, np.ndarray]]
    history: list[tuple[Recipe, np.ndarray]]


def _png(pixels: np.ndarray) -> bytes:
    pixels = np.ascontiguousarray(pixels, np.uint8)
    channels = 1 if pixels.ndim == 2 else pixels.shape[2]
    buffer = io.BytesIO()
    Image.fromarray(pixels.reshape(*pixels.shape[:2], channels).squeeze(2) if channels == 1 else pixels,
                    CHANNEL_MODES[channels]).save(buffer, "PNG", compress_level=3)
    return buffer.getvalue()


CHANNEL_MODES = {1: "L", 3: "RGB", 4: "RGBA"}


class _Writer:
    """Collects the PNG members; an image is recorded as its member name and channel count."""

    def __init__(self) -> None:
        self.members: dict[str, bytes] = {}

    def image(self, stem: str, pixels: np.ndarray) -> dict:
        pixels = np.asarray(pixels, np.uint8)
        channels = 1 if pixels.ndim == 2 else int(pixels.shape[2])
        self.members[PREFIX + stem + ".png"] = _png(pixels)
        return {"name": stem + ".png", "channels": channels}


def _placement_record(placement: Placement, writer: _Writer, stem: str) -> dict:
    """Every field of the placement: the rectangle, arrays as PNG members, plain values as they are."""
    record: dict = {"arrays": {}, "values": {}}
    for item in dataclasses.fields(Placement):
        value = getattr(placement, item.name)
        if isinstance(value, Rect):
            record["rect"] = [value.x, value.y, value.width, value.height]
        elif isinstance(value, np.ndarray):
            record["arrays"][item.name] = writer.image(f"{stem}-{item.name}", value)
        elif isinstance(value, (str, int, float, bool)):
            record["values"][item.name] = value
    return record


def dump(staged: list[StagedResult], history: list) -> dict[str, bytes]:
    """The members to write for the finished results still in the strip and the history (empty when neither)."""
    done = [entry for entry in staged if entry.state == "done" and entry.pixels is not None]
    if not done and not history:
        return {}
    writer = _Writer()
    index: dict = {"format": FORMAT, "staged": [], "history": []}
    for number, entry in enumerate(done):
        index["staged"].append({"recipe": entry.recipe.to_dict(), "label": entry.label,
                                "image": writer.image(f"staged-{number}", entry.pixels),
                                "placement": _placement_record(entry.placement, writer, f"staged-{number}")})
    for number, item in enumerate(history):
        index["history"].append({"recipe": item.recipe.to_dict(),
                                 "image": writer.image(f"history-{number}", item.thumbnail)})
    data = json.dumps(index, sort_keys=True).encode("utf-8")
    if len(data) > MAX_INDEX_BYTES:  # the oldest entries lose their regional prompts first, so the file reads back
        excess = len(data) - MAX_INDEX_BYTES
        for record in reversed(index["history"]):
            if excess <= 0:
                break
            excess -= len(json.dumps(record["recipe"].pop("regions", [])))
        data = json.dumps(index, sort_keys=True).encode("utf-8")
    writer.members[INDEX] = data
    return writer.members


def _image(members: Mapping[str, bytes], record: object) -> np.ndarray:
    if not isinstance(record, dict) or record.get("channels") not in CHANNEL_MODES:
        raise InputError("The diffusion store describes an image badly.")
    name = record.get("name")
    if not isinstance(name, str) or PREFIX + name not in members:
        raise InputError(f"The diffusion store names a missing image {shown(str(name))}.")
    pixels = open_image_rgba(members[PREFIX + name], max_pixels=MAX_IMAGE_PIXELS, name=name)
    channels = record["channels"]
    return pixels[..., 0].copy() if channels == 1 else pixels[..., :channels].copy()


def _placement(record: object, members: Mapping[str, bytes]) -> Placement:
    """A placement read back field by field; a field the file lacks keeps its default, a wrong type is refused."""
    if not isinstance(record, dict):
        raise InputError("A staged result has no placement.")
    rect = record.get("rect")
    if not (isinstance(rect, list) and len(rect) == 4 and all(type(v) is int and abs(v) < 1 << 20 for v in rect)):
        raise InputError("A staged result has no valid placement.")
    arrays, values = record.get("arrays", {}), record.get("values", {})
    if not isinstance(arrays, dict) or not isinstance(values, dict):
        raise InputError("A staged result's placement is damaged.")
    fields: dict = {"rect": Rect(*rect)}
    for item in dataclasses.fields(Placement):
        if item.name in arrays:
            fields[item.name] = _image(members, arrays[item.name])
        elif item.name in values:
            value, default = values[item.name], item.default
            if type(value) is not type(default) and not (type(default) is float and type(value) is int):
                raise InputError(f"A staged result's {item.name!r} has the wrong type.")
            fields[item.name] = value
    mask = fields.get("mask")
    if mask is not None and mask.shape[:2] != (rect[3], rect[2]):
        raise InputError("A staged result's mask does not match its placement.")
    return Placement(**fields)


def load(members: Mapping[str, bytes]) -> Stash | None:
    """The results and history a file holds, or None when it holds none; InputError when they are damaged."""
    if INDEX not in members:
        return None
    index = parse_json(members[INDEX], INDEX, max_bytes=MAX_INDEX_BYTES)
    if not isinstance(index, dict) or index.get("format") != FORMAT:
        raise InputError("The diffusion store has an unknown format.")
    staged_records, history_records = index.get("staged", []), index.get("history", [])
    if not isinstance(staged_records, list) or not isinstance(history_records, list) or \
            len(staged_records) + len(history_records) > MAX_ITEMS:
        raise InputError("The diffusion store's lists are damaged or too long.")
    staged, history = [], []
    for record in staged_records:
        if not isinstance(record, dict) or not isinstance(record.get("label", ""), str):
            raise InputError("A staged result in the diffusion store is damaged.")
        staged.append((Recipe.from_dict(record.get("recipe")), _placement(record.get("placement"), members),
                       record.get("label", "")[:200], _image(members, record.get("image"))))
    for record in history_records:
        if not isinstance(record, dict):
            raise InputError("A history entry in the diffusion store is damaged.")
        history.append((Recipe.from_dict(record.get("recipe")), _image(members, record.get("image"))))
    return Stash(staged, history)


class DiffusionKeeper:
    """Ties a :class:`DiffusionController` to the file controller: what to write with the document, what to take
    back on open, and whether closing now would lose results (a Qt-free query the window asks before closing)."""

    name = "diffusion"

    def __init__(self, controller: DiffusionController) -> None:
        self.controller = controller
        self._kept: set[int] = set()  # ids of staged results the open file holds

    def dump(self) -> dict[str, bytes]:
        members = dump(self.controller.staged, self.controller.history)
        self._kept = {entry.id for entry in self.controller.unaccepted}
        return members

    def load(self, members: Mapping[str, bytes]) -> None:
        """Put the file's results and history back (a damaged store is logged and left out)."""
        try:
            stash = load(members)
        except InputError as exc:
            log.warning("Left out the diffusion results saved in the file: %s", exc)
            return
        if stash is not None:
            self.controller.adopt(stash.staged, stash.history)
        self._kept = {entry.id for entry in self.controller.unaccepted}

    def unsaved(self) -> str | None:
        """A sentence for the close question when finished results would be lost, else None."""
        lost = [entry for entry in self.controller.unaccepted if entry.id not in self._kept]
        if not lost:
            return None
        count = len(lost)
        return (f"{count} generated result{'s are' if count > 1 else ' is'} waiting in the Diffusion dock, "
                "neither accepted as a layer nor saved with the document.")
