"""What the image-writing commands (generate, style, upscale) share: free output names and PNG bytes."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from genart_desktop.core.images import rgba_to_pil


def free_png_path(outdir: Path, stem: str, taken: set[Path] | None = None) -> Path:
    """``outdir/stem.png``, or ``stem-N.png`` with the first N that neither exists nor is in ``taken`` (which then
    records it), so a batch never overwrites a file, its own or one already there."""
    taken = set() if taken is None else taken
    path = outdir / f"{stem}.png"
    counter = 1
    while path.exists() or path in taken:
        path = outdir / f"{stem}-{counter}.png"
        counter += 1
    taken.add(path)
    return path


def png_bytes(pixels: np.ndarray) -> bytes:
    """PNG bytes; an image without any transparency is written as RGB."""
    if pixels.shape[2] == 4 and bool((pixels[..., 3] == 255).all()):
        pixels = pixels[..., :3]
    buffer = io.BytesIO()
    rgba_to_pil(pixels).save(buffer, "PNG")
    return buffer.getvalue()
