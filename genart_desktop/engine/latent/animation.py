"""Exporting interpolation frames with Pillow alone: animated GIF, animated WebP, APNG, or a PNG sequence.

These formats need no external program, so they work in every install and bundle. MP4 needs an ffmpeg, which the app
does not ship; genart_desktop/workspace/latent/mp4.py finds one at run time. Every export is all-or-nothing: the file
is written beside the target and moved into place only when complete, so a failure leaves no half-written animation.
Like every animation encoder, Pillow stores identical consecutive frames once with their durations added.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from genart_desktop.core.atomic import atomic_write_with
from genart_desktop.core.errors import InputError, SaveError
from genart_desktop.core.images import check_pixel_image, resize

GIF = "gif"
WEBP = "webp"
APNG = "apng"
PNG_SEQUENCE = "png"
FORMATS = (GIF, WEBP, APNG, PNG_SEQUENCE)
ANIMATED = (GIF, WEBP, APNG)
MAX_FPS = 120

# Pillow's writer and its options per animated format; loop 0 repeats forever.
_PILLOW_OPTIONS: dict[str, tuple[str, dict[str, Any]]] = {
    GIF: ("GIF", {"optimize": False, "disposal": 1}),
    WEBP: ("WEBP", {"lossless": False, "quality": 90, "method": 4}),
    APNG: ("PNG", {"default_image": False, "disposal": 0, "blend": 0}),
}

Progress = Callable[[float], None]


def check_frames(frames: Sequence[np.ndarray] | np.ndarray) -> list[np.ndarray]:
    """The frames as contiguous RGB uint8 arrays of one size, or an InputError saying what is wrong."""
    items = list(frames)
    if len(items) < 1:
        raise InputError("There are no frames to export.")
    for frame in items:
        check_pixel_image(frame)
    if len({f.shape for f in items}) != 1:
        raise InputError("All frames of an animation must have the same size.")
    return [np.ascontiguousarray(f[..., :3]) for f in items]


def check_fps(fps: float) -> float:
    if not np.isfinite(fps) or not 0 < fps <= MAX_FPS:
        raise InputError(f"Frames per second must be between 1 and {MAX_FPS}; got {fps}.")
    return float(fps)


def scale_frames(frames: Sequence[np.ndarray], width: int, height: int) -> list[np.ndarray]:
    """Resample every frame to (width, height) with Lanczos (small model outputs look soft, not blocky)."""
    return [resize(f, width, height) for f in check_frames(frames)]


def export_animated(frames: Sequence[np.ndarray], path: str | os.PathLike[str], fps: float, fmt: str = GIF,
                    loop: bool = True) -> Path:
    """One animated file (GIF, WebP or APNG) that repeats forever, or plays once when ``loop`` is False."""
    if fmt not in ANIMATED:
        raise InputError(f"Unknown animated format '{fmt}' (use {', '.join(ANIMATED)}).")
    items = check_frames(frames)
    duration = round(1000.0 / check_fps(fps))
    if fmt == GIF:
        duration = max(20, duration)  # GIF counts hundredths, and browsers treat < 20 ms as 100 ms
    images = [Image.fromarray(f, "RGB") for f in items]
    writer, options = _PILLOW_OPTIONS[fmt]

    def write(handle: Any) -> None:
        images[0].save(handle, format=writer, save_all=True, append_images=images[1:], duration=duration,
                       loop=0 if loop else 1, **options)

    atomic_write_with(path, write)
    return Path(path)


def export_png_sequence(frames: Sequence[np.ndarray], folder: str | os.PathLike[str], prefix: str = "frame",
                        progress: Progress | None = None) -> list[Path]:
    """``folder/prefix_0001.png`` ...; written to a hidden sibling folder first, then moved in all together."""
    items = check_frames(frames)
    target = Path(folder)
    if not target.is_dir():
        raise SaveError(f"Cannot export frames: the folder {target} does not exist.")
    digits = max(4, len(str(len(items))))
    names = [f"{prefix}_{i + 1:0{digits}d}.png" for i in range(len(items))]
    try:
        staging = Path(tempfile.mkdtemp(prefix=".frames.", suffix=".part", dir=target))
    except OSError as exc:
        raise SaveError(f"Cannot export frames into {target}: {exc.strerror or exc}.") from exc
    try:
        for index, (frame, name) in enumerate(zip(items, names)):
            Image.fromarray(frame, "RGB").save(staging / name, format="PNG")
            if progress is not None:
                progress((index + 1) / len(items))
        out = []
        for name in names:
            os.replace(staging / name, target / name)
            out.append(target / name)
        return out
    except OSError as exc:
        raise SaveError(f"Cannot export frames into {target}: {exc.strerror or exc}. Nothing was written.") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def export_animation(frames: Sequence[np.ndarray], path: str | os.PathLike[str], fps: float, fmt: str | None = None,
                     progress: Progress | None = None) -> list[Path]:
    """Dispatch on ``fmt`` (or the path's extension: .gif, .webp, .apng; anything else is a PNG sequence)."""
    target = Path(path)
    if fmt is None:
        suffix = target.suffix.lower().lstrip(".")
        fmt = suffix if suffix in ANIMATED else PNG_SEQUENCE
    if fmt in ANIMATED:
        return [export_animated(frames, target, fps, fmt)]
    if fmt == PNG_SEQUENCE:
        if target.suffix.lower() == ".png":
            return export_png_sequence(frames, target.parent, target.stem, progress)
        return export_png_sequence(frames, target, progress=progress)
    raise InputError(f"Unknown animation format '{fmt}' (use {', '.join(FORMATS)}).")
