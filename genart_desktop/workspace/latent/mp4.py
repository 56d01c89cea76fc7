"""MP4 export through an ffmpeg found at run time, since the app does not ship one (a static ffmpeg is 165 MiB).

The encoder is imageio-ffmpeg's binary when that package is installed (``pip install genart-desktop[mp4]``), else an
``ffmpeg`` on the PATH. ffmpeg runs from an argument list (never a shell), reads raw RGB frames on stdin and writes a
hidden ``.part`` file beside the target that is renamed into place only when ffmpeg succeeded, so a failure leaves
nothing behind and is reported in one line.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np

from genart_desktop.core.atomic import PART_SUFFIX
from genart_desktop.core.errors import JobCancelled, SaveError
from genart_desktop.core.images import resize
from genart_desktop.core.text import shown
from genart_desktop.engine.latent.animation import check_fps, check_frames

MP4 = "mp4"
FROM_PACKAGE = "imageio-ffmpeg"
FROM_PATH = "the system's ffmpeg"
INSTALL_HINT = "install ffmpeg (e.g. sudo apt install ffmpeg) or the mp4 extra (pip install \"genart-desktop[mp4]\")"
UNAVAILABLE = f"MP4 export needs ffmpeg, which was not found: {INSTALL_HINT}. GIF, WebP, APNG and PNG export work."
FINISH_SECONDS = 600.0  # ffmpeg has all frames by then; a hung encoder must not hold the export job forever


@dataclass(frozen=True)
class Encoder:
    executable: str
    source: str  # FROM_PACKAGE or FROM_PATH

    def describe(self) -> str:
        return f"MP4 is written by {self.source} ({shown(self.executable)})."


def find_encoder() -> Encoder | None:
    """imageio-ffmpeg's ffmpeg when the package is installed, else ``ffmpeg`` on the PATH, else None."""
    try:
        import imageio_ffmpeg

        exe = imageio_ffmpeg.get_ffmpeg_exe()
        if exe and Path(exe).is_file():
            return Encoder(str(exe), FROM_PACKAGE)
    except (ImportError, RuntimeError, OSError):
        pass
    exe = shutil.which("ffmpeg")
    return Encoder(exe, FROM_PATH) if exe else None


def require_encoder() -> Encoder:
    encoder = find_encoder()
    if encoder is None:
        raise SaveError(UNAVAILABLE)
    return encoder


def even_frames(frames: Sequence[np.ndarray]) -> list[np.ndarray]:
    """H.264 in yuv420p needs even sides: odd-sized frames are resampled one pixel larger."""
    items = check_frames(frames)
    height, width = items[0].shape[:2]
    even_w, even_h = max(2, width + width % 2), max(2, height + height % 2)
    return items if (even_w, even_h) == (width, height) else [resize(f, even_w, even_h) for f in items]


def ffmpeg_command(executable: str, width: int, height: int, fps: float, output: Path) -> list[str]:
    """Raw RGB frames in on stdin; H.264, yuv420p (plays everywhere), the index up front for streaming."""
    return [executable, "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
            "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}", "-r", f"{fps:g}", "-i", "pipe:0",
            "-an", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-crf", "18", "-movflags", "+faststart",
            "-f", "mp4", str(output)]


def _last_line(log: IO[bytes]) -> str:
    log.seek(0)
    lines = [line.strip() for line in log.read().decode("utf-8", "replace").splitlines() if line.strip()]
    return shown(lines[-1], 200) if lines else "no message"


def _feed(process: subprocess.Popen[bytes], items: list[np.ndarray], progress: Callable[[float], None] | None,
          cancelled: Callable[[], bool] | None) -> None:
    assert process.stdin is not None
    with process.stdin:
        for index, frame in enumerate(items):
            if cancelled is not None and cancelled():
                process.kill()
                raise JobCancelled("The export was cancelled; nothing was written.")
            process.stdin.write(frame.tobytes())
            if progress is not None:
                progress((index + 1) / len(items))


def export_mp4(frames: Sequence[np.ndarray], path: str | os.PathLike[str], fps: float,
               progress: Callable[[float], None] | None = None, cancelled: Callable[[], bool] | None = None,
               encoder: Encoder | None = None) -> Path:
    """Write ``frames`` as an H.264 MP4 at ``path``; a SaveError (one line) and no file when anything fails."""
    items = even_frames(frames)
    rate = check_fps(fps)
    encoder = encoder or require_encoder()
    target = Path(path)
    name = shown(target.name)
    if not target.parent.is_dir():
        raise SaveError(f"Cannot save {name}: the folder {shown(target.parent)} does not exist. Nothing was written.")
    if target.is_dir():
        raise SaveError(f"Cannot save {name}: a folder of that name is in the way. Nothing was written.")
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=PART_SUFFIX, dir=target.parent)
    except OSError as exc:
        raise SaveError(f"Cannot save {name}: {exc.strerror or exc}. Nothing was written.") from exc
    os.close(fd)
    tmp = Path(tmp_name)
    height, width = items[0].shape[:2]
    try:
        with tempfile.TemporaryFile() as log:  # a file, not a pipe: ffmpeg can never block on a full stderr
            process = subprocess.Popen(ffmpeg_command(encoder.executable, width, height, rate, tmp),
                                       stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=log)
            try:
                _feed(process, items, progress, cancelled)
            except BrokenPipeError:
                pass  # ffmpeg stopped early; its exit status and message say why
            finally:
                try:
                    code = process.wait(timeout=FINISH_SECONDS)
                except subprocess.TimeoutExpired:
                    process.kill()
                    code = process.wait()
            if code != 0:
                raise SaveError(f"Cannot save {name}: ffmpeg failed ({_last_line(log)}). Nothing was written.")
        if tmp.stat().st_size == 0:
            raise SaveError(f"Cannot save {name}: ffmpeg wrote an empty file. Nothing was written.")
        os.replace(tmp, target)
    except OSError as exc:
        raise SaveError(f"Cannot save {name}: {exc.strerror or exc}. Nothing was written.") from exc
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    return target
