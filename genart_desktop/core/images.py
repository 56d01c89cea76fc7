"""Numpy image helpers shared by the document and the engine.

Conventions: a *pixel image* is an ``(H, W, 4)`` uint8 RGBA array (straight, not premultiplied alpha) or an
``(H, W, 3)`` uint8 RGB array; a *tensor image* is a float32 ``(N, C, H, W)`` array in ``[-1, 1]`` as our ONNX models
take and return.
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from genart_desktop.core.errors import InputError

# Bigger than any canvas we allow, small enough that a decompression bomb is refused before it is decoded.
MAX_IMAGE_PIXELS = 16384 * 16384
MAX_IMAGE_SIDE = 16384
ImageFile.LOAD_TRUNCATED_IMAGES = False


def open_image_rgba(source: str | os.PathLike[str] | bytes) -> np.ndarray:
    """Decode any still image Pillow reads (any mode: palette, 16-bit, CMYK, LA...) into an RGBA uint8 array.

    Raises :class:`InputError` with a readable reason for missing, truncated, corrupt or oversized files.
    """
    name = "image data" if isinstance(source, bytes) else Path(source).name
    if not isinstance(source, bytes) and not Path(source).is_file():
        raise InputError(f"Cannot open {name}: the file does not exist.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            handle = Image.open(io.BytesIO(source) if isinstance(source, bytes) else source)
            with handle as image:
                width, height = image.size
                if width <= 0 or height <= 0:
                    raise InputError(f"Cannot open {name}: it has no pixels.")
                if width > MAX_IMAGE_SIDE or height > MAX_IMAGE_SIDE or width * height > MAX_IMAGE_PIXELS:
                    raise InputError(
                        f"Cannot open {name}: {width}x{height} is larger than the {MAX_IMAGE_SIDE} px limit."
                    )
                image.load()
                return _to_rgba(_upright(image))
    except InputError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise InputError(f"Cannot open {name}: it is too large to decode safely ({exc}).") from exc
    except UnidentifiedImageError as exc:
        raise InputError(f"Cannot open {name}: it is not an image format we can read.") from exc
    except (OSError, SyntaxError, ValueError, EOFError, MemoryError) as exc:
        raise InputError(f"Cannot open {name}: the file is damaged or truncated ({exc}).") from exc


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


def _to_rgba(image: Image.Image) -> np.ndarray:
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        data = np.asarray(image, dtype=np.float64)
        # 16-bit modes always span 0..65535 (a dark 16-bit image must stay dark); 32-bit "I" images carry no
        # depth, so values up to 255 are taken as 8-bit and anything larger as 16-bit.
        peak = 65535.0 if mode.startswith("I;16") or data.max(initial=0) > 255 else 255.0
        grey = np.clip(np.round(data / peak * 255.0), 0, 255).astype(np.uint8)
        rgba = np.empty(grey.shape + (4,), np.uint8)
        rgba[..., :3] = grey[..., None]
        rgba[..., 3] = 255
        return rgba
    if mode == "F":
        grey = np.clip(np.round(np.asarray(image, dtype=np.float64) * 255.0), 0, 255).astype(np.uint8)
        return np.dstack([grey, grey, grey, np.full_like(grey, 255)])
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
