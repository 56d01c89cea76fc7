"""A corpus of bad (and awkward but valid) inputs, generated on the fly: nothing is downloaded.

Each :class:`Case` writes one input into an empty folder and returns what the app would be handed: an image, an
.ora file, a model folder (holding a bad ONNX file or a bad card) or a PNG carrying a recipe. ``expect`` says what
must happen: ``"refuse"`` (a clear InputError/ModelError naming the file and matching ``reason``, or a registry
entry rejected with such a reason) or ``"load"`` (it opens, and ``check`` verifies the pixels or document).
``xfail`` marks a known bug in code this suite may not edit (the reason names the file and the fault).

Kinds: ``image`` (opened as a document and as a layer), ``ora``, ``onnx`` and ``card`` (a folder under a model
root, checked by the registry), ``recipe`` (a PNG read by ``workspace.recipe_png.read_recipe``).
"""

from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from tests.tiny_onnx import (
    _finish, card_dict, image_model, io_from_graph, linear_generator, save_model, sha256_of, write_card,
    write_model_folder,
)


@dataclass(frozen=True)
class Case:
    name: str
    kind: str
    build: Callable[[Path], Path]
    expect: str = "refuse"
    reason: str = ""  # regular expression the message must match (case-insensitive)
    check: Callable[[Any], None] | None = None
    xfail: str | None = None

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}"


CASES: list[Case] = []


def case(kind: str, name: str, expect: str = "refuse", reason: str = "", check: Callable[[Any], None] | None = None,
         xfail: str | None = None) -> Callable[[Callable[[Path], Path]], Callable[[Path], Path]]:
    def register(build: Callable[[Path], Path]) -> Callable[[Path], Path]:
        CASES.append(Case(name, kind, build, expect, reason, check, xfail))
        return build
    return register


def cases(kind: str | None = None) -> list[Case]:
    return [c for c in CASES if kind is None or c.kind == kind]


# ==================================================================================================== byte helpers
def _noise(height: int, width: int, channels: int = 3, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, channels), dtype=np.uint8)


def encode(image: Image.Image, fmt: str, **options: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def good_png(width: int = 16, height: int = 12, mode: str = "RGBA") -> bytes:
    return encode(Image.fromarray(_noise(height, width, len(mode)), mode), "PNG")


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def raw_png(width: int, height: int, depth: int, color_type: int, rows: bytes | None = None,
            extra: list[tuple[bytes, bytes]] = ()) -> bytes:
    """A PNG assembled by hand, so it may declare anything (sizes, depths) whatever its data holds."""
    header = struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, 0)
    chunks = [png_chunk(b"IHDR", header)]
    chunks += [png_chunk(kind, data) for kind, data in extra]
    chunks.append(png_chunk(b"IDAT", zlib.compress(rows if rows is not None else b"\0" * 64)))
    chunks.append(png_chunk(b"IEND", b""))
    return b"\x89PNG\r\n\x1a\n" + b"".join(chunks)


def rows16(values: np.ndarray) -> bytes:
    """Filter-0 scanlines of a (H, W, C) uint16 array, big-endian as PNG stores it."""
    data = values.astype(">u2")
    return b"".join(b"\0" + data[row].tobytes() for row in range(data.shape[0]))


def _write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


# ==================================================================================================== images
def _expect_pixels(expected: np.ndarray, tolerance: int = 0) -> Callable[[np.ndarray], None]:
    def check(pixels: np.ndarray) -> None:
        assert pixels.dtype == np.uint8 and pixels.shape == expected.shape, (pixels.shape, expected.shape)
        diff = np.abs(pixels.astype(int) - expected.astype(int)).max()
        assert diff <= tolerance, f"pixels differ by {diff}"
    return check


def _rgba(rgb: Any, alpha: Any = 255, shape: tuple[int, int] = (4, 4)) -> np.ndarray:
    out = np.empty(shape + (4,), np.uint8)
    out[..., :3] = rgb
    out[..., 3] = alpha
    return out


@case("image", "cmyk_jpeg", "load", check=_expect_pixels(_rgba((255, 0, 0)), tolerance=3))
def _(folder: Path) -> Path:
    return _write(folder, "cmyk.jpg", encode(Image.new("CMYK", (4, 4), (0, 255, 255, 0)), "JPEG", quality=100))


@case("image", "cmyk_tiff", "load", check=_expect_pixels(_rgba((0, 0, 255))))
def _(folder: Path) -> Path:
    return _write(folder, "cmyk.tif", encode(Image.new("CMYK", (4, 4), (255, 255, 0, 0)), "TIFF"))


_GREY16 = np.array([[0, 255, 256, 32768, 65535, 1000]], np.uint16)


@case("image", "grey16_png", "load",
      check=_expect_pixels(_rgba(np.round(_GREY16 / 257.0).astype(np.uint8)[..., None], shape=(1, 6))))
def _(folder: Path) -> Path:
    return _write(folder, "grey16.png", encode(Image.fromarray(_GREY16), "PNG"))


@case("image", "grey16_dark_png", "load", check=_expect_pixels(_rgba(np.array([[0, 0, 1, 1]], np.uint8)[..., None],
                                                                     shape=(1, 4))))
def _(folder: Path) -> Path:
    """A 16-bit image whose values all fit in 8 bits is still a (very dark) 16-bit image."""
    return _write(folder, "dark16.png", encode(Image.fromarray(np.array([[0, 100, 200, 255]], np.uint16)), "PNG"))


_RGB16 = np.array([[[65535, 0, 32768], [0, 65535, 257], [1000, 2000, 60000]]], np.uint16)


@case("image", "rgb16_png", "load", check=_expect_pixels(_rgba(np.round(_RGB16 / 257.0), shape=(1, 3)), tolerance=1))
def _(folder: Path) -> Path:
    return _write(folder, "rgb16.png", raw_png(3, 1, 16, 2, rows16(_RGB16)))


