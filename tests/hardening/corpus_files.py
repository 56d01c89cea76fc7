"""Hostile images, .ora files and recipe PNGs, generated: files that would start a program, special files, hostile
names, decompression bombs that only show after the header, and archives whose cost explodes while they are opened.

Registered into :mod:`tests.hardening.corpus` (imported at its end), so ``test_corpus`` runs each case under its
budget: refused or handled within 10 s and 2 GB, one line, nothing written, no program started.
"""

from __future__ import annotations

import io
import json
import os
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from tests.hardening.corpus import (
    _RECIPE, case, encode, good_png, make_ora, raw_png, recipe_png, rows16, simple_ora, stack_xml,
)

HOSTILE_NAME = "evil\x1b[2J\nExported ok\x07.png"  # clears the screen and forges a second line if printed raw

# Content sniffing would hand each of these to Ghostscript (or another outside program); the allow-list must not.
FOREIGN = {
    "postscript": b"%!PS-Adobe-3.0\n%%BoundingBox: 0 0 16 16\n{ } loop\n",
    "eps_binary": b"\xc5\xd0\xd3\xc6" + struct.pack("<6I", 32, 40, 0, 0, 0, 0) + b"\xff\xff" + b"\0" * 2
                  + b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 16 16\n{ } loop\n",
    "pdf": b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n",
}


def _write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def tiled_tiff(tile: int = 23168, side: int = 16) -> bytes:
    """A few hundred bytes of deflate-compressed TIFF whose one tile is declared ``tile`` x ``tile`` pixels: libtiff
    allocates the whole tile (2 GiB for 23168) before it finds the data is a few bytes."""
    data = zlib.compress(b"\0" * side * side)
    entries = [(256, 4, side), (257, 4, side), (258, 3, 8), (259, 3, 8), (262, 3, 1), (277, 3, 1),
               (322, 4, tile), (323, 4, tile), (324, 4, 0), (325, 4, len(data))]
    ifd_size = 2 + 12 * len(entries) + 4
    offset = 8 + ifd_size
    ifd = struct.pack("<H", len(entries)) + b"".join(
        struct.pack("<HHLL", tag, kind, 1, offset if tag == 324 else value) for tag, kind, value in entries)
    return b"II*\x00" + struct.pack("<L", 8) + ifd + struct.pack("<L", 0) + data


def animated(fmt: str, frames: int = 12, side: int = 8, **options: Any) -> bytes:
    """An animation whose frame ``i`` is filled with grey ``i``: only frame 0 (black) may come back."""
    images = [Image.new("RGB", (side, side), (i, i, i)) for i in range(frames)]
    return encode(images[0], fmt, save_all=True, append_images=images[1:], **options)


def _first_frame(pixels: np.ndarray) -> None:
    assert pixels.shape[2] == 4 and pixels[..., :3].max() == 0 and (pixels[..., 3] == 255).all(), "not frame 0"


# ==================================================================================================== images
for _kind, _data in FOREIGN.items():
    for _suffix in (".png", ".jpg", ".tif"):
        @case("image", f"{_kind}_named{_suffix.replace('.', '_')}", reason="not an image format")
        def _(folder: Path, data: bytes = _data, suffix: str = _suffix) -> Path:
            return _write(folder, f"drawing{suffix}", data)


@case("image", "tiff_tile_bomb", reason="tiles are far larger")
def _(folder: Path) -> Path:
    return _write(folder, "tile.tif", tiled_tiff())


@case("image", "tiff_tile_bomb_named_png", reason="tiles are far larger")
def _(folder: Path) -> Path:
    return _write(folder, "tile.png", tiled_tiff(16384))


@case("image", "folder_named_png", reason="is a folder")
def _(folder: Path) -> Path:
    path = folder / "photo.png"
    path.mkdir()
    return path


@case("image", "link_to_zero_device", reason="special file")
def _(folder: Path) -> Path:
    path = folder / "zero.png"
    path.symlink_to("/dev/zero")
    return path


@case("image", "link_to_itself", reason="symlinks loop")
def _(folder: Path) -> Path:
    path = folder / "loop.png"
    path.symlink_to(path.name)
    return path


@case("image", "hostile_name_garbage", reason="not an image format")
def _(folder: Path) -> Path:
    return _write(folder, HOSTILE_NAME, b"garbage, not pixels")


@case("image", "hostile_name_missing", reason="does not exist")
def _(folder: Path) -> Path:
    return folder / HOSTILE_NAME


