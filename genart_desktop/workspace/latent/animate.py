"""The Animate tab's part: a path through bookmarks, a point on it to preview, and its export as an animation."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from genart_desktop.core.errors import InputError
from genart_desktop.document.document import Document
from genart_desktop.engine.latent import animation, interpolate
from genart_desktop.workspace.latent import mp4
from genart_desktop.workspace.latent.bookmarks import Bookmarks
from genart_desktop.workspace.latent.requests import ExportAnimation, RenderLatents, frozen_copy
from genart_desktop.workspace.latent.state import ExplorerState

MAX_FRAMES = 2000
FORMATS = (*animation.FORMATS, mp4.MP4)  # Pillow's formats, and MP4 when an ffmpeg is found


class Animation:
    def __init__(self, state: ExplorerState, bookmarks: Bookmarks) -> None:
        self.state = state
        self.bookmarks = bookmarks
        self.path_ids: list[str] = []

    def set_path(self, bookmark_ids: Sequence[str], doc: Document | None = None) -> None:
        self.bookmarks.latents_of(bookmark_ids, doc)
        if len(bookmark_ids) < 2:
            raise InputError("An interpolation path needs at least two bookmarks.")
        self.path_ids = list(bookmark_ids)

    def path_keys(self, doc: Document | None = None) -> list[np.ndarray]:
        """The latents of the path's bookmarks (a deleted bookmark drops out of the path)."""
        known = {m.bookmark_id for m in self.bookmarks.all(doc)}
        self.path_ids = [i for i in self.path_ids if i in known]
        if len(self.path_ids) < 2:
            raise InputError("Choose at least two bookmarks for the path.")
        return self.bookmarks.latents_of(self.path_ids, doc)

    def scrub_request(self, position: float, doc: Document | None = None) -> RenderLatents:
        state = self.state
        space = state.require_space()
        latent = interpolate.path_point(self.path_keys(doc), position, space.interpolation)
        return RenderLatents(space, frozen_copy(latent[None]), state.render_truncation)

    def export_request(self, path: str | Path, fmt: str, frames: int, fps: float, size: int | None = None,
                       loop: bool = False, doc: Document | None = None) -> ExportAnimation:
        """Render the path's frames and write GIF / WebP / APNG / MP4 / PNG sequence; all checks happen before the job
        starts (MP4 included: without an ffmpeg it stops here, saying what to install)."""
        state = self.state
        space = state.require_space()
        if fmt not in FORMATS:
            raise InputError(f"Unknown animation format '{fmt}'.")
        if not 2 <= frames <= MAX_FRAMES:
            raise InputError(f"Choose between 2 and {MAX_FRAMES} frames; got {frames}.")
        if fmt == mp4.MP4:
            mp4.require_encoder()
        latents = interpolate.path_frames(self.path_keys(doc), frames, space.interpolation, loop)
        return ExportAnimation(space, frozen_copy(latents), state.render_truncation, Path(path), fps, fmt, size)
