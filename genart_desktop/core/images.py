"""Numpy image helpers shared by the document and the engine.

Conventions: a *pixel image* is an ``(H, W, 4)`` uint8 RGBA array (straight, not premultiplied alpha) or an
``(H, W, 3)`` uint8 RGB array; a *tensor image* is a float32 ``(N, C, H, W)`` array in ``[-1, 1]`` as our ONNX models
take and return.
"""

from __future__ import annotations

import io
import os
import warnings
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from struct import error as struct_error
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from genart_desktop.core.errors import InputError
from genart_desktop.core.safe_read import open_regular
from genart_desktop.core.text import shown

# The largest canvas we allow.
MAX_IMAGE_PIXELS = 16384 * 16384
MAX_IMAGE_SIDE = 16384
# The most pixels one file may decode to unless the caller asks for more (Pillow's own default: 358 MB as RGBA), so
# a 100-byte file declaring 16000 x 16000 is refused before a gigabyte is allocated.
MAX_DECODE_PIXELS = 89_478_485
MAX_IMAGE_FILE_BYTES = 2 << 30
# The only decoders we let Pillow pick from. Never EPS/PS/PDF (they run Ghostscript) nor anything else that starts
# a program or reads other files; animated formats give their first frame only.
IMAGE_FORMATS = ("PNG", "JPEG", "WEBP", "TIFF", "BMP", "GIF")
# A TIFF tile may be as large as the image, or this big for a small image; libtiff allocates one whole tile, so a
# few bytes declaring a 23168 x 23168 tile would otherwise cost gigabytes.
TIFF_TILE_FLOOR = 1024 * 1024
_CHUNK_PIXELS = 1 << 20  # deep (16/32-bit, float) images are converted in bands of this many pixels
TIFF_TILE_WIDTH, TIFF_TILE_LENGTH = 322, 323

ImageFile.LOAD_TRUNCATED_IMAGES = False
# Pillow's own bomb guard (process-wide) is only a backstop, set so that it never refuses what a caller allows (up to
# the largest canvas); the per-call ``max_pixels`` check below refuses first with a readable reason, so Pillow's
# warning, printed on the terminal, would only repeat it.
Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)
# A hostile file makes Pillow warn ("Corrupt EXIF data", ...) on the terminal; what matters is raised or ignored.
warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")


def _check_size(image: Image.Image, name: str, max_pixels: int) -> None:
    width, height = image.size
    if width <= 0 or height <= 0:
        raise InputError(f"Cannot open {name}: it has no pixels.")
    if width > MAX_IMAGE_SIDE or height > MAX_IMAGE_SIDE:
        raise InputError(f"Cannot open {name}: {width}x{height} is larger than the {MAX_IMAGE_SIDE} px limit.")
    if width * height > max_pixels:
        raise InputError(f"Cannot open {name}: {width}x{height} is larger than the {max_pixels:,} pixel limit.")
    if image.format == "TIFF":
        tags = getattr(image, "tag_v2", {})
        tile_w, tile_h = tags.get(TIFF_TILE_WIDTH), tags.get(TIFF_TILE_LENGTH)
        if isinstance(tile_w, int) and isinstance(tile_h, int) and \
                tile_w * tile_h > max(width * height, TIFF_TILE_FLOOR):
            raise InputError(f"Cannot open {name}: its {tile_w}x{tile_h} tiles are far larger than the "
                             f"{width}x{height} image (a decompression bomb?).")


@contextmanager
def _decoding(name: str) -> Iterator[None]:
    """Whatever a hostile file makes Pillow raise, as one line naming the file."""
    try:
        yield
    except Image.DecompressionBombError as exc:
        raise InputError(f"Cannot open {name}: it is too large to decode safely.") from exc
    except UnidentifiedImageError as exc:
        raise InputError(f"Cannot open {name}: it is not an image format we can read "
                         f"({', '.join(IMAGE_FORMATS)}).") from exc
    except MemoryError as exc:
        raise InputError(f"Cannot open {name}: there is not enough memory to decode it.") from exc
    except (OSError, SyntaxError, ValueError, EOFError, struct_error, IndexError, KeyError, TypeError,
            ZeroDivisionError, OverflowError) as exc:
        reason = shown(str(exc).splitlines()[0] if str(exc) else type(exc).__name__, 200)
        raise InputError(f"Cannot open {name}: the file is damaged or truncated ({reason}).") from exc


