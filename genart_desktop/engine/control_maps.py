"""Control pictures: the line sketch or flat colour segmentation a control-conditioned model follows.

Training computes the control of every training picture with these functions and the app derives a control from a
photo with the same ones, so what a model learned from and what it is given are the same kind of picture (numpy
only, deterministic: the same picture always makes the same map).

- ``edges``: dark 3-pixel lines on white, like a pen sketch: the Sobel gradient magnitude of the picture's
  luminance, thresholded relative to the picture's own strong edges (with an absolute floor so a flat picture has no
  lines), then dilated by one pixel (no thinning).
- ``colour-blocks``: a flat colour segmentation: a strong box blur, then k-means to a few colours (started from
  luminance quantiles, so no randomness), each pixel painted its cluster's colour.
- ``sketch``: the user's own drawing, used as it is.
"""

from __future__ import annotations

import numpy as np

CONTROL_KINDS = ("edges", "colour-blocks")  # what a model is trained to follow
CONTROL_MODES = ("sketch", "edges", "colour-blocks")  # how a user's picture becomes a control
DEFAULT_COLOURS = 6
EDGE_FLOOR = 0.08  # gradient (of luminance in [0, 1], Sobel / 4) below which nothing is a line
EDGE_RELATIVE = 0.35  # fraction of the picture's 98th-percentile gradient a line must reach
KMEANS_ROUNDS = 10


def _rgb(picture: np.ndarray) -> np.ndarray:
    array = np.asarray(picture)
    if array.ndim != 3 or array.shape[2] != 3 or array.dtype != np.uint8:
        raise ValueError(f"A control map needs an (H, W, 3) uint8 picture, got {array.dtype} {array.shape}.")
    return array


def luminance(picture: np.ndarray) -> np.ndarray:
    """(H, W) float32 in [0, 1] (Rec. 601 weights)."""
    rgb = _rgb(picture).astype(np.float32) / 255.0
    return rgb @ np.array([0.299, 0.587, 0.114], np.float32)


def dilate(mask: np.ndarray) -> np.ndarray:
    """3x3 maximum of a boolean map (one pixel of growth in every direction)."""
    padded = np.pad(mask, 1)
    h, w = mask.shape
    out = np.zeros_like(mask)
    for dy in range(3):
        for dx in range(3):
            out |= padded[dy:dy + h, dx:dx + w]
    return out


def edge_lines(picture: np.ndarray) -> np.ndarray:
    """(H, W) bool: where the picture has a line (see the module docstring)."""
    lum = np.pad(luminance(picture), 1, mode="edge")
    h, w = lum.shape[0] - 2, lum.shape[1] - 2

    def at(dy: int, dx: int) -> np.ndarray:
        return lum[1 + dy:1 + dy + h, 1 + dx:1 + dx + w]

    gx = (at(-1, 1) + 2 * at(0, 1) + at(1, 1)) - (at(-1, -1) + 2 * at(0, -1) + at(1, -1))
    gy = (at(1, -1) + 2 * at(1, 0) + at(1, 1)) - (at(-1, -1) + 2 * at(-1, 0) + at(-1, 1))
    magnitude = np.hypot(gx, gy) / 4.0
    threshold = max(EDGE_FLOOR, EDGE_RELATIVE * float(np.percentile(magnitude, 98)))
    return dilate(magnitude > threshold)


def lines_picture(lines: np.ndarray) -> np.ndarray:
    """Black lines on white, (H, W, 3) uint8."""
    grey = np.where(lines, 0, 255).astype(np.uint8)
    return np.repeat(grey[..., None], 3, axis=2)


def edge_map(picture: np.ndarray) -> np.ndarray:
    """The ``edges`` control of a picture: its lines, black on white."""
    return lines_picture(edge_lines(picture))


def sketch_lines(picture: np.ndarray) -> np.ndarray:
    """(H, W) bool: the dark strokes of a sketch (or of an ``edges`` control): darker than mid-grey."""
    return luminance(picture) < 0.5


def box_blur(values: np.ndarray, radius: int) -> np.ndarray:
    """Mean over a (2r+1)^2 window of an (H, W, C) float array, edges repeated (summed-area table)."""
    if radius <= 0:
        return values.astype(np.float32)
    padded = np.pad(values.astype(np.float64), ((radius + 1, radius), (radius + 1, radius), (0, 0)), mode="edge")
    padded[0, :, :] = 0.0
    padded[:, 0, :] = 0.0
    table = padded.cumsum(0).cumsum(1)
    k = 2 * radius + 1
    h, w = values.shape[:2]
    total = table[k:k + h, k:k + w] - table[:h, k:k + w] - table[k:k + h, :w] + table[:h, :w]
    return (total / (k * k)).astype(np.float32)


def colour_blocks(picture: np.ndarray, colours: int = DEFAULT_COLOURS) -> np.ndarray:
    """The ``colour-blocks`` control of a picture: (H, W, 3) uint8 of at most ``colours`` flat colours."""
    rgb = _rgb(picture).astype(np.float32)
    h, w = rgb.shape[:2]
    blurred = box_blur(box_blur(rgb, max(1, min(h, w) // 24)), max(1, min(h, w) // 24))
    points = blurred.reshape(-1, 3)
    order = np.argsort(points @ np.array([0.299, 0.587, 0.114], np.float32), kind="stable")
    picks = order[np.linspace(0, len(order) - 1, max(1, colours) * 2 + 1)[1::2].round().astype(int)]
    centres = points[picks].astype(np.float64)
    labels = np.zeros(len(points), np.int64)
    for _ in range(KMEANS_ROUNDS):
        distances = ((points[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
        labels = distances.argmin(axis=1)
        for k in range(len(centres)):
            members = points[labels == k]
            if len(members):
                centres[k] = members.mean(axis=0)
    palette = np.clip(np.round(centres), 0, 255).astype(np.uint8)
    return palette[labels].reshape(h, w, 3)


def control_picture(picture: np.ndarray, mode: str, colours: int = DEFAULT_COLOURS) -> np.ndarray:
    """The control a user's ``picture`` ((H, W, 3) uint8) gives in ``mode`` (one of :data:`CONTROL_MODES`)."""
    if mode == "sketch":
        return _rgb(picture).copy()
    if mode == "edges":
        return edge_map(picture)
    if mode == "colour-blocks":
        return colour_blocks(picture, colours)
    raise ValueError(f"Unknown control mode {mode!r}; choose one of {', '.join(CONTROL_MODES)}.")
