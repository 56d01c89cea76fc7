"""OpenRaster (.ora): the layered format Krita, MyPaint and GIMP share.

Layout written: ``mimetype`` (first, stored uncompressed), ``stack.xml``, ``data/*.png`` (one per layer, cropped to
its non-zero pixels with x/y offsets), ``mergedimage.png`` and ``Thumbnails/thumbnail.png``; regional prompts go to
``genart/regions.json`` (name, prompt, mask member) with one greyscale ``genart/regions/*.png`` mask each.
Loading treats the file as untrusted: the zip's entry count is read from its end record before the directory is parsed, member sizes and
compression ratios are limited, layer sources must be plain paths inside the archive, the XML may not declare a DTD
or entities (in any encoding), the canvas, layer count, layer names and decoded pixels are bounded, and each layer
image is decoded once however many layers use it; any problem raises :class:`InputError` before a document exists,
so nothing is changed.
"""

from __future__ import annotations

import io
import json
import math
import os
import posixpath
import re
import zipfile
import zlib
from pathlib import Path
from collections.abc import Mapping
from typing import Any, BinaryIO
from xml.etree import ElementTree as ET

import numpy as np
from PIL import Image

from genart_desktop.core.atomic import atomic_writer
from genart_desktop.core.bounded_json import parse_json
from genart_desktop.core.errors import InputError
from genart_desktop.core.images import MAX_DECODE_PIXELS, open_image_rgba
from genart_desktop.core.safe_read import open_regular
from genart_desktop.core.text import shown
from genart_desktop.document.document import Document, check_canvas_size
from genart_desktop.document.events import DocumentChange
from genart_desktop.document.io.plain_xml import parse_plain_xml
from genart_desktop.document.io.zip_directory import check_directory
from genart_desktop.document.layer import Layer
from genart_desktop.document.regions import MAX_DOCUMENT_REGIONS, MAX_REGION_NAME, MAX_REGION_PROMPT

MIMETYPE = b"image/openraster"
THUMBNAIL_SIDE = 256

MAX_FILE_BYTES = 4 << 30  # the .ora file itself
MAX_MEMBERS = 10_000
MAX_DIRECTORY_BYTES = 4 << 20  # central directory: 10,000 entries with names of a few hundred characters
MAX_MEMBER_BYTES = 1 << 30  # one uncompressed member
MAX_TOTAL_BYTES = 4 << 30  # all members together, uncompressed
MAX_RATIO = 200  # uncompressed / compressed, for members above RATIO_FLOOR
RATIO_FLOOR = 1 << 20
MAX_STACK_XML_BYTES = 4 << 20
MAX_LAYERS = 1000
MAX_DOCUMENT_BYTES = 1 << 30  # decoded layers in memory (each is canvas-sized RGBA)
MAX_DECODED_PIXELS = 1 << 28  # all distinct layer images together, before they are cropped to the canvas
MAX_NESTING = 32
MAX_LAYER_NAME = 256  # characters, on save and on load
MAX_METADATA_BYTES = 1 << 20  # one layer's genart-metadata attribute
REGIONS_INDEX = "genart/regions.json"
MAX_REGIONS_INDEX_BYTES = 64 << 10
EXTRAS_PREFIX = "genart/extras/"  # members the app keeps beside the layers (the diffusion dock's results)
MAX_EXTRA_MEMBERS = 1000
MAX_EXTRAS_BYTES = 1 << 30  # all extra members together, uncompressed

TO_ORA = {"normal": "svg:src-over", "multiply": "svg:multiply", "screen": "svg:screen", "overlay": "svg:overlay",
          "darken": "svg:darken", "lighten": "svg:lighten", "add": "svg:plus"}
FROM_ORA = {value: key for key, value in TO_ORA.items()}
FROM_ORA.update({"krita:add": "add", "svg:add": "add", "svg:linear-dodge": "add"})