@case("image", "longest_name_bomb", reason="larger than|too large")
def _(folder: Path) -> Path:
    return _write(folder, "b" * 251 + ".png", raw_png(16_000, 16_000, 8, 6))


_GREY16 = (np.arange(2048 * 1024, dtype=np.uint32) * 31 % 65536).astype(np.uint16).reshape(1024, 2048, 1)


@case("image", "grey16_large_png", "load", check=lambda pixels: _check_grey16(pixels))
def _(folder: Path) -> Path:
    return _write(folder, "deep.png", raw_png(2048, 1024, 16, 0, rows16(_GREY16)))


def _check_grey16(pixels: np.ndarray) -> None:
    expected = np.round(_GREY16[..., 0] / 257.0).astype(np.uint8)
    assert pixels.shape == (1024, 2048, 4) and np.array_equal(pixels[..., 0], expected)
    assert np.array_equal(pixels[..., 2], expected) and (pixels[..., 3] == 255).all()


@case("image", "apng_first_frame_only", "load", check=_first_frame)
def _(folder: Path) -> Path:
    return _write(folder, "anim.png", animated("PNG", 300))


@case("image", "gif_first_frame_only", "load", check=_first_frame)
def _(folder: Path) -> Path:
    return _write(folder, "anim.gif", animated("GIF", 50))


@case("image", "webp_first_frame_only", "load", check=lambda pixels: _first_frame_lossy(pixels))
def _(folder: Path) -> Path:
    return _write(folder, "anim.webp", animated("WEBP", 20, lossless=True))


def _first_frame_lossy(pixels: np.ndarray) -> None:
    assert pixels[..., :3].max() <= 2, "not frame 0"


@case("image", "tiff_multipage_first_page", "load", check=_first_frame)
def _(folder: Path) -> Path:
    return _write(folder, "pages.tif", animated("TIFF", 5))


# ==================================================================================================== .ora files
def _forged_zip64_end(data: bytes, entries: int, directory_size: int) -> bytes:
    """``data`` (a small zip) with its end record replaced by zip64 records that claim ``entries`` entries and a
    ``directory_size``-byte central directory, as a zip64 archive with millions of entries states them."""
    end = data.rfind(b"PK\x05\x06")
    _, _, _, _, _, _, cd_offset, _ = struct.unpack_from("<4s4H2LH", data, end)
    record_at = end
    record = struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, entries, entries, directory_size, cd_offset)
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, record_at, 1)
    tail = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    return data[:end] + record + locator + tail


@case("ora", "ora_zip64_claims_millions_of_entries", reason="holds 3,000,000 files")
def _(folder: Path) -> Path:
    path = simple_ora(folder, "million.ora")
    return _write(folder, "million.ora", _forged_zip64_end(path.read_bytes(), 3_000_000, 150_000_000))


@case("ora", "ora_zip64_directory_too_large", reason="table of contents")
def _(folder: Path) -> Path:
    path = simple_ora(folder, "toc.ora")
    return _write(folder, "toc.ora", _forged_zip64_end(path.read_bytes(), 4, 150_000_000))


@case("ora", "ora_real_many_entries", reason="holds 12,00\\d files")
def _(folder: Path) -> Path:
    members = [("stack.xml", stack_xml([{"src": "data/a.png"}])), ("data/a.png", good_png())]
    members += [(f"x/{i}", b"") for i in range(12_000)]
    return make_ora(folder, "entries.ora", members, compress=zipfile.ZIP_STORED)


def _utf16_stack(extra: str = "", name: str = "a") -> bytes:
    return (f"<?xml version='1.0' encoding='UTF-16'?>\n{extra}<image version=\"0.0.3\" w=\"16\" h=\"12\">"
            f"<stack><layer name=\"{name}\" src=\"data/a.png\"/></stack></image>").encode("utf-16")


_LAUGHS = "<!DOCTYPE image [<!ENTITY a \"" + "ha" * 50 + "\">" + "".join(
    f"<!ENTITY {chr(98 + i)} \"{('&' + chr(97 + i) + ';') * 10}\">" for i in range(6)) + "]>\n"


@case("ora", "ora_utf16_entity_bomb", reason="DTD or entities")
def _(folder: Path) -> Path:
    return make_ora(folder, "laughs16.ora", [("stack.xml", _utf16_stack(_LAUGHS, "&g;")), ("data/a.png", good_png())])


@case("ora", "ora_utf16_external_entity", reason="DTD or entities")
def _(folder: Path) -> Path:
    extra = "<!DOCTYPE image [<!ENTITY s SYSTEM \"file:///proc/self/environ\">]>\n"
    return make_ora(folder, "xxe16.ora", [("stack.xml", _utf16_stack(extra, "&s;")), ("data/a.png", good_png())])


