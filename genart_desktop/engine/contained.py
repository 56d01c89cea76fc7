"""Files a model folder points at: kept inside the folder (links resolved) and read only as bounded regular files.

A card or a Stable Diffusion export names files by relative path; a link among them may lead to another user's data,
to ``/proc/self/environ`` (which an error message would then print), to ``/dev/zero`` (read until memory runs out) or
to a named pipe (a read that never returns). Every model file is checked here before anything opens it for reading;
the reading itself goes through ``core.safe_read`` and ``core.bounded_json``.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path, PurePosixPath
from typing import Any

from genart_desktop.core.bounded_json import parse_json
from genart_desktop.core.errors import ModelError
from genart_desktop.core.safe_read import read_regular


def inside(folder: Path, relative: Any, where: str, what: str) -> Path:
    """``folder/relative`` after checking the path is relative, has no ``..`` and still lies inside ``folder`` once
    links are resolved; raises :class:`ModelError` (``where``: what: problem) otherwise."""
    if not isinstance(relative, str) or not relative:
        raise ModelError(f"{where}: {what} path is missing or not a string.")
    pure = PurePosixPath(relative.replace("\\", "/"))
    if pure.is_absolute() or ".." in pure.parts or re.match(r"^[A-Za-z]:", relative):
        raise ModelError(f"{where}: {what} path {relative!r} must stay inside the model folder.")
    path = folder.joinpath(*pure.parts)
    try:
        escapes = not path.resolve().is_relative_to(folder.resolve())
    except (OSError, RuntimeError) as exc:  # a link loop
        raise ModelError(f"{where}: {what} path {relative!r} cannot be resolved (a link loop?).") from exc
    if escapes:
        raise ModelError(f"{where}: {what} path {relative!r} leads outside the model folder.")
    return path


def is_regular(path: Path) -> bool:
    """True for a regular file (after links); False for folders, pipes, devices, sockets, loops and missing paths."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def read_contained(folder: Path, relative: str, limit: int, where: str) -> bytes:
    """The bytes of ``folder/relative``: a regular file inside ``folder`` of at most ``limit`` bytes; pipes and
    devices are refused without blocking, and no error quotes the content."""
    return read_regular(inside(folder, relative, where, "file"), limit, root=folder, error=ModelError)


def load_contained_json(folder: Path, relative: str, limit: int, where: str) -> Any:
    """:func:`read_contained` parsed with the bounded JSON parser (size, depth and number limits)."""
    return parse_json(read_contained(folder, relative, limit, where), where, limit, error=ModelError)


def contained_file(folder: Path, relative: str, where: str) -> Path:
    """``folder/relative`` as a regular file inside ``folder`` (links resolved), else :class:`ModelError`."""
    path = inside(folder, relative, where, "file")
    if not is_regular(path):
        raise ModelError(f"{where} is missing or not a regular file.")
    return path