# -- writing -----------------------------------------------------------------------------------------------------------
def _png_bytes(pixels: np.ndarray, compress_level: int) -> bytes:
    buffer = io.BytesIO()
    mode = "RGBA" if pixels.shape[2] == 4 else "RGB"
    Image.fromarray(np.ascontiguousarray(pixels), mode).save(buffer, "PNG", compress_level=compress_level)
    return buffer.getvalue()


def _content_bounds(pixels: np.ndarray) -> tuple[int, int, int, int] | None:
    """Bounds of pixels with any non-zero channel, so cropping keeps even colour hidden under zero alpha."""
    nonzero = pixels.any(axis=2)
    rows = np.flatnonzero(nonzero.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(nonzero.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def _format_opacity(value: float) -> str:
    return repr(float(value))


# Characters XML 1.0 cannot hold at all (most C0 controls, lone surrogates, U+FFFE/U+FFFF): written raw they make a
# file no reader (this one included) accepts.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def layer_name_for_file(name: str) -> str:
    """A layer name as it is written: cut to :data:`MAX_LAYER_NAME` and with characters XML cannot hold replaced."""
    return _NOT_XML.sub("\ufffd", name[:MAX_LAYER_NAME])


def extra_member_name(name: str) -> str:
    """The archive name of an extra member (``name`` relative to :data:`EXTRAS_PREFIX`, a plain path)."""
    return safe_member_name(EXTRAS_PREFIX + name)


def write_ora(doc: Document, handle: BinaryIO, compress_level: int = 3,
              extras: Mapping[str, bytes] | None = None) -> None:
    """Write ``doc`` as OpenRaster into a seekable binary file object, with ``extras`` (name -> bytes) stored
    under :data:`EXTRAS_PREFIX` (other programs ignore them)."""
    image = ET.Element("image", {"version": "0.0.3", "w": str(doc.width), "h": str(doc.height),
                                 "xres": "72", "yres": "72"})
    stack = ET.SubElement(image, "stack")
    members: list[tuple[str, bytes]] = []
    layers = doc.layers
    for index in range(len(layers) - 1, -1, -1):  # stack.xml lists the top layer first
        layer = layers[index]
        bounds = _content_bounds(layer.pixels)
        x0, y0, x1, y1 = bounds if bounds is not None else (0, 0, 1, 1)
        src = f"data/layer{index:03d}.png"
        members.append((src, _png_bytes(layer.pixels[y0:y1, x0:x1], compress_level)))
        attrs = {
            "name": layer_name_for_file(layer.name), "src": src, "x": str(x0), "y": str(y0),
            "opacity": _format_opacity(layer.opacity),
            "visibility": "visible" if layer.visible else "hidden",
            "composite-op": TO_ORA[layer.blend_mode],
        }
        if layer.locked:
            attrs["edit-locked"] = "true"
        if index == doc.active_index:
            attrs["selected"] = "true"
        if layer.metadata:
            attrs["genart-metadata"] = json.dumps(layer.metadata, sort_keys=True, default=str)
        ET.SubElement(stack, "layer", attrs)
    merged = doc.composite()
    thumb = Image.fromarray(merged, "RGBA")
    thumb.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.LANCZOS)
    xml = b"<?xml version='1.0' encoding='UTF-8'?>\n" + ET.tostring(image, encoding="utf-8")
    with zipfile.ZipFile(handle, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), MIMETYPE, compress_type=zipfile.ZIP_STORED)
        archive.writestr("stack.xml", xml, compress_type=zipfile.ZIP_DEFLATED)
        for name, data in members:
            archive.writestr(name, data, compress_type=zipfile.ZIP_STORED)
        archive.writestr("mergedimage.png", _png_bytes(merged, compress_level), compress_type=zipfile.ZIP_STORED)
        thumb_buffer = io.BytesIO()
        thumb.save(thumb_buffer, "PNG")
        archive.writestr("Thumbnails/thumbnail.png", thumb_buffer.getvalue(), compress_type=zipfile.ZIP_STORED)
        if doc.metadata:
            archive.writestr("genart/metadata.json", json.dumps(doc.metadata, sort_keys=True, default=str),
                             compress_type=zipfile.ZIP_DEFLATED)
        for name, data in (extras or {}).items():
            archive.writestr(extra_member_name(name), data, compress_type=zipfile.ZIP_DEFLATED)
        _write_regions(doc, archive, compress_level)


