"""Open a file the user (or a downloaded model folder) handed us without trusting what it is.

A path named ``model.json`` may be a named pipe (opening it blocks forever), a device (``/dev/zero`` never ends),
a folder, a symlink out of its model folder (to ``/proc/self/environ``, say) or simply enormous. :func:`open_regular`
opens without blocking, checks on the open descriptor that it is a regular file below the size cap, and resolves
symlinks against an allowed root, so every refusal is one line naming the file before a byte is read.
"""

from __future__ import annotations

import errno
import os
import stat
from contextlib import contextmanager
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from genart_desktop.core.errors import GenArtError, InputError
from genart_desktop.core.text import shown

_OPEN_FLAGS = (os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
               | getattr(os, "O_BINARY", 0) | getattr(os, "O_NOCTTY", 0))

_REASONS = {
    errno.ENOENT: "the file does not exist",
    errno.ENOTDIR: "a folder on its path is a file",
    errno.EISDIR: "it is a folder, not a file",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ELOOP: "its symlinks loop",
    errno.ENAMETOOLONG: "the name is too long",
    errno.ENXIO: "it is a special file, not a regular file",
}


def size_text(count: int) -> str:
    """A byte count for people: 512 bytes, 4 KiB, 3.5 MiB."""
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if count >= 1 << shift:
            return f"{count / (1 << shift):.3g} {unit}"
    return f"{count} bytes"


def _refuse(error: type[GenArtError], path: Path, reason: str) -> GenArtError:
    return error(f"Cannot read {shown(path.name or path)}: {reason}.")


def check_inside(path: str | os.PathLike[str], root: str | os.PathLike[str],
                 error: type[GenArtError] = InputError) -> Path:
    """``path`` with every symlink resolved, refused unless it stays below ``root`` (itself resolved)."""
    path = Path(path)
    try:
        resolved = path.resolve(strict=True)
        base = Path(root).resolve(strict=True)
    except FileNotFoundError:
        raise _refuse(error, path, _REASONS[errno.ENOENT]) from None
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop on older Pythons
        raise _refuse(error, path, _REASONS.get(getattr(exc, "errno", errno.ELOOP), str(exc))) from None
    if not resolved.is_relative_to(base):
        raise _refuse(error, path, "it links outside its folder")
    return resolved


@contextmanager
def open_regular(path: str | os.PathLike[str], limit: int, root: str | os.PathLike[str] | None = None,
                 error: type[GenArtError] = InputError) -> Iterator[BinaryIO]:
    """A binary file object for ``path`` once it is known to be a regular file of at most ``limit`` bytes (inside
    ``root`` when given); otherwise ``error`` with one line naming the file. Never blocks on a pipe."""
    path = Path(path)
    target = check_inside(path, root, error) if root is not None else path
    try:
        fd = os.open(target, _OPEN_FLAGS)
    except OSError as exc:
        raise _refuse(error, path, _REASONS.get(exc.errno, exc.strerror or str(exc))) from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise _refuse(error, path, _REASONS[errno.EISDIR])
        if not stat.S_ISREG(info.st_mode):
            raise _refuse(error, path, _REASONS[errno.ENXIO])
        if info.st_size > limit:
            raise _refuse(error, path, f"it is {info.st_size:,} bytes, more than the {size_text(limit)} allowed")
        handle = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with handle:
        yield handle


def read_regular(path: str | os.PathLike[str], limit: int, root: str | os.PathLike[str] | None = None,
                 error: type[GenArtError] = InputError) -> bytes:
    """The bytes of ``path`` under the checks of :func:`open_regular`; a file that grows past ``limit`` while it
    is read (or a procfs file that claims size 0) is refused too."""
    with open_regular(path, limit, root, error) as handle:
        try:
            data = handle.read(limit + 1)
        except OSError as exc:
            raise _refuse(error, Path(path), exc.strerror or str(exc)) from None
    if len(data) > limit:
        raise _refuse(error, Path(path), f"it is more than the {size_text(limit)} allowed")
    return data