@case("ora", "ora_utf16_without_dtd", "load", check=lambda doc: _named(doc, ["plain ü"]))
def _(folder: Path) -> Path:
    return make_ora(folder, "plain16.ora", [("stack.xml", _utf16_stack(name="plain ü")), ("data/a.png", good_png())])


def _named(doc: Any, names: list[str]) -> None:
    assert [layer.name for layer in doc.layers] == names


@case("ora", "ora_forty_big_layers_one_member", reason="more memory than allowed")
def _(folder: Path) -> Path:
    stack = stack_xml([{"src": "data/a.png"}] * 40, width=4096, height=4096)
    return make_ora(folder, "forty.ora", [("stack.xml", stack), ("data/a.png", good_png(1, 1))])


def _thousand_layers(doc: Any) -> None:
    assert len(doc.layers) == 1000 and (doc.width, doc.height) == (16, 12)
    assert all(layer.pixels[..., 3].max() == 255 for layer in doc.layers[::97])


@case("ora", "ora_thousand_layers_one_large_member", "load", check=_thousand_layers)
def _(folder: Path) -> Path:
    """1000 layers all pointing at one 4000 x 4000 image: decoded once, not a thousand times."""
    big = encode(Image.new("RGBA", (4000, 4000), (9, 9, 9, 255)), "PNG", compress_level=9)
    stack = stack_xml([{"src": "data/big.png", "x": "-100", "y": "-100"}] * 1000)
    return make_ora(folder, "thousand.ora", [("stack.xml", stack), ("data/big.png", big)],
                    compress=zipfile.ZIP_STORED)


@case("ora", "ora_two_megabyte_layer_name", "load", check=lambda doc: _named(doc, ["n" * 256]))
def _(folder: Path) -> Path:
    stack = stack_xml([{"name": "n" * (2 << 20), "src": "data/a.png"}])
    return make_ora(folder, "longname.ora", [("stack.xml", stack), ("data/a.png", good_png())],
                    compress=zipfile.ZIP_STORED)


def _no_metadata(doc: Any) -> None:
    assert doc.layers[0].metadata == {} and doc.metadata == {}


@case("ora", "ora_metadata_with_huge_numbers", "load", check=_no_metadata)
def _(folder: Path) -> Path:
    layer_meta = json.dumps({"seed": 1}).replace("1", "7" * 5000)
    stack = stack_xml([{"src": "data/a.png", "genart-metadata": layer_meta.replace('"', "&quot;")}])
    return make_ora(folder, "numbers.ora", [("stack.xml", stack), ("data/a.png", good_png()),
                                            ("genart/metadata.json", b'{"zoom": 1e999, "deep": ' + b"[" * 5000
                                             + b"]" * 5000 + b"}")])


for _kind, _data in FOREIGN.items():
    @case("ora", f"ora_{_kind}_layer", reason=r"layer 'data/a\.png'.*not an image format")
    def _(folder: Path, data: bytes = _data) -> Path:
        return simple_ora(folder, f"{_kind}.ora", layer=data)


@case("ora", "ora_member_bomb_under_the_side_limit", reason=r"layer 'data/a\.png'.*12000x12000 is larger than")
def _(folder: Path) -> Path:
    """A 16 x 12 canvas whose layer image declares 12000 x 12000 (576 MB decoded) in a hundred bytes."""
    return simple_ora(folder, "memberbomb.ora", layer=raw_png(12_000, 12_000, 8, 6))


@case("ora", "ora_tile_bomb_layer", reason=r"layer 'data/a\.png'.*tiles are far larger")
def _(folder: Path) -> Path:
    return simple_ora(folder, "tiles.ora", layer=tiled_tiff())


@case("ora", "ora_animated_layer_first_frame", "load", check=lambda doc: _first_frame(doc.layers[0].pixels[:8, :8]))
def _(folder: Path) -> Path:
    return simple_ora(folder, "animlayer.ora", layer=animated("PNG", 50), width=8, height=8)


@case("ora", "ora_folder", reason="is a folder")
def _(folder: Path) -> Path:
    path = folder / "painting.ora"
    path.mkdir()
    return path


@case("ora", "ora_link_to_zero_device", reason="special file")
def _(folder: Path) -> Path:
    path = folder / "zero.ora"
    path.symlink_to("/dev/zero")
    return path