def _write_regions(doc: Document, archive: zipfile.ZipFile, compress_level: int) -> None:
    """Each regional prompt as a greyscale mask member, listed with its name and prompt in :data:`REGIONS_INDEX`."""
    index = []
    for number, region in enumerate(doc.regions):
        src = f"genart/regions/region{number:02d}.png"
        buffer = io.BytesIO()
        Image.fromarray(np.ascontiguousarray(region.mask), "L").save(buffer, "PNG", compress_level=compress_level)
        archive.writestr(src, buffer.getvalue(), compress_type=zipfile.ZIP_STORED)
        index.append({"name": layer_name_for_file(region.name), "prompt": region.prompt, "src": src})
    if index:
        archive.writestr(REGIONS_INDEX, json.dumps(index, ensure_ascii=False), compress_type=zipfile.ZIP_DEFLATED)


def save_ora(doc: Document, path: str | os.PathLike[str], compress_level: int = 3,
             extras: Mapping[str, bytes] | None = None) -> None:
    """Save atomically (a failure leaves any previous file intact); the document then belongs to ``path``."""
    doc._finish_stroke()
    with atomic_writer(path) as handle:
        write_ora(doc, handle, compress_level, extras)
    doc.path = Path(path)
    doc.mark_clean()
    doc.changed.emit(DocumentChange("document", None))


# -- reading -----------------------------------------------------------------------------------------------------------
class _Archive:
    """A zip opened with the limits that keep a hostile file from exhausting memory."""

    def __init__(self, archive: zipfile.ZipFile, name: str) -> None:
        self.archive = archive
        self.name = name
        infos = archive.infolist()
        if len(infos) > MAX_MEMBERS:
            raise InputError(f"Cannot open {name}: it holds {len(infos)} files, more than {MAX_MEMBERS}.")
        total = 0
        self.infos: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            if info.file_size > MAX_MEMBER_BYTES:
                raise InputError(f"Cannot open {name}: {info.filename!r} is too large when unpacked.")
            if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                raise InputError(f"Cannot open {name}: {info.filename!r} is compressed suspiciously well "
                                 "(a zip bomb?).")
            total += info.file_size
            self.infos[info.filename] = info
        if total > MAX_TOTAL_BYTES:
            raise InputError(f"Cannot open {name}: its contents unpack to more than {MAX_TOTAL_BYTES >> 30} GiB.")

    def read(self, member: str, limit: int = MAX_MEMBER_BYTES) -> bytes:
        info = self.infos.get(member)
        if info is None:
            raise InputError(f"Cannot open {self.name}: {member!r} is missing from the archive.")
        with self.archive.open(info) as stream:
            data = stream.read(min(limit, info.file_size) + 1)
        if len(data) > min(limit, info.file_size):
            raise InputError(f"Cannot open {self.name}: {member!r} is larger than it claims or than allowed.")
        return data


_DRIVE = re.compile(r"^[A-Za-z]:")


def safe_member_name(src: str) -> str:
    """``src`` if it is a plain path inside the archive; raises InputError for traversal tricks.

    A single leading ``/`` means the archive root (pyora writes ``/data/layer0.png``); we never extract to disk, but
    a name that climbs out with ``..`` or looks like a drive or UNC path is refused all the same."""
    if src.startswith("/") and not src.startswith("//"):
        src = src[1:]
    if not src or "\\" in src or "\x00" in src or src.startswith("/") or _DRIVE.match(src):
        raise InputError(f"Layer source {src!r} is not a plain path inside the file.")
    parts = src.split("/")
    if any(part in ("..", "") for part in parts) or posixpath.normpath(src) != src:
        raise InputError(f"Layer source {src!r} points outside the file.")
    return src


