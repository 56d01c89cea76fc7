"""Atomic file writes: write beside the target, flush to disk, then rename over it.

A failure or a kill mid-write leaves the previous file intact and no half-written file under the target's name; the
new file keeps the permissions of the one it replaces (or the user's umask for a new one), and saving through a
symbolic link updates the file it points to instead of replacing the link. A process killed mid-write can leave a
hidden ``.<name>.*.part`` file beside the target; :func:`remove_stale_parts` clears such leftovers.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import tempfile
import time
from collections.abc import Callable, Collection, Iterator
from pathlib import Path
from typing import BinaryIO

from genart_desktop.core.errors import SaveError

PART_SUFFIX = ".part"
STALE_PART_SECONDS = 600.0  # a temporary file untouched this long belongs to a write that died
# ``.<target>.<8 random characters>.part``: the name tempfile.mkstemp gives with our prefix and suffix
_PART_NAME = re.compile(r"\.(.+)\.[a-z0-9_]{8}" + re.escape(PART_SUFFIX) + r"\Z", re.DOTALL)


def _read_umask() -> int:
    try:  # Linux reports it without changing it
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # elsewhere: read it once, at import, before any writer thread exists
    os.umask(mask)
    return mask


_UMASK = _read_umask()


def _resolve_target(target: Path) -> Path:
    """The file to replace: the end of a chain of symbolic links, so saving never turns a link into a copy."""
    if target.is_symlink():
        return Path(os.path.realpath(target))
    return target


def _new_file_mode(target: Path) -> int:
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except OSError:
        return 0o666 & ~_UMASK


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable (best effort: not every platform or file system allows it)."""
    if os.name != "posix":
        return
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def part_target(name: str) -> str | None:
    """The file name a temporary ``.part`` file was written for, or None when ``name`` is not one of ours."""
    match = _PART_NAME.match(name)
    return match.group(1) if match else None


def remove_stale_parts(directory: str | os.PathLike[str], older_than: float = STALE_PART_SECONDS,
                       name: str | None = None, suffixes: Collection[str] | None = None) -> list[Path]:
    """Delete temporary ``.part`` files left by writes that were killed; returns what was removed.

    Only regular files named exactly as :func:`atomic_writer` names them and older than ``older_than`` seconds are
    touched, so a write in progress elsewhere and other programs' files are left alone. ``name`` limits the clean-up to
    the leftovers of one target file, ``suffixes`` (lower case, with the dot) to targets with those extensions.
    """
    directory = Path(directory)
    removed: list[Path] = []
    now = time.time()
    try:
        with os.scandir(directory) as listing:
            candidates = [(entry.name, part_target(entry.name)) for entry in listing]
    except OSError:
        return removed
    for entry_name, target in candidates:
        if target is None or (name is not None and target != name):
            continue
        if suffixes is not None and os.path.splitext(target)[1].lower() not in suffixes:
            continue
        path = directory / entry_name
        try:
            info = path.lstat()  # never follows a link: a link named like ours is not ours
            if not stat.S_ISREG(info.st_mode) or now - info.st_mtime < older_than:
                continue
            path.unlink()
            removed.append(path)
        except OSError:
            continue
    return removed


@contextlib.contextmanager
def atomic_writer(target: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """Yield a binary file object; on clean exit it replaces ``target``, on error it is removed."""
    target = _resolve_target(Path(target))
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise SaveError(f"Cannot save {target.name}: the folder {directory} does not exist.")
    if target.is_dir():
        raise SaveError(f"Cannot save {target.name}: a folder of that name is in the way.")
    remove_stale_parts(directory, name=target.name)
    mode = _new_file_mode(target)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=PART_SUFFIX, dir=directory)
    except OSError as exc:
        raise SaveError(f"Cannot save {target.name}: {exc.strerror or exc}. The previous file is unchanged.") from exc
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(OSError):  # e.g. a file system without permissions; the data still counts
            os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(exc, OSError):
            raise SaveError(f"Cannot save {target.name}: {exc.strerror or exc}. The previous file is unchanged.") from exc
        raise
    _fsync_directory(directory)


def atomic_write_bytes(target: str | os.PathLike[str], data: bytes) -> None:
    with atomic_writer(target) as handle:
        handle.write(data)


def atomic_write_with(target: str | os.PathLike[str], write: Callable[[BinaryIO], None]) -> None:
    """Call ``write(handle)`` on a temporary file and move it into place only if it returns normally."""
    with atomic_writer(target) as handle:
        write(handle)