_RGBA16 = np.array([[[65535, 0, 0, 0], [0, 65535, 0, 32768], [0, 0, 65535, 65535]]], np.uint16)


@case("image", "rgba16_png", "load", check=_expect_pixels(np.round(_RGBA16 / 257.0).astype(np.uint8), tolerance=1))
def _(folder: Path) -> Path:
    return _write(folder, "rgba16.png", raw_png(3, 1, 16, 6, rows16(_RGBA16)))


_LA16 = np.array([[[65535, 0], [0, 65535], [32768, 32768]]], np.uint16)


@case("image", "grey_alpha16_png", "load", check=_expect_pixels(
    np.dstack([np.round(_LA16[..., :1] / 257.0)] * 3 + [np.round(_LA16[..., 1:] / 257.0)]).astype(np.uint8),
    tolerance=1))
def _(folder: Path) -> Path:
    return _write(folder, "la16.png", raw_png(3, 1, 16, 4, rows16(_LA16)))


_PALETTE = [255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255]
_INDEXES = np.array([[0, 1, 2, 3]], np.uint8)


def _palette_image() -> Image.Image:
    image = Image.fromarray(_INDEXES, "P")
    image.putpalette(_PALETTE)
    return image


@case("image", "palette_png", "load", check=_expect_pixels(
    _rgba(np.array(_PALETTE, np.uint8).reshape(4, 3)[_INDEXES], shape=(1, 4))))
def _(folder: Path) -> Path:
    return _write(folder, "palette.png", encode(_palette_image(), "PNG"))


@case("image", "palette_transparent_png", "load", check=_expect_pixels(np.concatenate(
    [np.array(_PALETTE, np.uint8).reshape(4, 3)[_INDEXES], np.array([[[255], [0], [255], [255]]], np.uint8)], axis=2)))
def _(folder: Path) -> Path:
    return _write(folder, "palette_trns.png", encode(_palette_image(), "PNG", transparency=1))


@case("image", "palette_gif", "load", check=_expect_pixels(
    _rgba(np.array(_PALETTE, np.uint8).reshape(4, 3)[_INDEXES], shape=(1, 4))))
def _(folder: Path) -> Path:
    return _write(folder, "palette.gif", encode(_palette_image(), "GIF"))


_LA = np.array([[[10, 0], [128, 128], [250, 255]]], np.uint8)


@case("image", "grey_alpha_png", "load",
      check=_expect_pixels(np.dstack([_LA[..., :1]] * 3 + [_LA[..., 1:]])))
def _(folder: Path) -> Path:
    return _write(folder, "la.png", encode(Image.fromarray(_LA, "LA"), "PNG"))


@case("image", "bilevel_png", "load", check=_expect_pixels(_rgba(np.array([[0, 255, 0, 255]], np.uint8)[..., None],
                                                                 shape=(1, 4))))
def _(folder: Path) -> Path:
    return _write(folder, "bits.png", encode(Image.fromarray(np.array([[0, 1, 0, 1]], bool)), "PNG"))


def _rotated_check(pixels: np.ndarray) -> None:
    assert pixels.shape == (8, 4, 4), f"EXIF orientation ignored: {pixels.shape}"
    assert pixels[0, -1, 0] > 200 and pixels[-1, 0, 2] > 200, "rotated the wrong way"


@case("image", "exif_rotated_jpeg", "load", check=_rotated_check)
def _(folder: Path) -> Path:
    """A phone photo stored sideways with EXIF orientation 6 (rotate 90 degrees clockwise to view)."""
    pixels = np.zeros((4, 8, 3), np.uint8)
    pixels[:2, :2] = (255, 0, 0)  # top-left red -> top-right after the rotation
    pixels[-2:, -2:] = (0, 0, 255)  # bottom-right blue -> bottom-left
    image = Image.fromarray(pixels)
    exif = image.getexif()
    exif[0x0112] = 6
    return _write(folder, "sideways.jpg", encode(image, "JPEG", quality=100, exif=exif.tobytes()))