def _float_attr(element: ET.Element, key: str, default: float) -> float:
    raw = element.get(key)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise InputError(f"The {key} value {raw!r} in stack.xml is not a number.") from exc
    if not math.isfinite(value):
        raise InputError(f"The {key} value {raw!r} in stack.xml is not a finite number.")
    return value


def _int_attr(element: ET.Element, key: str, default: int) -> int:
    value = _float_attr(element, key, float(default))
    if abs(value) > 1 << 20:
        raise InputError(f"The {key} value {value} in stack.xml is out of range.")
    return int(round(value))


def _parse_stack_xml(data: bytes) -> ET.Element:
    root = parse_plain_xml(data, "stack.xml")
    if root.tag != "image":
        raise InputError(f"stack.xml starts with <{root.tag}> instead of <image>.")
    return root


def _collect_layers(stack: ET.Element, out: list[tuple[ET.Element, int, int, float, bool]], dx: int, dy: int,
                    opacity: float, visible: bool, depth: int) -> None:
    """Flatten nested stacks (groups) into layer elements, top first, accumulating offsets, opacity, visibility."""
    if depth > MAX_NESTING:
        raise InputError(f"stack.xml nests groups more than {MAX_NESTING} deep.")
    for child in stack:
        if child.tag == "layer":
            out.append((child, dx, dy, opacity, visible))
        elif child.tag == "stack":
            _collect_layers(child, out, dx + _int_attr(child, "x", 0), dy + _int_attr(child, "y", 0),
                            opacity * min(max(_float_attr(child, "opacity", 1.0), 0.0), 1.0),
                            visible and child.get("visibility", "visible") != "hidden", depth + 1)
        if len(out) > MAX_LAYERS:
            raise InputError(f"The file has more than {MAX_LAYERS} layers.")


def _optional_json(raw: str | bytes | None, what: str, limit: int) -> dict[str, Any]:
    """Metadata is a nicety: a missing, damaged, oversized or non-object block is dropped, never fatal."""
    if not raw:
        return {}
    try:
        parsed = parse_json(raw, what, max_bytes=limit)
    except InputError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


class _LayerImages:
    """Layer images decoded once each, however many layers use them, within one pixel budget for the file and a
    per-image cap (the canvas, or what any still image may decode to when that is more); an image is released after
    the last layer that uses it."""

    def __init__(self, archive: _Archive, sources: list[str], canvas_pixels: int) -> None:
        self.archive = archive
        self.image_cap = max(canvas_pixels, MAX_DECODE_PIXELS)
        self.uses: dict[str, int] = {}
        for raw_src in sources:
            member = self._member(raw_src)
            self.uses[member] = self.uses.get(member, 0) + 1
        self.decoded: dict[str, np.ndarray] = {}
        self.budget = MAX_DECODED_PIXELS

    def _member(self, raw_src: str) -> str:
        src = safe_member_name(raw_src)
        return src if src in self.archive.infos else raw_src

    def take(self, raw_src: str) -> np.ndarray:
        member = self._member(raw_src)
        pixels = self.decoded.get(member)
        if pixels is None:
            pixels = self._decode(member, safe_member_name(raw_src))
            self.budget -= pixels.shape[0] * pixels.shape[1]
        self.uses[member] -= 1
        if self.uses[member]:
            self.decoded[member] = pixels
        else:
            self.decoded.pop(member, None)
        return pixels

    def _decode(self, member: str, src: str) -> np.ndarray:
        name = self.archive.name
        try:
            return open_image_rgba(self.archive.read(member), max_pixels=max(min(self.budget, self.image_cap), 1))
        except InputError as exc:
            reason = str(exc).removeprefix("Cannot open image data: ")
            if reason.startswith(f"Cannot open {name}"):
                raise
            if self.budget < MAX_DECODED_PIXELS and "pixel limit" in reason:
                reason = f"{reason.rstrip('.')} (the file's layers may decode to {MAX_DECODED_PIXELS:,} pixels " \
                         "in all)."
            raise InputError(f"Cannot open {name}: layer {src!r}: {reason}") from exc