@contextmanager
def open_image(source: str | os.PathLike[str] | bytes, max_pixels: int = MAX_DECODE_PIXELS,
               name: str | None = None) -> Iterator[Image.Image]:
    """The still image in ``source`` (a path or the file's bytes) opened by an allowed decoder, its size checked
    against ``max_pixels`` but not yet decoded; decoding inside the ``with`` block is covered too: any failure is
    one :class:`InputError` line naming the file. A path must be a regular file (never a pipe or device)."""
    name = shown(name if name is not None else "image data" if isinstance(source, bytes) else Path(source).name)
    with ExitStack() as stack:
        if isinstance(source, bytes):
            handle: io.BytesIO | BinaryIO = io.BytesIO(source)
        else:
            try:
                handle = stack.enter_context(open_regular(source, MAX_IMAGE_FILE_BYTES))
            except InputError as exc:
                raise InputError(str(exc).replace("Cannot read ", "Cannot open ", 1)) from None
        with _decoding(name):
            image = stack.enter_context(Image.open(handle, formats=IMAGE_FORMATS))
            _check_size(image, name, max_pixels)
            yield image


def open_image_rgba(source: str | os.PathLike[str] | bytes, max_pixels: int = MAX_DECODE_PIXELS,
                    name: str | None = None) -> np.ndarray:
    """Decode the first frame of any still image we allow (any mode: palette, 16-bit, CMYK, LA...) into an RGBA
    uint8 array, refusing anything over ``max_pixels`` before it is decoded.

    Raises :class:`InputError` with a readable reason for missing, truncated, corrupt, oversized or disallowed files.
    """
    with open_image(source, max_pixels, name) as image:
        image.load()
        return _to_rgba(_upright(image))


def _upright(image: Image.Image) -> Image.Image:
    """Apply the EXIF orientation (phone photos store pixels sideways); a damaged EXIF block is ignored."""
    try:
        orientation = image.getexif().get(0x0112, 1)
    except Exception:  # noqa: BLE001 - EXIF parsing of a hostile file may fail in many ways; pixels still count
        return image
    if orientation in (None, 1) or not isinstance(orientation, int):
        return image
    try:
        return ImageOps.exif_transpose(image)
    except Exception:  # noqa: BLE001 - same: keep the stored orientation rather than refuse the image
        return image


