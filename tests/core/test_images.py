"""Image helpers: every pixel mode decodes to RGBA correctly, bad files are refused by name, tensors round-trip."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from genart_desktop.core.errors import InputError
from genart_desktop.core import images
from genart_desktop.core.images import (
    check_pixel_image, flatten_alpha, from_tensor, open_image_rgba, resize, rgba_to_pil, to_tensor,
)


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def test_sixteen_bit_grey_maps_the_full_range_even_when_dark():
    values = np.array([[0, 100, 257, 32768, 65535]], np.uint16)
    grey = open_image_rgba(_png(Image.fromarray(values)))
    assert grey.shape == (1, 5, 4) and grey.dtype == np.uint8
    assert grey[0, :, 0].tolist() == [0, 0, 1, 128, 255]
    assert (grey[..., 0] == grey[..., 2]).all() and (grey[..., 3] == 255).all()


def test_thirty_two_bit_int_and_float_images():
    as_int = Image.fromarray(np.array([[0, 128, 255]], np.int32), "I")
    assert open_image_rgba(_tiff(as_int))[0, :, 0].tolist() == [0, 128, 255]
    as_float = Image.fromarray(np.array([[0.0, 0.5, 1.0, 7.0]], np.float32), "F")
    assert open_image_rgba(_tiff(as_float))[0, :, 0].tolist() == [0, 128, 255, 255]


def _tiff(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "TIFF")
    return buffer.getvalue()


def test_modes_convert_to_straight_rgba():
    la = Image.fromarray(np.array([[[50, 0], [60, 200]]], np.uint8), "LA")
    assert open_image_rgba(_png(la)).tolist() == [[[50, 50, 50, 0], [60, 60, 60, 200]]]
    palette = Image.fromarray(np.array([[0, 1]], np.uint8), "P")
    palette.putpalette([9, 8, 7, 1, 2, 3])
    buffer = io.BytesIO()
    palette.save(buffer, "PNG", transparency=0)
    assert open_image_rgba(buffer.getvalue()).tolist() == [[[9, 8, 7, 0], [1, 2, 3, 255]]]
    cmyk = Image.new("CMYK", (1, 1), (0, 0, 0, 255))
    assert open_image_rgba(_tiff(cmyk)).tolist() == [[[0, 0, 0, 255]]]


def test_exif_orientation_is_applied():
    pixels = np.zeros((2, 6, 3), np.uint8)
    pixels[0, 0] = 255
    image = Image.fromarray(pixels)
    exif = image.getexif()
    exif[0x0112] = 8  # rotate 90 degrees counter-clockwise to view
    buffer = io.BytesIO()
    image.save(buffer, "PNG", exif=exif.tobytes())
    upright = open_image_rgba(buffer.getvalue())
    assert upright.shape == (6, 2, 4)
    assert upright[-1, 0, 0] == 255  # the top-left pixel ends up bottom-left


def test_refusals_name_the_file(tmp_path):
    missing = tmp_path / "missing.png"
    with pytest.raises(InputError, match="missing.png: the file does not exist"):
        open_image_rgba(missing)
    broken = tmp_path / "broken.png"
    broken.write_bytes(_png(Image.new("RGB", (64, 64), "red"))[:60])
    with pytest.raises(InputError, match="broken.png: the file is damaged or truncated"):
        open_image_rgba(broken)
    text = tmp_path / "text.webp"
    text.write_text("hello")
    with pytest.raises(InputError, match="text.webp: it is not an image format"):
        open_image_rgba(text)
    wide = tmp_path / "wide.png"
    wide.write_bytes(_png(Image.new("L", (20000, 1))))
    with pytest.raises(InputError, match=r"wide.png: 20000x1 is larger than the 16384 px limit"):
        open_image_rgba(wide)


def test_pixel_checks_and_conversions():
    with pytest.raises(InputError, match="Expected an"):
        check_pixel_image(np.zeros((4, 4), np.uint8))
    with pytest.raises(InputError):
        check_pixel_image(np.zeros((4, 4, 4), np.float32))
    rgba = np.array([[[255, 0, 0, 0], [0, 0, 255, 255], [0, 255, 0, 128]]], np.uint8)
    assert flatten_alpha(rgba).tolist() == [[[255, 255, 255], [0, 0, 255], [127, 255, 127]]]
    assert rgba_to_pil(rgba).mode == "RGBA" and rgba_to_pil(rgba[..., :3]).mode == "RGB"


def test_tensors_round_trip_and_clean_non_finite_values():
    rgb = np.random.default_rng(0).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    tensor = to_tensor(rgb)
    assert tensor.shape == (1, 3, 5, 7) and tensor.dtype == np.float32
    assert tensor.min() >= -1.0 and tensor.max() <= 1.0
    assert np.array_equal(from_tensor(tensor), rgb)
    bad = np.array([[[np.nan, np.inf, -np.inf, 5.0]]] * 3, np.float32)
    assert from_tensor(bad)[0].tolist() == [[128, 128, 128], [255, 255, 255], [0, 0, 0], [255, 255, 255]]
    with pytest.raises(InputError, match="batch of 2"):
        from_tensor(np.zeros((2, 3, 4, 4), np.float32))
    with pytest.raises(InputError, match=r"\(3, H, W\)"):
        from_tensor(np.zeros((5, 4, 4), np.float32))


def test_resize_keeps_transparent_colour_out_of_edges():
    pixels = np.zeros((8, 8, 4), np.uint8)
    pixels[:, :4] = (255, 255, 255, 255)  # white opaque half; the other half is transparent black
    half = resize(pixels, 4, 4)
    assert half.shape == (4, 4, 4)
    visible = half[..., 3] > 0
    assert (half[visible][:, :3] > 240).all(), "premultiplied resampling must not darken the edge"
    assert resize(pixels, 8, 8) is not pixels
    with pytest.raises(InputError, match="Cannot resize to 0x4"):
        resize(pixels, 0, 4)


# -- hostile files ----------------------------------------------------------------------------------------------------
def test_only_allowed_decoders_run_and_no_program_is_started(tmp_path, monkeypatch):
    from tests.hardening.corpus_files import FOREIGN

    started = []
    monkeypatch.setattr("subprocess.Popen", lambda *a, **k: started.append(a) or pytest.fail("started a program"))
    for kind in ("postscript", "eps_binary"):  # without an allow-list, Pillow hands these to Ghostscript
        with Image.open(io.BytesIO(FOREIGN[kind])) as sniffed:
            assert sniffed.format == "EPS"
    for kind, data in FOREIGN.items():
        for suffix in (".png", ".jpg"):
            path = tmp_path / f"{kind}{suffix}"
            path.write_bytes(data)
            with pytest.raises(InputError, match=f"{kind}{suffix}: it is not an image format we can read") as refused:
                open_image_rgba(path)
            assert "\n" not in str(refused.value)
    assert not started


@pytest.mark.parametrize("fmt", images.IMAGE_FORMATS)
def test_every_allowed_format_opens(fmt):
    pixels = np.zeros((8, 8, 3), np.uint8)
    pixels[2:6, 2:6] = (255, 255, 255)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, fmt, **({"lossless": True} if fmt == "WEBP" else {}))
    decoded = open_image_rgba(buffer.getvalue())
    assert decoded.shape == (8, 8, 4) and abs(int(decoded[3, 3, 0]) - 255) <= 8 and decoded[0, 0, 0] <= 8


def test_tiff_tiles_may_not_be_far_larger_than_the_image():
    from tests.hardening.corpus_files import tiled_tiff

    assert open_image_rgba(tiled_tiff(tile=16)).shape == (16, 16, 4)  # an ordinary tiled TIFF
    for tile in (2048, 23168):
        with pytest.raises(InputError, match=f"its {tile}x{tile} tiles are far larger than the 16x16 image"):
            open_image_rgba(tiled_tiff(tile=tile))


def test_pixel_cap_is_per_call_and_checked_before_decoding(monkeypatch):
    data = _png(Image.new("RGB", (100, 100)))
    assert open_image_rgba(data, max_pixels=10_000).shape == (100, 100, 4)
    monkeypatch.setattr(Image.Image, "load", lambda self: pytest.fail("decoded before the size was checked"))
    with pytest.raises(InputError, match="100x100 is larger than the 9,999 pixel limit"):
        open_image_rgba(data, max_pixels=9_999)


def test_pillows_own_bomb_error_is_one_line():
    from tests.hardening.corpus import raw_png

    assert Image.MAX_IMAGE_PIXELS >= images.MAX_IMAGE_PIXELS  # never stricter than the largest canvas
    with pytest.raises(InputError, match="image data: it is too large to decode safely"):
        open_image_rgba(raw_png(30_000, 30_000, 8, 6), max_pixels=images.MAX_IMAGE_PIXELS)


def test_sixteen_bit_conversion_is_exact_in_bands_without_float_copies(monkeypatch):
    import tracemalloc

    every_value = np.arange(65536, dtype=np.uint16).reshape(256, 256)
    expected = np.round(every_value / 257.0).astype(np.uint8)
    monkeypatch.setattr(images, "_CHUNK_PIXELS", 1000)  # bands of 3 rows: band edges must not show
    grey = open_image_rgba(_png(Image.fromarray(every_value)))
    assert np.array_equal(grey[..., 0], expected) and np.array_equal(grey[..., 1], expected)
    monkeypatch.undo()
    large = Image.fromarray(np.tile(every_value, (8, 8)))  # 2048 x 2048, 16-bit
    large.load()
    tracemalloc.start()
    try:
        rgba = images._to_rgba(large)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # output (4 bytes a pixel), the 16-bit pixels (2, plus 2 while Pillow hands them over) and small bands; a
    # float64 copy alone would add 8 bytes a pixel
    assert rgba.shape == (2048, 2048, 4) and peak < 2.5 * rgba.nbytes, peak / rgba.nbytes


def test_animations_give_their_first_frame_without_visiting_the_others(monkeypatch):
    from PIL import PngImagePlugin

    from tests.hardening.corpus_files import animated

    seeks = []
    real_seek = PngImagePlugin.PngImageFile.seek
    monkeypatch.setattr(PngImagePlugin.PngImageFile, "seek", lambda self, frame: seeks.append(frame) or
                        real_seek(self, frame))
    for fmt in ("PNG", "GIF", "TIFF"):
        pixels = open_image_rgba(animated(fmt, 40))
        assert pixels[..., :3].max() == 0, fmt
    assert set(seeks) <= {0}


def test_every_image_in_the_app_is_opened_through_the_allow_list():
    """One place in the app opens images (``core.images.open_image``), and it names the decoders; anything else
    would let Pillow choose by content again. Training may decode its own bytes, but always naming the format."""
    import re
    from pathlib import Path

    import genart_desktop

    package = Path(genart_desktop.__file__).parent
    calls = {path.relative_to(package).as_posix(): re.findall(r"Image\.open\([^)]*\)", path.read_text("utf-8"))
             for path in package.rglob("*.py")}
    opening = {name: found for name, found in calls.items() if found}
    assert [name for name in opening if not name.startswith("training/")] == ["core/images.py"], opening
    assert all("formats=IMAGE_FORMATS" in call for call in opening["core/images.py"])
    assert all("formats=" in call for found in opening.values() for call in found), opening
    assert set(images.IMAGE_FORMATS) == {"PNG", "JPEG", "WEBP", "TIFF", "BMP", "GIF"}