def _read_document(archive: _Archive) -> Document:
    name = archive.name
    if "mimetype" in archive.infos:
        mimetype = archive.read("mimetype", 256).strip()
        if mimetype != MIMETYPE:
            raise InputError(f"Cannot open {name}: its mimetype is {mimetype[:60]!r}, not image/openraster.")
    if "stack.xml" not in archive.infos:
        raise InputError(f"Cannot open {name}: stack.xml is missing, so it is not an OpenRaster file.")
    try:
        root = _parse_stack_xml(archive.read("stack.xml", MAX_STACK_XML_BYTES))
    except InputError as exc:
        raise InputError(f"Cannot open {name}: {exc}") from exc
    width, height = check_canvas_size(_int_attr(root, "w", 0), _int_attr(root, "h", 0))
    top = root.find("stack")
    if top is None:
        raise InputError(f"Cannot open {name}: stack.xml has no <stack>.")
    found: list[tuple[ET.Element, int, int, float, bool]] = []
    _collect_layers(top, found, 0, 0, 1.0, True, 0)
    if not found:
        raise InputError(f"Cannot open {name}: it has no layers.")
    if len(found) * width * height * 4 > MAX_DOCUMENT_BYTES:
        raise InputError(f"Cannot open {name}: {len(found)} layers of {width}x{height} need more memory than allowed.")
    images = _LayerImages(archive, [element.get("src", "") for element, *_ in found], width * height)
    layers: list[Layer] = []
    active = len(found) - 1
    for position, (element, dx, dy, group_opacity, group_visible) in enumerate(reversed(found)):
        pixels = images.take(element.get("src", ""))
        x = _int_attr(element, "x", 0) + dx
        y = _int_attr(element, "y", 0) + dy
        canvas = np.zeros((height, width, 4), np.uint8)
        # layers reaching outside the canvas are cropped to it
        cx0, cy0 = max(x, 0), max(y, 0)
        cx1, cy1 = min(x + pixels.shape[1], width), min(y + pixels.shape[0], height)
        if cx1 > cx0 and cy1 > cy0:
            canvas[cy0:cy1, cx0:cx1] = pixels[cy0 - y:cy1 - y, cx0 - x:cx1 - x]
        opacity = min(max(_float_attr(element, "opacity", 1.0), 0.0), 1.0) * group_opacity
        metadata = _optional_json(element.get("genart-metadata"), "genart-metadata", MAX_METADATA_BYTES)
        op = element.get("composite-op", "svg:src-over")
        if op not in FROM_ORA:
            metadata.setdefault("ora_composite_op", op)  # kept so the user can see what was replaced
        layers.append(Layer(
            name=(element.get("name") or f"Layer {position + 1}")[:MAX_LAYER_NAME],
            pixels=canvas,
            opacity=opacity,
            visible=group_visible and element.get("visibility", "visible") != "hidden",
            blend_mode=FROM_ORA.get(op, "normal"),
            locked=element.get("edit-locked", "false").lower() == "true",
            metadata=metadata,
        ))
        if element.get("selected", "false").lower() == "true":
            active = position
    doc_meta: dict[str, Any] = {}
    if "genart/metadata.json" in archive.infos:
        doc_meta = _optional_json(archive.read("genart/metadata.json", MAX_STACK_XML_BYTES), "genart/metadata.json",
                                  MAX_STACK_XML_BYTES)
    doc = Document.from_layers(width, height, layers, doc_meta)
    doc._set_active_silently(active)
    if REGIONS_INDEX in archive.infos:
        doc.regions.load(_read_regions(archive, width, height))
    return doc


