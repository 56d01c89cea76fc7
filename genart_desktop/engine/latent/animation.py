"""Exporting interpolation frames: animated GIF (Pillow), a PNG sequence, or MP4 through imageio + imageio-ffmpeg.

Every export is all-or-nothing: frames are written beside the target and moved into place only when complete, so a
failure (a full disk, a missing ffmpeg) leaves no half-written animation. MP4 needs ffmpeg, which the imageio-ffmpeg
package ships; without it the export stops with a message that says so before anything is written.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from genart_desktop.core.atomic import atomic_write_with
from genart_desktop.core.errors import InputError, JobCancelled, SaveError
from genart_desktop.core.images import check_pixel_image, resize

GIF = "gif"
MP4 = "mp4"
PNG_SEQUENCE = "png"
FORMATS = (GIF, MP4, PNG_SEQUENCE)
MAX_FPS = 120

Progress = Callable[[float], None]


def _frames(frames: Sequence[np.ndarray] | np.ndarray) -> list[np.ndarray]:
    items = list(frames)
    if len(items) < 1:
        raise InputError("There are no frames to export.")
    for frame in items:
        check_pixel_image(frame)
    if len({f.shape for f in items}) != 1:
        raise InputError("All frames of an animation must have the same size.")
    return [np.ascontiguousarray(f[..., :3]) for f in items]


def _check_fps(fps: float) -> float:
    if not np.isfinite(fps) or not 0 < fps <= MAX_FPS:
        raise InputError(f"Frames per second must be between 1 and {MAX_FPS}; got {fps}.")
    return float(fps)


def scale_frames(frames: Sequence[np.ndarray], width: int, height: int) -> list[np.ndarray]:
    """Resample every frame to (width, height) with Lanczos (small model outputs look soft, not blocky)."""
    return [resize(f, width, height) for f in _frames(frames)]


def export_gif(frames: Sequence[np.ndarray], path: str | os.PathLike[str], fps: float, loop: bool = True) -> Path:
    items = _frames(frames)
    duration = max(20, int(round(1000.0 / _check_fps(fps))))  # browsers treat < 20 ms as 100 ms
    images = [Image.fromarray(f, "RGB") for f in items]

    def write(handle: Any) -> None:
        images[0].save(handle, format="GIF", save_all=True, append_images=images[1:], duration=duration,
                       loop=0 if loop else 1, optimize=False, disposal=1)

    atomic_write_with(path, write)
    return Path(path)


def export_png_sequence(frames: Sequence[np.ndarray], folder: str | os.PathLike[str], prefix: str = "frame",
                        progress: Progress | None = None) -> list[Path]:
    """``folder/prefix_0001.png`` ...; written to a hidden sibling folder first, then moved in all together."""
    items = _frames(frames)
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


def ffmpeg_executable() -> str:
    """The ffmpeg that imageio-ffmpeg provides, or a SaveError saying how to get one."""
    try:
        import imageio_ffmpeg

        exe = imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError, OSError) as exc:
        raise SaveError(
            "MP4 export needs ffmpeg, which was not found (install the imageio-ffmpeg package). "
            "GIF and PNG-sequence export still work."
        ) from exc
    if not exe or not Path(exe).exists() and shutil.which(exe) is None:
        raise SaveError("MP4 export needs ffmpeg, which was not found. GIF and PNG-sequence export still work.")
    return exe


def mp4_available() -> bool:
    try:
        ffmpeg_executable()
    except SaveError:
        return False
    return importlib.util.find_spec("imageio") is not None


def export_mp4(frames: Sequence[np.ndarray], path: str | os.PathLike[str], fps: float,
               progress: Progress | None = None, cancelled: Callable[[], bool] | None = None) -> Path:
    """H.264 MP4 (yuv420p, plays everywhere); odd sizes are resampled to even ones as the codec requires."""
    items = _frames(frames)
    rate = _check_fps(fps)
    ffmpeg_executable()
    try:
        import imageio.v2 as imageio
    except ImportError as exc:
        raise SaveError("MP4 export needs the imageio package. GIF and PNG-sequence export still work.") from exc
    height, width = items[0].shape[:2]
    even_w, even_h = max(2, width + width % 2), max(2, height + height % 2)
    if (even_w, even_h) != (width, height):
        items = [resize(f, even_w, even_h) for f in items]
    target = Path(path)
    if not target.parent.is_dir():
        raise SaveError(f"Cannot save {target.name}: the folder {target.parent} does not exist.")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=".part.mp4", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        writer = imageio.get_writer(tmp, format="FFMPEG", mode="I", fps=rate, codec="libx264", quality=8,
                                    pixelformat="yuv420p", macro_block_size=1, ffmpeg_log_level="error")
        try:
            for index, frame in enumerate(items):
                if cancelled is not None and cancelled():
                    raise JobCancelled("The export was cancelled; nothing was written.")
                writer.append_data(frame)
                if progress is not None:
                    progress((index + 1) / len(items))
        finally:
            writer.close()
        if tmp.stat().st_size == 0:
            raise SaveError(f"Cannot save {target.name}: ffmpeg wrote an empty file.")
        os.replace(tmp, target)
    except (OSError, RuntimeError) as exc:
        raise SaveError(f"Cannot save {target.name}: {exc}. Nothing was written.") from exc
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    return target


def export_animation(frames: Sequence[np.ndarray], path: str | os.PathLike[str], fps: float, fmt: str | None = None,
                     progress: Progress | None = None) -> list[Path]:
    """Dispatch on ``fmt`` (or the path's extension; a folder means a PNG sequence)."""
    target = Path(path)
    if fmt is None:
        suffix = target.suffix.lower().lstrip(".")
        fmt = suffix if suffix in (GIF, MP4) else PNG_SEQUENCE
    if fmt == GIF:
        return [export_gif(frames, target, fps)]
    if fmt == MP4:
        return [export_mp4(frames, target, fps, progress)]
    if fmt == PNG_SEQUENCE:
        if target.suffix.lower() == ".png":
            return export_png_sequence(frames, target.parent, target.stem, progress)
        return export_png_sequence(frames, target, progress=progress)
    raise InputError(f"Unknown animation format '{fmt}' (use {', '.join(FORMATS)}).")
