"""The Canvas tab's part: bring the canvas into a VAE's latent space, and place the current image on the canvas."""

from __future__ import annotations

from typing import Any

import numpy as np

from genart_desktop.core.errors import InputError
from genart_desktop.core.images import flatten_alpha, resize
from genart_desktop.document.document import Document
from genart_desktop.document.geometry import Rect
from genart_desktop.workspace.latent.history import History
from genart_desktop.workspace.latent.requests import Encoded, EncodeImage, PlaceLatent, RenderLatents, frozen_copy
from genart_desktop.workspace.latent.state import ExplorerState

MAX_PLACE_SIDE = 16384


def source_pixels(doc: Document, source: str = "selection") -> tuple[np.ndarray, Rect]:
    """Pixels to encode and where they came from: the visible image (``selection``) or the active layer, cut to
    the selection's bounds when there is a selection."""
    bounds = doc.selection.bounds() if not doc.selection.is_empty else None
    region = bounds or doc.rect
    if source == "layer":
        pixels = doc.active_layer.pixels[region.slices()]
    elif source == "selection":
        pixels = doc.composite(region)
    else:
        raise InputError(f"Encode the 'selection' or the active 'layer', not '{source}'.")
    if pixels.size == 0 or not pixels[..., 3].any():
        raise InputError("There is nothing to encode there: the region is empty or fully transparent.")
    return np.array(pixels, copy=True), region


class Encoding:
    def __init__(self, state: ExplorerState, history: History) -> None:
        self.state = state
        self.history = history

    def encode_request(self, doc: Document, source: str = "selection") -> EncodeImage:
        space = self.state.require_space()
        if not space.can_encode:
            raise InputError(f"{space.name} has no encoder: only VAE models can bring the canvas into their space.")
        pixels, region = source_pixels(doc, source)
        return EncodeImage(space, pixels, region)

    def apply_encoded(self, encoded: Encoded) -> bool:
        """Make the encoded image the centre (ignored if the model changed meanwhile)."""
        if not self.state.is_model(encoded.model_id):
            return False
        self.state.encoded_region = encoded.region
        self.history.move_to(encoded.mean)
        return True

    def current_request(self, width: int | None = None, height: int | None = None) -> RenderLatents | PlaceLatent:
        """Render just the current image; with a size, also enlarge it to that size for the canvas."""
        state = self.state
        shown = RenderLatents(state.require_space(), frozen_copy(state.current()[None]), state.render_truncation)
        if width is None or height is None:
            return shown
        if not (1 <= width <= MAX_PLACE_SIDE and 1 <= height <= MAX_PLACE_SIDE):
            raise InputError(f"Choose a size between 1 and {MAX_PLACE_SIDE} pixels; got {width}x{height}.")
        return PlaceLatent(shown, int(width), int(height))

    def default_placement(self, doc: Document) -> Rect:
        """Where 'Place on canvas' puts the image: where it was encoded from, else the selection, else a centred
        square four times the model's size (fitting in the canvas)."""
        region = self.state.encoded_region
        if region is not None and not region.intersect(doc.rect).is_empty():
            return region
        if not doc.selection.is_empty:
            bounds = doc.selection.bounds()
            if bounds is not None:
                return bounds
        width, height = self.state.require_space().image_size
        scale = max(1, min(4, doc.width // width, doc.height // height))
        w, h = width * scale, height * scale
        return Rect((doc.width - w) // 2, (doc.height - h) // 2, w, h)

    def place_on_canvas(self, doc: Document, image: np.ndarray, width: int, height: int,
                        origin: tuple[int, int] | None = None, name: str | None = None,
                        latent: np.ndarray | None = None) -> Any:
        """Add ``image`` (a rendered RGB result) as a new, undoable layer of that size (a :class:`PlaceLatent` job has
        already enlarged it through the upscaler; any other size is resampled with Lanczos)."""
        if width < 1 or height < 1 or width > MAX_PLACE_SIDE or height > MAX_PLACE_SIDE:
            raise InputError(f"Choose a size between 1 and {MAX_PLACE_SIDE} pixels; got {width}x{height}.")
        state = self.state
        space = state.require_space()
        pixels = resize(flatten_alpha(np.asarray(image, np.uint8)), int(width), int(height))
        if origin is None:
            origin = ((doc.width - width) // 2, (doc.height - height) // 2)
        metadata = {"source": "latent-explorer", "model_id": space.model_id, "seed": state.seed,
                    "latent": [float(v) for v in state.effective(state.current() if latent is None else latent)]}
        return doc.add_result_layer(pixels, name or f"{space.name} latent", metadata, use_selection=True,
                                    origin=(int(origin[0]), int(origin[1])))