def _read_regions(archive: _Archive, width: int, height: int) -> list[tuple[str, str, np.ndarray]]:
    """(name, prompt, canvas-sized uint8 mask) of each regional prompt, within the document's caps."""
    index = parse_json(archive.read(REGIONS_INDEX, MAX_REGIONS_INDEX_BYTES), REGIONS_INDEX,
                       max_bytes=MAX_REGIONS_INDEX_BYTES, max_depth=4)
    if not isinstance(index, list) or len(index) > MAX_DOCUMENT_REGIONS:
        raise InputError(f"{REGIONS_INDEX} must list at most {MAX_DOCUMENT_REGIONS} regions.")
    regions = []
    for item in index:
        if not isinstance(item, dict) or not all(isinstance(item.get(key), str) for key in ("name", "prompt", "src")):
            raise InputError(f"Each region in {REGIONS_INDEX} needs a name, a prompt and a src, all text.")
        if len(item["name"]) > MAX_REGION_NAME or len(item["prompt"]) > MAX_REGION_PROMPT:
            raise InputError(f"A region's name or prompt in {REGIONS_INDEX} is too long.")
        src = safe_member_name(item["src"])
        try:
            rgba = open_image_rgba(archive.read(src), max_pixels=width * height, name=src)
        except InputError as exc:
            reason = str(exc).removeprefix(f"Cannot open {shown(src)}: ")
            raise InputError(f"Cannot open {archive.name}: region mask {src!r}: {reason}") from exc
        if rgba.shape[:2] != (height, width):
            raise InputError(f"Region mask {src!r} is {rgba.shape[1]}x{rgba.shape[0]}, not the canvas's "
                             f"{width}x{height}.")
        regions.append((item["name"], item["prompt"], np.ascontiguousarray(rgba[..., 0])))
    return regions


def _read_extras(archive: _Archive) -> dict[str, bytes]:
    """The extra members (names relative to :data:`EXTRAS_PREFIX`), within their own count and size caps."""
    names = [member for member in archive.infos if member.startswith(EXTRAS_PREFIX)]
    if len(names) > MAX_EXTRA_MEMBERS or \
            sum(archive.infos[member].file_size for member in names) > MAX_EXTRAS_BYTES:
        raise InputError(f"Cannot open {archive.name}: it holds more app data than allowed.")
    return {safe_member_name(member).removeprefix(EXTRAS_PREFIX): archive.read(member) for member in names}


def load_ora(path: str | os.PathLike[str]) -> Document:
    """Open an OpenRaster file as a new document (clean, with an empty history, ``path`` set)."""
    return load_ora_with_extras(path)[0]


def load_ora_with_extras(path: str | os.PathLike[str]) -> tuple[Document, dict[str, bytes]]:
    """:func:`load_ora`, and the extra members saved with :func:`save_ora` (name -> bytes)."""
    path = Path(path)
    name = shown(path.name)
    try:
        with open_regular(path, MAX_FILE_BYTES) as handle:
            check_directory(handle, name, MAX_MEMBERS, MAX_DIRECTORY_BYTES)
            with zipfile.ZipFile(handle) as archive:
                checked = _Archive(archive, name)
                doc = _read_document(checked)
                extras = _read_extras(checked)
    except InputError as exc:
        message = str(exc)
        if message.startswith("Cannot read "):
            message = "Cannot open " + message.removeprefix("Cannot read ")
        elif not message.startswith("Cannot open"):
            message = f"Cannot open {name}: {message}"
        raise InputError(message) from exc
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, NotImplementedError) as exc:
        raise InputError(f"Cannot open {name}: it is not a readable OpenRaster (zip) file ({exc}).") from exc
    except RuntimeError as exc:  # encrypted members
        raise InputError(f"Cannot open {name}: {exc}.") from exc
    except OSError as exc:
        raise InputError(f"Cannot open {name}: {exc.strerror or exc}.") from exc
    except MemoryError as exc:
        raise InputError(f"Cannot open {name}: not enough memory to load it.") from exc
    doc.path = path
    doc.mark_clean()
    return doc, extras