@case("ora", "ora_hostile_name", reason="not a readable OpenRaster")
def _(folder: Path) -> Path:
    return _write(folder, HOSTILE_NAME.replace(".png", ".ora"), b"PK\x03\x04 not really")


# ==================================================================================================== recipes
def _apng_recipe(folder: Path, text: str | None, frames: int) -> Path:
    info = PngInfo()
    if text is not None:
        info.add_itxt("genart-recipe", text)
    images = [Image.new("RGB", (64, 64), (i % 256, i // 256, 0)) for i in range(frames)]
    buffer = io.BytesIO()
    images[0].save(buffer, "PNG", save_all=True, append_images=images[1:], pnginfo=info)
    return _write(folder, "anim.png", buffer.getvalue())


@case("recipe", "recipe_apng_500_frames_none", reason="carries no GenArt recipe")
def _(folder: Path) -> Path:
    return _apng_recipe(folder, None, 500)


@case("recipe", "recipe_apng_500_frames_bad_steps", reason="steps must be between")
def _(folder: Path) -> Path:
    return _apng_recipe(folder, json.dumps({**_RECIPE, "steps": 10_000}), 500)


for _kind, _data in FOREIGN.items():
    @case("recipe", f"recipe_{_kind}_named_png", reason="not an image format")
    def _(folder: Path, data: bytes = _data) -> Path:
        return _write(folder, "recipe.png", data)


@case("recipe", "recipe_tile_bomb", reason="tiles are far larger")
def _(folder: Path) -> Path:
    return _write(folder, "recipe.png", tiled_tiff())


@case("recipe", "recipe_png_bomb_header", reason="larger than|too large")
def _(folder: Path) -> Path:
    return _write(folder, "recipe.png", raw_png(16_000, 16_000, 8, 6))


@case("recipe", "recipe_integer_5000_digits", reason="5000 digits")
def _(folder: Path) -> Path:
    return recipe_png(folder, json.dumps(_RECIPE).replace('"seed": 7', '"seed": ' + "7" * 5000))


@case("recipe", "recipe_float_overflow", reason="out of range")
def _(folder: Path) -> Path:
    return recipe_png(folder, json.dumps(_RECIPE).replace('"guidance": 1.0', '"guidance": 1e999'))


@case("recipe", "recipe_nested_objects", reason="nests")
def _(folder: Path) -> Path:
    return recipe_png(folder, json.dumps({**_RECIPE, "prompt": [[[[[[[[["deep"]]]]]]]]]}))


def _region_recipe(folder: Path, masks: list[bytes]) -> Path:
    """A recipe PNG whose regions carry these mask files (base64), each with the prompt "red"."""
    import base64

    regions = [{"prompt": "red", "mask": base64.b64encode(mask).decode("ascii")} for mask in masks]
    return recipe_png(folder, json.dumps({**_RECIPE, "regions": regions}))


@case("recipe", "recipe_region_mask_bomb_header", reason="larger than|too large")
def _(folder: Path) -> Path:
    return _region_recipe(folder, [raw_png(16_000, 16_000, 8, 0)])


@case("recipe", "recipe_region_mask_wrong_shape", reason="not the shape of the 16x16 picture")
def _(folder: Path) -> Path:
    return _region_recipe(folder, [encode(Image.fromarray(np.full((8, 32), 255, np.uint8)), "PNG")])


@case("recipe", "recipe_region_mask_not_png", reason="region's mask must be a PNG")
def _(folder: Path) -> Path:
    return _region_recipe(folder, [encode(Image.fromarray(np.full((16, 16), 255, np.uint8)), "BMP")])


@case("recipe", "recipe_too_many_regions", reason="at most 8 regions")
def _(folder: Path) -> Path:
    return _region_recipe(folder, [encode(Image.fromarray(np.full((16, 16), 255, np.uint8)), "PNG")] * 9)


@case("recipe", "recipe_folder", reason="is a folder")
def _(folder: Path) -> Path:
    path = folder / "recipe.png"
    path.mkdir()
    return path


@case("recipe", "recipe_link_to_zero_device", reason="special file")
def _(folder: Path) -> Path:
    path = folder / "recipe.png"
    path.symlink_to("/dev/zero")
    return path


@case("recipe", "recipe_hostile_name", reason="carries no GenArt recipe")
def _(folder: Path) -> Path:
    return recipe_png(folder, None, name=HOSTILE_NAME)


@case("recipe", "recipe_link_loop", reason="symlinks loop")
def _(folder: Path) -> Path:
    os.symlink("recipe.png", folder / "recipe.png")
    return folder / "recipe.png"