def _grey_to_rgba(values: np.ndarray, to_8bit: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Opaque RGBA from one deep channel, converted band by band so no full-size wide copy is ever made."""
    height, width = values.shape
    rgba = np.empty((height, width, 4), np.uint8)
    rgba[..., 3] = 255
    rows = max(1, _CHUNK_PIXELS // max(width, 1))
    for top in range(0, height, rows):
        rgba[top:top + rows, :, :3] = to_8bit(values[top:top + rows])[..., None]
    return rgba


def _sixteen_to_8bit(band: np.ndarray) -> np.ndarray:
    """0..65535 to 0..255, rounded (``(v + 128) // 257`` equals ``round(v / 257)`` for integers)."""
    return ((np.clip(band, 0, 65535).astype(np.uint32) + 128) // 257).astype(np.uint8)


def _float_to_8bit(band: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(np.nan_to_num(band, nan=0.0) * np.float32(255.0)), 0, 255).astype(np.uint8)


def _to_rgba(image: Image.Image) -> np.ndarray:
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        data = np.asarray(image)
        # 16-bit modes always span 0..65535 (a dark 16-bit image must stay dark); 32-bit "I" images carry no
        # depth, so values up to 255 are taken as 8-bit and anything larger as 16-bit.
        if mode.startswith("I;16") or data.max(initial=0) > 255:
            return _grey_to_rgba(data, _sixteen_to_8bit)
        return _grey_to_rgba(data, lambda band: np.clip(band, 0, 255).astype(np.uint8))
    if mode == "F":
        return _grey_to_rgba(np.asarray(image), _float_to_8bit)
    if mode == "CMYK":
        image = image.convert("RGB")
    if mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    return np.ascontiguousarray(np.asarray(image.convert("RGBA"), dtype=np.uint8))


def rgba_to_pil(pixels: np.ndarray) -> Image.Image:
    check_pixel_image(pixels)
    mode = "RGBA" if pixels.shape[2] == 4 else "RGB"
    return Image.fromarray(np.ascontiguousarray(pixels), mode)


def check_pixel_image(pixels: np.ndarray) -> None:
    if not isinstance(pixels, np.ndarray) or pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[2] not in (3, 4):
        shape = getattr(pixels, "shape", None)
        dtype = getattr(pixels, "dtype", None)
        raise InputError(f"Expected an (H, W, 3|4) uint8 image, got shape {shape} and dtype {dtype}.")


def flatten_alpha(pixels: np.ndarray, background: tuple[int, int, int] = (255, 255, 255)) -> np.ndarray:
    """Composite straight-alpha RGBA over a solid colour, giving RGB uint8."""
    check_pixel_image(pixels)
    if pixels.shape[2] == 3:
        return pixels
    alpha = pixels[..., 3:4].astype(np.float32) / 255.0
    rgb = pixels[..., :3].astype(np.float32) * alpha + np.asarray(background, np.float32) * (1.0 - alpha)
    return np.clip(np.round(rgb), 0, 255).astype(np.uint8)


def to_tensor(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 -> (1, 3, H, W) float32 in [-1, 1]."""
    check_pixel_image(rgb)
    x = rgb[..., :3].astype(np.float32) / 127.5 - 1.0
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None])


def from_tensor(tensor: np.ndarray) -> np.ndarray:
    """(1, 3, H, W) or (3, H, W) float in [-1, 1] -> (H, W, 3) uint8, clipping and replacing NaN with 0."""
    x = np.asarray(tensor, dtype=np.float32)
    if x.ndim == 4:
        if x.shape[0] != 1:
            raise InputError(f"Expected a single image tensor, got a batch of {x.shape[0]}.")
        x = x[0]
    if x.ndim != 3 or x.shape[0] not in (1, 3):
        raise InputError(f"Expected a (3, H, W) image tensor, got shape {tuple(x.shape)}.")
    if x.shape[0] == 1:
        x = np.repeat(x, 3, axis=0)
    x = np.nan_to_num(x, nan=0.0, posinf=1.0, neginf=-1.0)
    return np.clip(np.round((x.transpose(1, 2, 0) + 1.0) * 127.5), 0, 255).astype(np.uint8)


def resize(pixels: np.ndarray, width: int, height: int) -> np.ndarray:
    """High-quality resampling (Lanczos) of an RGB/RGBA uint8 image; alpha is premultiplied to avoid dark fringes."""
    check_pixel_image(pixels)
    if width <= 0 or height <= 0:
        raise InputError(f"Cannot resize to {width}x{height}.")
    if pixels.shape[1] == width and pixels.shape[0] == height:
        return pixels.copy()
    if pixels.shape[2] == 4:
        image = Image.fromarray(np.ascontiguousarray(pixels), "RGBA").convert("RGBa")
        return np.asarray(image.resize((width, height), Image.Resampling.LANCZOS).convert("RGBA"))
    image = Image.fromarray(np.ascontiguousarray(pixels), "RGB")
    return np.asarray(image.resize((width, height), Image.Resampling.LANCZOS))


def resize_mask(mask: np.ndarray, width: int, height: int) -> np.ndarray:
    """A (H, W) uint8 mask (a selection) resampled bilinearly to ``width`` x ``height``; a copy when already that
    size, so callers may change the result."""
    if mask.shape == (height, width):
        return mask.copy()
    image = Image.fromarray(np.ascontiguousarray(mask), "L").resize((width, height), Image.Resampling.BILINEAR)
    return np.asarray(image, np.uint8)