@case("image", "png_truncated_half", reason="damaged|truncated")
def _(folder: Path) -> Path:
    data = good_png(64, 64)
    return _write(folder, "half.png", data[: len(data) // 2])


@case("image", "png_header_only", reason="damaged|truncated|not an image")
def _(folder: Path) -> Path:
    return _write(folder, "header.png", good_png()[:33])


@case("image", "png_bad_crc", reason="damaged|truncated|broken")
def _(folder: Path) -> Path:
    data = bytearray(good_png(32, 32))
    index = data.find(b"IDAT") + 10
    data[index] ^= 0xFF  # payload changed, CRC left as it was
    return _write(folder, "crc.png", bytes(data))


@case("image", "png_garbage_zlib", reason="damaged|truncated")
def _(folder: Path) -> Path:
    header = struct.pack(">IIBBBBB", 32, 32, 8, 6, 0, 0, 0)
    body = png_chunk(b"IHDR", header) + png_chunk(b"IDAT", b"\x78\x9c" + bytes(range(200))) + png_chunk(b"IEND", b"")
    return _write(folder, "zlib.png", b"\x89PNG\r\n\x1a\n" + body)


@case("image", "random_bytes_png", reason="not an image format")
def _(folder: Path) -> Path:
    return _write(folder, "noise.png", np.random.default_rng(3).bytes(4096))


@case("image", "empty_file", reason="not an image format|damaged")
def _(folder: Path) -> Path:
    return _write(folder, "empty.png", b"")


@case("image", "text_named_png", reason="not an image format")
def _(folder: Path) -> Path:
    return _write(folder, "notes.png", b"this is not a picture\n" * 20)


@case("image", "missing_file", reason="does not exist")
def _(folder: Path) -> Path:
    return folder / "gone.png"


@case("image", "png_bomb_huge_declared", reason="larger than|too large")
def _(folder: Path) -> Path:
    """100000 x 100000 declared, a few bytes of data: refused before anything is decoded."""
    return _write(folder, "bomb.png", raw_png(100_000, 100_000, 8, 6))


@case("image", "png_bomb_within_side_limit", reason="too large|larger than")
def _(folder: Path) -> Path:
    """16000 x 16000 RGBA (1 GB decoded) declared by a 100-byte file."""
    return _write(folder, "bomb2.png", raw_png(16_000, 16_000, 8, 6))


@case("image", "png_wide_real", reason="larger than|too large")
def _(folder: Path) -> Path:
    """A real 20000 x 1 image: small, but wider than any canvas we allow."""
    return _write(folder, "wide.png", encode(Image.new("L", (20_000, 1), 128), "PNG"))


@case("image", "png_zero_size", reason="damaged|no pixels|not an image|truncated")
def _(folder: Path) -> Path:
    return _write(folder, "zero.png", raw_png(0, 0, 8, 6))


@case("image", "png_bad_depth", reason="damaged|not an image|truncated")
def _(folder: Path) -> Path:
    return _write(folder, "depth.png", raw_png(4, 4, 7, 2))


@case("image", "jpeg_truncated", reason="damaged|truncated")
def _(folder: Path) -> Path:
    data = encode(Image.fromarray(_noise(64, 64)), "JPEG")
    return _write(folder, "cut.jpg", data[: len(data) // 2])


@case("image", "jpeg_header_garbage", reason="not an image format|damaged")
def _(folder: Path) -> Path:
    data = bytearray(encode(Image.fromarray(_noise(32, 32)), "JPEG"))
    data[2:60] = b"\0" * 58
    return _write(folder, "garbage.jpg", bytes(data))


@case("image", "jpeg_bomb_declared", reason="too large|larger than")
def _(folder: Path) -> Path:
    """A small JPEG whose frame header claims 65000 x 65000."""
    data = bytearray(encode(Image.fromarray(_noise(16, 16)), "JPEG"))
    sof = data.find(b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", 65000, 65000)
    return _write(folder, "bomb.jpg", bytes(data))


@case("image", "webp_truncated", reason="damaged|truncated|not an image")
def _(folder: Path) -> Path:
    data = encode(Image.fromarray(_noise(64, 64)), "WEBP", quality=80)
    return _write(folder, "cut.webp", data[: len(data) // 2])


@case("image", "webp_corrupt_payload", reason="damaged|truncated|not an image")
def _(folder: Path) -> Path:
    data = bytearray(encode(Image.fromarray(_noise(64, 64)), "WEBP", quality=80))
    data[20:] = b"\xff" * (len(data) - 20)
    return _write(folder, "corrupt.webp", bytes(data))


@case("image", "webp_header_only", reason="damaged|truncated|not an image")
def _(folder: Path) -> Path:
    return _write(folder, "header.webp", encode(Image.fromarray(_noise(8, 8)), "WEBP")[:16])


@case("image", "gif_bomb_screen", reason="too large|larger than")
def _(folder: Path) -> Path:
    data = bytearray(encode(_palette_image(), "GIF"))
    data[6:10] = struct.pack("<HH", 65535, 65535)  # logical screen size
    return _write(folder, "bomb.gif", bytes(data))


@case("image", "bmp_bomb_declared", reason="too large|larger than|damaged")
def _(folder: Path) -> Path:
    data = bytearray(encode(Image.fromarray(_noise(4, 4)), "BMP"))
    data[18:26] = struct.pack("<ii", 60000, 60000)
    return _write(folder, "bomb.bmp", bytes(data))


@case("image", "tiff_truncated", reason="damaged|truncated|not an image")
def _(folder: Path) -> Path:
    data = encode(Image.fromarray(_noise(64, 64)), "TIFF", compression="tiff_deflate")
    return _write(folder, "cut.tif", data[: len(data) // 3])


# ==================================================================================================== .ora files
def stack_xml(layers: list[dict[str, str]], width: int = 16, height: int = 12, extra: str = "") -> bytes:
    items = "".join("<layer " + " ".join(f'{k}="{v}"' for k, v in layer.items()) + "/>" for layer in layers)
    return (f"<?xml version='1.0' encoding='UTF-8'?>\n{extra}<image version=\"0.0.3\" w=\"{width}\" h=\"{height}\">"
            f"<stack>{items}</stack></image>").encode()


def make_ora(folder: Path, name: str, members: list[tuple[str, bytes]], mimetype: bytes | None = b"image/openraster",
             compress: int = zipfile.ZIP_DEFLATED) -> Path:
    path = folder / name
    with zipfile.ZipFile(path, "w") as archive:
        if mimetype is not None:
            archive.writestr(zipfile.ZipInfo("mimetype"), mimetype, compress_type=zipfile.ZIP_STORED)
        for member, data in members:
            archive.writestr(member, data, compress_type=compress)
    return path


def simple_ora(folder: Path, name: str, src: str = "data/a.png", layer: bytes | None = None,
               attrs: dict[str, str] | None = None, width: int = 16, height: int = 12) -> Path:
    stack = stack_xml([{"name": "a", "src": src, **(attrs or {})}], width, height)
    return make_ora(folder, name, [("stack.xml", stack), ("data/a.png", layer or good_png())])


def _ora_refusal(name: str, reason: str, xfail: str | None = None):
    return case("ora", name, reason=reason, xfail=xfail)


for _name, _src in [("traversal_dotdot", "../../etc/passwd"), ("traversal_inner", "data/../../x.png"),
                    ("traversal_backslash", "data\\..\\..\\x.png"), ("traversal_unc", "//server/share/x.png"),
                    ("traversal_drive", "C:/Windows/x.png"), ("traversal_nul", "data/a.png\x00.txt")]:
    @_ora_refusal(f"ora_{_name}", "outside the file|not a plain path|not well-formed|malformed")
    def _(folder: Path, src: str = _src) -> Path:
        stack = stack_xml([{"name": "evil", "src": src.replace("\x00", "&#0;")}])
        return make_ora(folder, "evil.ora", [("stack.xml", stack), ("data/a.png", good_png())])


@_ora_refusal("ora_missing_stack", "stack.xml is missing")
def _(folder: Path) -> Path:
    return make_ora(folder, "nostack.ora", [("data/a.png", good_png())])


@_ora_refusal("ora_malformed_stack", "malformed")
def _(folder: Path) -> Path:
    return make_ora(folder, "broken.ora", [("stack.xml", b"<image w='4' h='4'><stack><layer src='a.png'>")])


@_ora_refusal("ora_stack_wrong_root", "instead of <image>")
def _(folder: Path) -> Path:
    return make_ora(folder, "root.ora", [("stack.xml", b"<html><stack/></html>")])


@_ora_refusal("ora_no_stack_element", "has no <stack>")
def _(folder: Path) -> Path:
    return make_ora(folder, "nostackel.ora", [("stack.xml", b"<image w='4' h='4'/>")])


@_ora_refusal("ora_no_layers", "no layers")
def _(folder: Path) -> Path:
    return make_ora(folder, "nolayers.ora", [("stack.xml", stack_xml([]))])


@_ora_refusal("ora_entity_bomb", "DTD or entities")
def _(folder: Path) -> Path:
    lol = "<!DOCTYPE image [<!ENTITY a \"lollollollollollol\">" + "".join(
        f"<!ENTITY {chr(98 + i)} \"{('&' + chr(97 + i) + ';') * 10}\">" for i in range(9)) + "]>\n"
    stack = stack_xml([{"name": "&j;", "src": "data/a.png"}], extra=lol)
    return make_ora(folder, "lol.ora", [("stack.xml", stack), ("data/a.png", good_png())])


@_ora_refusal("ora_external_entity", "DTD or entities")
def _(folder: Path) -> Path:
    extra = "<!DOCTYPE image [<!ENTITY secret SYSTEM \"file:///etc/passwd\">]>\n"
    stack = stack_xml([{"name": "&secret;", "src": "data/a.png"}], extra=extra)
    return make_ora(folder, "xxe.ora", [("stack.xml", stack), ("data/a.png", good_png())])


@_ora_refusal("ora_zip_bomb_ratio", "suspiciously well|zip bomb")
def _(folder: Path) -> Path:
    return make_ora(folder, "zipbomb.ora", [("stack.xml", stack_xml([{"src": "data/a.png"}])),
                                            ("data/a.png", b"\0" * (24 << 20))])


@_ora_refusal("ora_zip_bomb_declared_size", "too large when unpacked|larger than")
def _(folder: Path) -> Path:
    """A member whose headers claim 2 GiB unpacked (the bytes themselves are tiny)."""
    path = simple_ora(folder, "claims.ora")
    data = bytearray(path.read_bytes())
    central = data.rfind(b"PK\x01\x02")  # last central directory entry: data/a.png
    data[central + 24:central + 28] = struct.pack("<I", 0x7FFFFFFF)
    path.write_bytes(bytes(data))
    return path


@_ora_refusal("ora_not_a_zip", "not a readable OpenRaster")
def _(folder: Path) -> Path:
    return _write(folder, "plain.ora", b"PK but not really a zip archive" * 10)


@_ora_refusal("ora_truncated", "not a readable OpenRaster")
def _(folder: Path) -> Path:
    data = simple_ora(folder, "whole.ora").read_bytes()
    (folder / "whole.ora").unlink()
    return _write(folder, "cut.ora", data[: len(data) // 2])


@_ora_refusal("ora_wrong_mimetype", "mimetype")
def _(folder: Path) -> Path:
    return make_ora(folder, "mime.ora", [("stack.xml", stack_xml([{"src": "data/a.png"}])),
                                         ("data/a.png", good_png())], mimetype=b"application/x-evil")


@_ora_refusal("ora_negative_size", "outside 1")
def _(folder: Path) -> Path:
    return simple_ora(folder, "negative.ora", width=-16, height=12)


@_ora_refusal("ora_zero_size", "outside 1")
def _(folder: Path) -> Path:
    return simple_ora(folder, "zero.ora", width=0, height=0)


@_ora_refusal("ora_huge_size", "outside 1|out of range")
def _(folder: Path) -> Path:
    return simple_ora(folder, "huge.ora", width=100_000, height=100_000)


@_ora_refusal("ora_nan_size", "not a finite number")
def _(folder: Path) -> Path:
    stack = stack_xml([{"src": "data/a.png"}]).replace(b'w="16"', b'w="nan"')
    return make_ora(folder, "nan.ora", [("stack.xml", stack), ("data/a.png", good_png())])


@_ora_refusal("ora_text_offset", "not a number")
def _(folder: Path) -> Path:
    return simple_ora(folder, "offset.ora", attrs={"x": "left"})


@_ora_refusal("ora_huge_offset", "out of range")
def _(folder: Path) -> Path:
    return simple_ora(folder, "far.ora", attrs={"x": "1e300"})


@_ora_refusal("ora_non_png_layer", r"layer 'data/a\.png'.*not an image format")
def _(folder: Path) -> Path:
    return simple_ora(folder, "textlayer.ora", layer=b"hello, I am not a PNG")


@_ora_refusal("ora_truncated_layer", r"layer 'data/a\.png'.*(damaged|truncated)")
def _(folder: Path) -> Path:
    return simple_ora(folder, "cutlayer.ora", layer=good_png(64, 64)[:300])


@_ora_refusal("ora_layer_bomb", r"layer 'data/a\.png'.*(too large|larger than)")
def _(folder: Path) -> Path:
    return simple_ora(folder, "layerbomb.ora", layer=raw_png(100_000, 100_000, 8, 6))


@_ora_refusal("ora_missing_layer_member", "missing from the archive")
def _(folder: Path) -> Path:
    return simple_ora(folder, "missing.ora", src="data/nowhere.png")


@_ora_refusal("ora_too_many_layers", "more than 1000 layers")
def _(folder: Path) -> Path:
    stack = stack_xml([{"src": "data/a.png"}] * 1001)
    return make_ora(folder, "many.ora", [("stack.xml", stack), ("data/a.png", good_png())])


@_ora_refusal("ora_memory_exhaustion", "more memory than allowed")
def _(folder: Path) -> Path:
    stack = stack_xml([{"src": "data/a.png"}] * 900, width=16384, height=16384)
    return make_ora(folder, "memory.ora", [("stack.xml", stack), ("data/a.png", good_png())])


@_ora_refusal("ora_deep_groups", "nests groups")
def _(folder: Path) -> Path:
    layer = b'<layer src="data/a.png"/>'
    stack = b"<image w='16' h='12'>" + b"<stack>" * 40 + layer + b"</stack>" * 40 + b"</image>"
    return make_ora(folder, "deep.ora", [("stack.xml", stack), ("data/a.png", good_png())])


@_ora_refusal("ora_huge_stack_xml", "larger than it claims or than allowed")
def _(folder: Path) -> Path:
    filler = np.random.default_rng(9).bytes(5 << 19).hex()  # 5 MiB that does not compress away
    stack = stack_xml([{"src": "data/a.png"}], extra=f"<!-- {filler} -->\n")
    return make_ora(folder, "bigxml.ora", [("stack.xml", stack), ("data/a.png", good_png())])


def _ora_layers_cropped(doc: Any) -> None:
    assert (doc.width, doc.height) == (16, 12) and len(doc.layers) == 3
    far, partial, inside = doc.layers
    assert not far.pixels.any(), "a layer entirely outside the canvas must come in empty"
    expected = np.zeros((12, 16, 4), np.uint8)
    source = np.asarray(Image.open(io.BytesIO(_PARTIAL_LAYER)).convert("RGBA"))
    expected[0:12 - 8, 0:16 - 10] = source[8:12, 10:16]  # placed at (-10, -8): only its bottom-right corner shows
    assert np.array_equal(partial.pixels, expected)
    assert np.array_equal(inside.pixels, source)


_PARTIAL_LAYER = good_png(16, 12)


@case("ora", "ora_layers_outside_canvas", "load", check=_ora_layers_cropped)
def _(folder: Path) -> Path:
    stack = stack_xml([{"name": "inside", "src": "data/c.png"},
                       {"name": "partial", "src": "data/b.png", "x": "-10", "y": "-8"},
                       {"name": "far", "src": "/data/a.png", "x": "5000", "y": "-9000"}])
    return make_ora(folder, "outside.ora", [("stack.xml", stack), ("data/a.png", good_png()),
                                            ("data/b.png", _PARTIAL_LAYER), ("data/c.png", good_png())])


def _ora_odd_but_fine(doc: Any) -> None:
    assert len(doc.layers) == 1
    layer = doc.layers[0]
    assert layer.blend_mode == "normal" and layer.metadata.get("ora_composite_op") == "svg:hue"
    assert layer.opacity == 1.0  # clamped from 7
    assert "genart-metadata" not in layer.metadata


@case("ora", "ora_unknown_op_and_garbage_metadata", "load", check=_ora_odd_but_fine)
def _(folder: Path) -> Path:
    deep = "[" * 100_000 + "]" * 100_000
    return simple_ora(folder, "odd.ora", attrs={"composite-op": "svg:hue", "opacity": "7",
                                               "genart-metadata": deep})


# ==================================================================================================== ONNX files
def _onnx_folder(folder: Path, onnx_bytes: bytes, declared: onnx.ModelProto | None = None,
                 name: str = "bad-onnx") -> Path:
    """A style model folder whose card is valid for ``declared`` (the graph it should hold) but whose file is
    ``onnx_bytes``; the sha256 matches the file, so the problem is the graph itself."""
    model_folder = folder / name
    model_folder.mkdir()
    path = model_folder / "stylizer.onnx"
    path.write_bytes(onnx_bytes)
    io_entry = io_from_graph(declared if declared is not None else image_model())
    files = {"stylizer": {"path": "stylizer.onnx", "sha256": sha256_of(path)}}
    write_card(model_folder, card_dict(name, "style", files, {"stylizer": io_entry}))
    return model_folder


def _valid_bytes() -> bytes:
    return image_model().SerializeToString()


@case("onnx", "onnx_truncated", reason="not a valid ONNX|refused|damaged")
def _(folder: Path) -> Path:
    data = _valid_bytes()
    return _onnx_folder(folder, data[: len(data) // 2])


@case("onnx", "onnx_empty", reason="empty")
def _(folder: Path) -> Path:
    return _onnx_folder(folder, b"")


@case("onnx", "onnx_random_bytes", reason="not a valid ONNX|refused")
def _(folder: Path) -> Path:
    return _onnx_folder(folder, np.random.default_rng(5).bytes(2048))


@case("onnx", "onnx_wrong_input_name", reason="declares stylizer inputs")
def _(folder: Path) -> Path:
    return _onnx_folder(folder, image_model(input_name="image").SerializeToString())


@case("onnx", "onnx_wrong_output_name", reason="declares stylizer outputs")
def _(folder: Path) -> Path:
    return _onnx_folder(folder, image_model(output_name="result").SerializeToString())


def _rank3_model() -> onnx.ModelProto:
    shape = ["batch", 3, "width"]
    graph = helper.make_graph(
        [helper.make_node("Identity", ["content"], ["stylized"])], "rank3",
        [helper.make_tensor_value_info("content", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("stylized", TensorProto.FLOAT, shape)])
    return _finish(graph)


@case("onnx", "onnx_wrong_rank", reason="3 dimensions in the graph")
def _(folder: Path) -> Path:
    return _onnx_folder(folder, _rank3_model().SerializeToString())


@case("onnx", "onnx_wrong_dtype", reason="float16 in the graph")
def _(folder: Path) -> Path:
    return _onnx_folder(folder, image_model(elem_type=TensorProto.FLOAT16).SerializeToString())


@case("onnx", "onnx_fixed_where_card_is_dynamic", reason="dynamic .* in the card but fixed")
def _(folder: Path) -> Path:
    return _onnx_folder(folder, image_model(dims=("batch", 64, 64)).SerializeToString())


@case("onnx", "onnx_absurd_dimensions", reason="absurd")
def _(folder: Path) -> Path:
    return _onnx_folder(folder, image_model(dims=(1, 1 << 20, 1 << 20)).SerializeToString())


@case("onnx", "onnx_unknown_operator", reason="refused")
def _(folder: Path) -> Path:
    graph = helper.make_graph(
        [helper.make_node("NoSuchOperator", ["content"], ["stylized"], domain="com.evil")], "unknown",
        [helper.make_tensor_value_info("content", TensorProto.FLOAT, ["batch", 3, "height", "width"])],
        [helper.make_tensor_value_info("stylized", TensorProto.FLOAT, ["batch", 3, "height", "width"])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.evil", 1)])
    model.ir_version = 8
    return _onnx_folder(folder, model.SerializeToString())


def _external(location: str) -> bytes:
    model = image_model()
    tensor = next(t for t in model.graph.initializer if t.name == "scale")
    tensor.ClearField("raw_data")
    tensor.ClearField("float_data")
    tensor.data_location = TensorProto.EXTERNAL
    entry = tensor.external_data.add()
    entry.key, entry.value = "location", location
    return model.SerializeToString()


@case("onnx", "onnx_external_data_dotdot", reason="outside its model folder")
def _(folder: Path) -> Path:
    (folder / "secret.bin").write_bytes(struct.pack("<f", 2.0))
    return _onnx_folder(folder, _external("../secret.bin"))


@case("onnx", "onnx_external_data_absolute", reason="outside its model folder")
def _(folder: Path) -> Path:
    (folder / "secret.bin").write_bytes(struct.pack("<f", 2.0))
    return _onnx_folder(folder, _external(str((folder / "secret.bin").resolve())))


@case("onnx", "onnx_external_data_symlink", reason="outside its model folder")
def _(folder: Path) -> Path:
    (folder / "secret.bin").write_bytes(struct.pack("<f", 2.0))
    model_folder = _onnx_folder(folder, _external("weights.bin"))
    (model_folder / "weights.bin").symlink_to(folder / "secret.bin")
    return model_folder


@case("onnx", "onnx_external_data_missing", reason="which is missing")
def _(folder: Path) -> Path:
    return _onnx_folder(folder, _external("weights.bin"))


# ==================================================================================================== model cards
def _card_folder(folder: Path, mutate: Callable[[dict[str, Any], Path], Any] | None = None,
                 family: str = "style") -> Path:
    """A valid tiny model folder whose card ``mutate(card, model_folder)`` then breaks (it edits the dict in
    place, or returns bytes/str/object to write instead)."""
    models = {"stylizer": image_model()} if family == "style" else {"generator": linear_generator()}
    model_folder = write_model_folder(folder, f"bad-{family}", family, models)
    if mutate is not None:
        card = json.loads((model_folder / "model.json").read_text())
        replaced = mutate(card, model_folder)
        target = model_folder / "model.json"
        if isinstance(replaced, bytes):
            target.write_bytes(replaced)
        elif isinstance(replaced, str):
            target.write_text(replaced)
        elif replaced is not None:
            target.write_text(json.dumps(replaced))
        else:
            target.write_text(json.dumps(card))
    return model_folder


def card_case(name: str, reason: str, family: str = "style"):
    def register(mutate: Callable[[dict[str, Any], Path], Any]) -> Callable[[dict[str, Any], Path], Any]:
        case("card", name, reason=reason)(lambda folder: _card_folder(folder, mutate, family))
        return mutate
    return register


def _set(path: str, value: Any) -> Callable[[dict[str, Any], Path], None]:
    keys = path.split(".")

    def mutate(card: dict[str, Any], _: Path) -> None:
        target = card
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value
    return mutate


def _delete(path: str) -> Callable[[dict[str, Any], Path], None]:
    keys = path.split(".")

    def mutate(card: dict[str, Any], _: Path) -> None:
        target = card
        for key in keys[:-1]:
            target = target[key]
        del target[keys[-1]]
    return mutate


@case("card", "card_missing", reason="has no model.json")
def _(folder: Path) -> Path:
    model_folder = folder / "no-card"
    save_model(image_model(), model_folder / "stylizer.onnx")
    return model_folder


card_case("card_not_json", "not valid JSON")(lambda card, _: "{'id': 'single quotes'")
card_case("card_not_utf8", "not UTF-8")(lambda card, _: b"\xff\xfe{\x00}")
card_case("card_json_array", "must hold a JSON object")(lambda card, _: [card])
card_case("card_deep_nesting", "JSON nests .*deep|nests its JSON too deeply")(lambda card, _: "[" * 100_000 + "]" * 100_000)
card_case("card_huge", "more than the 1 MiB allowed")(lambda card, _: {**card, "padding": "x" * (2 << 20)})
for _field in ("format", "id", "name", "family", "license", "provenance", "files", "io", "resolution"):
    card_case(f"card_missing_{_field}", f"'?{_field}'? (must|is missing)|{_field}")(_delete(_field))
card_case("card_wrong_format", "'format' must be")(_set("format", "genart-model-card/99"))
card_case("card_id_not_string", "'id' is missing or not a non-empty string")(_set("id", 42))
card_case("card_id_traversal", "must be lower-case letters")(_set("id", "../../evil"))
card_case("card_id_uppercase", "must be lower-case letters")(_set("id", "Evil"))
card_case("card_name_list", "'name' is missing")(_set("name", ["a"]))
card_case("card_family_unknown", "family 'rocket' is not one of")(_set("family", "rocket"))
card_case("card_family_mismatch", "a gan model needs the role")(_set("family", "gan"))
card_case("card_provenance_string", "'provenance' is missing or not an object")(_set("provenance", "trust me"))
card_case("card_files_list", "'files' must map")(_set("files", ["stylizer.onnx"]))
card_case("card_file_entry_string", "files.stylizer must be an object")(_set("files.stylizer", "stylizer.onnx"))
card_case("card_path_missing", "path is missing or not a string")(_delete("files.stylizer.path"))
card_case("card_path_absolute", "must stay inside the model folder")(_set("files.stylizer.path", "/etc/passwd"))
card_case("card_path_dotdot", "must stay inside the model folder")(_set("files.stylizer.path", "../other/x.onnx"))
card_case("card_path_backslash", "must stay inside the model folder")(_set("files.stylizer.path", "..\\x.onnx"))
card_case("card_path_drive", "must stay inside the model folder")(_set("files.stylizer.path", "C:/x.onnx"))
card_case("card_file_missing", "is missing")(_set("files.stylizer.path", "elsewhere.onnx"))
card_case("card_sha_wrong", "does not match its sha256")(_set("files.stylizer.sha256", "0" * 64))
card_case("card_sha_not_hex", "64 hexadecimal digits")(_set("files.stylizer.sha256", "z" * 64))
card_case("card_sha_number", "64 hexadecimal digits")(_set("files.stylizer.sha256", 12345))
card_case("card_io_missing_role", "io has no entry")(_set("io", {"other": {"inputs": {}, "outputs": {"y": {
    "shape": [1], "dtype": "float32"}}}}))
card_case("card_io_not_object", "'io' must map")(_set("io", "content -> stylized"))
card_case("card_io_no_outputs", "declares no outputs")(_set("io.stylizer.outputs", {}))
card_case("card_tensor_name_wrong", "must take an input named 'content'")(
    lambda card, _: card["io"]["stylizer"].update(inputs={"image": card["io"]["stylizer"]["inputs"]["content"]}))
card_case("card_shape_zero", "shape must be a list of positive")(_set("io.stylizer.inputs.content.shape",
                                                                     ["batch", 0, "height", "width"]))
card_case("card_shape_negative", "shape must be a list of positive")(_set("io.stylizer.inputs.content.shape",
                                                                         ["batch", -3, "height", "width"]))
card_case("card_shape_string", "shape must be a list")(_set("io.stylizer.inputs.content.shape", "NCHW"))
card_case("card_shape_absurd", "absurdly large")(_set("io.stylizer.inputs.content.shape", [1, 3, 1 << 40, 1 << 40]))
card_case("card_dtype_unknown", "dtype 'float128' is not one of")(_set("io.stylizer.inputs.content.dtype", "float128"))
card_case("card_range_reversed", r"range must be \[low, high\]")(_set("io.stylizer.inputs.content.range", [1, -1]))
card_case("card_range_nan", r"range must be \[low, high\]|NaN is not a number")(
    lambda card, _: json.dumps(card).replace('"range": [-1.0, 1.0]', '"range": [NaN, 1.0]', 1))
card_case("card_range_bool", r"range must be \[low, high\]")(_set("io.stylizer.inputs.content.range", [False, True]))
card_case("card_dims_disagree_with_graph", "axis 1 is 3 in the graph but 4")(
    _set("io.stylizer.inputs.content.shape", ["batch", 4, "height", "width"]))
card_case("card_resolution_string", "'resolution' must be")(_set("resolution", "8x8"))
card_case("card_resolution_zero", "'resolution' must be")(_set("resolution", [0, 8]))
card_case("card_resolution_huge", "'resolution' must be")(_set("resolution", [100_000, 8]))
card_case("card_resolution_bool", "'resolution' must be")(_set("resolution", [True, 8]))
card_case("card_latent_missing", "'latent' must be", family="gan")(_delete("latent"))
card_case("card_latent_empty", "latent.shape must be", family="gan")(_set("latent", {"shape": []}))
card_case("card_latent_float", "latent.shape must be", family="gan")(_set("latent", {"shape": [8.5]}))
_PRIOR = {"kind": "gaussian-pca", "mean": [0.0] * 8, "components": [[1.0] + [0.0] * 7], "scales": [1.0],
          "residual": 1.0}
card_case("card_latent_prior_wrong_size", "latent.prior does not fit a latent of 8", family="gan")(
    _set("latent", {"shape": [8], "prior": {**_PRIOR, "mean": [0.0] * 5}}))
card_case("card_latent_prior_nan", "latent.prior holds NaN|NaN is not a number", family="gan")(
    _set("latent", {"shape": [8], "prior": {**_PRIOR, "residual": float("nan")}}))
card_case("card_latent_prior_kind", "latent.prior must be an object", family="gan")(
    _set("latent", {"shape": [8], "prior": "N(0, 1)"}))
card_case("card_thumbnail_escape", "thumbnail path .* must stay inside")(_set("thumbnail", "../../secret.png"))


def _symlinked_file(card: dict[str, Any], model_folder: Path) -> None:
    outside = model_folder.parent / "outside.onnx"
    outside.write_bytes((model_folder / "stylizer.onnx").read_bytes())
    (model_folder / "linked.onnx").symlink_to(outside)
    card["files"]["stylizer"]["path"] = "linked.onnx"


card_case("card_path_symlink_escape", "leads outside the model folder")(_symlinked_file)


@case("card", "card_duplicate_id", reason="already used by")
def _(folder: Path) -> Path:
    write_model_folder(folder, "dup", "style", {"stylizer": image_model()}, folder_name="a-first")
    return write_model_folder(folder, "dup", "style", {"stylizer": image_model()}, folder_name="b-second")


# ==================================================================================================== recipes
_RECIPE = {"format": "genart-recipe/1", "model_id": "tiny-diffusion", "model_hash": "", "seed": 7, "steps": 8,
           "sampler": "ddim", "guidance": 1.0, "prompt": "", "negative_prompt": "", "width": 16, "height": 16,
           "strength": 1.0, "mode": "txt2img", "eta": 0.0, "class_label": None}


def recipe_png(folder: Path, text: str | None, name: str = "recipe.png", fmt: str = "PNG",
               compressed: bool = False) -> Path:
    info = PngInfo()
    if text is not None:
        info.add_itxt("genart-recipe", text, zip=compressed)
    pixels = Image.fromarray(_noise(16, 16))
    return _write(folder, name, encode(pixels, fmt, **({"pnginfo": info} if fmt == "PNG" else {})))


def recipe_case(name: str, reason: str, xfail: str | None = None):
    def register(make_text: Callable[[], str]) -> Callable[[], str]:
        case("recipe", name, reason=reason, xfail=xfail)(lambda folder: recipe_png(folder, make_text()))
        return make_text
    return register


def _with(**changes: Any) -> Callable[[], str]:
    return lambda: json.dumps({**_RECIPE, **changes})


def _without(key: str) -> Callable[[], str]:
    return lambda: json.dumps({k: v for k, v in _RECIPE.items() if k != key})


recipe_case("recipe_not_json", "not valid JSON")(lambda: "{seed: 7,")
recipe_case("recipe_json_array", "must be a JSON object")(lambda: "[1, 2, 3]")
recipe_case("recipe_deep_nesting", "recipe|JSON")(lambda: "[" * 100_000 + "]" * 100_000)
recipe_case("recipe_wrong_format", "Unknown recipe format")(_with(format="genart-recipe/9"))
recipe_case("recipe_missing_model", "has no 'model_id'")(_without("model_id"))
recipe_case("recipe_model_number", "'model_id' must be text")(_with(model_id=5))
recipe_case("recipe_model_blank", "names no model")(_with(model_id="   "))
recipe_case("recipe_steps_text", "'steps' must be a whole number")(_with(steps="many"))
recipe_case("recipe_steps_bool", "'steps' must be a whole number")(_with(steps=True))
recipe_case("recipe_steps_fraction", "'steps' must be a whole number")(_with(steps=2.5))
recipe_case("recipe_steps_zero", "steps")(_with(steps=0))
recipe_case("recipe_steps_huge", "steps must be between")(_with(steps=10**9))
recipe_case("recipe_seed_negative", "seed")(_with(seed=-1))
recipe_case("recipe_seed_huge", "seed must be between")(_with(seed=2**70))
recipe_case("recipe_guidance_nan", "'guidance' must be a number|not a number JSON allows")(lambda: json.dumps({**_RECIPE, "guidance": float("nan")}))
recipe_case("recipe_guidance_inf", "'guidance' must be a number|not a number JSON allows")(lambda: json.dumps({**_RECIPE, "guidance": float("inf")}))
recipe_case("recipe_guidance_negative", "guidance must be between")(_with(guidance=-3.0))
recipe_case("recipe_guidance_huge", "guidance must be between")(_with(guidance=1e308))
recipe_case("recipe_width_zero", "width|size")(_with(width=0))
recipe_case("recipe_width_huge", "size .* is outside")(_with(width=10**6))
recipe_case("recipe_height_text", "'height' must be a whole number")(_with(height="tall"))
recipe_case("recipe_sampler_unknown", "sampler 'rm -rf /' is not one of")(_with(sampler="rm -rf /"))
recipe_case("recipe_sampler_number", "'sampler' must be text")(_with(sampler=3))
recipe_case("recipe_mode_unknown", "mode must be one of")(_with(mode="outpaint-the-universe"))
recipe_case("recipe_strength_huge", "strength must be between")(_with(strength=5.0))
recipe_case("recipe_eta_negative", "eta must be between")(_with(eta=-1.0))
recipe_case("recipe_prompt_huge", "longer than")(_with(prompt="word " * 20_000))
recipe_case("recipe_class_label_number", "'class_label' must be text or null")(_with(class_label=5))


@case("recipe", "recipe_chunk_too_large", reason="Cannot read|too large")
def _(folder: Path) -> Path:
    """A compressed text chunk that inflates past Pillow's 1 MB text limit."""
    return recipe_png(folder, json.dumps({**_RECIPE, "prompt": "x" * (2 << 20)}), compressed=True)


@case("recipe", "recipe_absent", reason="carries no GenArt recipe")
def _(folder: Path) -> Path:
    return recipe_png(folder, None)


@case("recipe", "recipe_in_jpeg", reason="carries no GenArt recipe")
def _(folder: Path) -> Path:
    return recipe_png(folder, None, "photo.jpg", "JPEG")


@case("recipe", "recipe_png_truncated", reason="Cannot read|damaged|truncated|carries no")
def _(folder: Path) -> Path:
    path = recipe_png(folder, json.dumps(_RECIPE))
    data = path.read_bytes()
    path.write_bytes(data[:20])
    return path


@case("recipe", "recipe_not_an_image", reason="Cannot read|cannot identify|not an image format")
def _(folder: Path) -> Path:
    return _write(folder, "recipe.png", b'{"format": "genart-recipe/1"}')


import tests.hardening.corpus_files  # noqa: E402,F401 - registers the hostile image, .ora and recipe cases
import tests.hardening.corpus_models  # noqa: E402,F401 - registers the model, root and command-line cases
