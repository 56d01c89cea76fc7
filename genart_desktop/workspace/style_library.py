"""The user's own styles: pictures (from image files or layers) kept per user, to be used by the arbitrary model.

Each style is two files in ``<user data>/styles``: ``<id>.png`` (the picture, long side at most 512, which is all
the model measures) and ``<id>.json`` (its name and where it came from). Both are written atomically, the picture
first, so a style appears whole or not at all. A hostile or broken input (not an image, too many pixels, a pipe)
is refused with one line and nothing is written; a damaged entry in the folder is skipped when listing.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from genart_desktop.core.atomic import atomic_write_bytes
from genart_desktop.core.bounded_json import load_json
from genart_desktop.core.errors import GenArtError, InputError
from genart_desktop.core.images import check_pixel_image, open_image_rgba
from genart_desktop.core.observable import Signal
from genart_desktop.core.paths import user_data_dir
from genart_desktop.core.safe_read import read_regular
from genart_desktop.core.text import shown
from genart_desktop.engine.pipelines.arbitrary_style import fit_long_side

log = logging.getLogger(__name__)

FORMAT = "genart-user-style/1"
FOLDER = "styles"
STORED_SIDE = 512
MAX_STYLE_PIXELS = 64 * 1024 * 1024  # a style picture larger than this is refused before decoding
MAX_ENTRY_BYTES = 64 << 10
MAX_PICTURE_BYTES = 8 << 20
MAX_NAME = 80
_ID = re.compile(r"[a-z0-9]{12}")


@dataclass(frozen=True)
class UserStyle:
    """One style of the library: ``id`` (12 lower-case letters and digits), shown ``name``, ``origin`` note."""

    id: str
    name: str
    origin: str = ""
    created: float = 0.0

    @property
    def choice(self) -> str:
        """How a recipe names this style."""
        return f"user:{self.id}"


def clean_name(name: str) -> str:
    """A style name a person can read: one line, no control characters, at most 80 characters."""
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in str(name)).split())[:MAX_NAME]
    if not text:
        raise InputError("A style needs a name.")
    return text


class StyleLibrary:
    """The styles in one folder (the user's, unless given); ``changed()`` after every add, rename or remove."""

    def __init__(self, folder: str | os.PathLike[str] | None = None) -> None:
        self._folder = Path(folder) if folder is not None else None
        self.changed = Signal()

    @property
    def folder(self) -> Path:
        folder = self._folder if self._folder is not None else user_data_dir() / FOLDER
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    # -- reading -----------------------------------------------------------------------------------------------------
    def styles(self) -> list[UserStyle]:
        """Every usable style, oldest first; damaged entries are skipped (and logged)."""
        found = []
        for path in sorted(self.folder.glob("*.json")):
            if not _ID.fullmatch(path.stem):
                continue
            try:
                found.append(self._read_entry(path))
            except GenArtError as exc:
                log.warning("Skipping the user style %s: %s", path.name, exc)
        return sorted(found, key=lambda style: (style.created, style.id))

    def get(self, style_id: str) -> UserStyle:
        if not isinstance(style_id, str) or not _ID.fullmatch(style_id):
            raise InputError(f"There is no user style {shown(style_id)}.")
        path = self.folder / f"{style_id}.json"
        if not os.path.lexists(path):
            raise InputError(f"There is no user style {shown(style_id)}; it may have been removed.")
        return self._read_entry(path)

    def pixels(self, style_id: str) -> np.ndarray:
        """The stored picture (RGBA uint8, long side at most 512)."""
        self.get(style_id)
        data = read_regular(self.folder / f"{style_id}.png", MAX_PICTURE_BYTES, root=self.folder)
        return open_image_rgba(data, STORED_SIDE * STORED_SIDE, name=f"{style_id}.png")

    def _read_entry(self, path: Path) -> UserStyle:
        data = load_json(path, MAX_ENTRY_BYTES, root=self.folder)
        if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("id") != path.stem:
            raise InputError(f"{shown(path.name)} is not a user style entry.")
        if not (self.folder / f"{path.stem}.png").is_file():
            raise InputError(f"{shown(path.name)} has no picture.")
        origin, created = data.get("origin", ""), data.get("created", 0.0)
        return UserStyle(path.stem, clean_name(data.get("name", "")), origin if isinstance(origin, str) else "",
                         float(created) if isinstance(created, (int, float)) and not isinstance(created, bool) else 0.0)

    # -- writing -----------------------------------------------------------------------------------------------------
    def add_image(self, path: str | os.PathLike[str], name: str | None = None) -> UserStyle:
        """A style from an image file (allowed formats only, pixel and size caps before decoding)."""
        pixels = open_image_rgba(path, MAX_STYLE_PIXELS)
        return self.add_pixels(pixels, name if name is not None else Path(path).stem, f"file {Path(path).name}")

    def add_pixels(self, pixels: np.ndarray, name: str, origin: str = "layer") -> UserStyle:
        """A style from RGBA pixels (a layer); a fully transparent picture is refused (it would be plain white)."""
        check_pixel_image(pixels)
        if pixels.shape[2] == 4 and not pixels[..., 3].any():
            raise InputError("The layer is empty; paint or paste something to use it as a style.")
        title = clean_name(name)
        picture = fit_long_side(pixels, STORED_SIDE, enlarge=False)
        buffer = io.BytesIO()
        Image.fromarray(np.ascontiguousarray(picture), "RGBA" if picture.shape[2] == 4 else "RGB").save(buffer, "PNG")
        style = UserStyle(secrets.token_hex(6), title, clean_name(origin), time.time())
        folder = self.folder
        atomic_write_bytes(folder / f"{style.id}.png", buffer.getvalue())
        self._write_entry(style)
        self.changed.emit()
        return style

    def rename(self, style_id: str, name: str) -> UserStyle:
        style = self.get(style_id)
        renamed = UserStyle(style.id, clean_name(name), style.origin, style.created)
        self._write_entry(renamed)
        self.changed.emit()
        return renamed

    def remove(self, style_id: str) -> None:
        self.get(style_id)
        for suffix in (".json", ".png"):  # the entry first: a half-removed style is never listed
            try:
                (self.folder / f"{style_id}{suffix}").unlink()
            except FileNotFoundError:
                pass
        self.changed.emit()

    def _write_entry(self, style: UserStyle) -> None:
        entry = {"format": FORMAT, "id": style.id, "name": style.name, "origin": style.origin,
                 "created": style.created}
        atomic_write_bytes(self.folder / f"{style.id}.json", json.dumps(entry, indent=1).encode("utf-8"))
