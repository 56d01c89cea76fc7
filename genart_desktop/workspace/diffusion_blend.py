"""Pixel-space finishing of a diffusion result on the painting: a feathered mask edge, tone matched at the border,
the original's fine detail kept where the strength was low, a plain background keyed out, and the seam figure the
benchmark reports. Plain numpy on (H, W) float masks in [0, 1] and uint8 pictures, so it is exact and testable.

Why in pixel space: a latent cell is 8 pixels wide, so whatever the sampler blends in latent space ends in 8 px
blocks; the soft edge has to be drawn after decoding, at the canvas's resolution.
"""

from __future__ import annotations

import numpy as np

from genart_desktop.core.images import resize_mask

MAX_TONE_SHIFT = 24.0  # levels: tone matching corrects a drift, it never recolours what the model painted
MAX_FEATHER_SHARE = 8  # a feather never eats more than 1/8 of the selection's shorter side


def box_blur(values: np.ndarray, radius: int) -> np.ndarray:
    """Separable mean over a (2r+1)-square window, edges clamped; float32."""
    out = np.asarray(values, np.float32)
    if radius <= 0:
        return out.copy()
    for axis in (0, 1):
        pad = [(0, 0), (0, 0)]
        pad[axis] = (radius + 1, radius)
        cum = np.cumsum(np.pad(out, pad, mode="edge"), axis=axis, dtype=np.float64)
        size = out.shape[axis]
        upper = np.take(cum, np.arange(2 * radius + 1, 2 * radius + 1 + size), axis=axis)
        lower = np.take(cum, np.arange(0, size), axis=axis)
        out = ((upper - lower) / (2 * radius + 1)).astype(np.float32)
    return out


def feather_radius(mask: np.ndarray, feather: int) -> int:
    """``feather`` pixels, capped so a small selection keeps a solid core."""
    ys, xs = np.nonzero(mask > 0)
    if len(ys) == 0:
        return 0
    short = min(ys.max() - ys.min() + 1, xs.max() - xs.min() + 1)
    return int(max(0, min(int(feather), short // MAX_FEATHER_SHARE)))


def inward_feather(mask: np.ndarray, feather: int) -> np.ndarray:
    """``mask`` (uint8 or [0, 1]) with its edge ramped from 0 to 1 over ``feather`` pixels *inside* it: pixels
    outside the selection stay exactly untouched, and the repainted area fades in instead of starting at a line."""
    m = np.asarray(mask, np.float32)
    m = m / 255.0 if m.max(initial=0.0) > 1.0 else m
    radius = feather_radius(m, feather)
    if radius == 0:
        return m
    ramp = np.clip(2.0 * box_blur(m, radius) - 1.0, 0.0, 1.0)
    return np.minimum(m, ramp)


def _band(mask: np.ndarray, width: int, inside: bool) -> np.ndarray:
    """Pixels within ``width`` of the mask's edge, on its inner or outer side."""
    hard = (mask >= 0.5).astype(np.float32)
    spread = box_blur(hard, max(1, width))
    return (hard > 0) & (spread < 0.999) if inside else (hard == 0) & (spread > 0.001)


def match_tone(result: np.ndarray, source: np.ndarray, mask: np.ndarray, band: int = 6) -> np.ndarray:
    """``result`` RGB with its tone shifted toward ``source`` near the mask's border: the mean colour of the
    result just inside the edge is moved to the source's mean just outside it (at most :data:`MAX_TONE_SHIFT`
    levels), fully at the edge and fading to nothing ``band`` pixels inside."""
    inner, outer = _band(mask, band, True), _band(mask, band, False)
    if not inner.any() or not outer.any():
        return result
    shift = source[outer][:, :3].astype(np.float32).mean(0) - result[inner][:, :3].astype(np.float32).mean(0)
    shift = np.clip(shift, -MAX_TONE_SHIFT, MAX_TONE_SHIFT)
    hard = (mask >= 0.5).astype(np.float32)
    weight = np.clip(2.0 * box_blur(1.0 - hard, band), 0.0, 1.0)[..., None]
    out = result[..., :3].astype(np.float32) + weight * shift
    finished = result.copy()
    finished[..., :3] = np.clip(np.round(out), 0, 255).astype(np.uint8)
    return finished


def reinject_detail(result: np.ndarray, source: np.ndarray, coarse: tuple[int, int], keep: float,
                    resample) -> np.ndarray:
    """Image-to-image on a region larger than the model: the source's high frequencies (what a round trip through
    the model's ``coarse`` size loses) added back to ``result``, weighted by ``keep`` (1 - strength)."""
    if keep <= 0.0 or (source.shape[1], source.shape[0]) == tuple(coarse):
        return result
    rgb = np.ascontiguousarray(source[..., :3])
    low = resample(resample(rgb, *coarse), rgb.shape[1], rgb.shape[0]).astype(np.float32)
    detail = rgb.astype(np.float32) - low
    out = result.copy()
    out[..., :3] = np.clip(np.round(result[..., :3].astype(np.float32) + keep * detail), 0, 255).astype(np.uint8)
    return out


def background_colour(rgb: np.ndarray, tolerance: float = 24.0, max_spread: float = 12.0) -> np.ndarray | None:
    """The colour of a plain background to key out: the picture's border when it is one flat colour. None when
    there is no such background, or when keying it would leave (almost) nothing or (almost) everything: then the
    picture is kept whole."""
    rgb = np.asarray(rgb[..., :3], np.float32)
    border = np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]])
    colour = np.median(border, axis=0)
    if np.abs(border - colour).max(axis=1).mean() > max_spread:
        return None
    share = float((np.abs(rgb - colour).max(axis=2) < tolerance).mean())
    return colour if 0.02 <= share <= 0.95 else None


def border_connected(candidate: np.ndarray) -> np.ndarray:
    """The pixels of ``candidate`` (bool) reachable from the picture's border through ``candidate`` pixels: the
    background, not a light patch inside the subject."""
    reached = np.zeros_like(candidate)
    for edge in ((0, slice(None)), (-1, slice(None)), (slice(None), 0), (slice(None), -1)):
        reached[edge] = candidate[edge]
    while True:
        grown = reached.copy()
        grown[1:] |= reached[:-1]
        grown[:-1] |= reached[1:]
        grown[:, 1:] |= reached[:, :-1]
        grown[:, :-1] |= reached[:, 1:]
        grown &= candidate
        if np.array_equal(grown, reached):
            return reached
        reached = grown


def cut_out(small: np.ndarray, big: np.ndarray, colour: np.ndarray, reach: float = 96.0) -> np.ndarray:
    """``big`` (an enlarged ``small``, RGB or RGBA) as RGBA with the plain background ``colour`` keyed out: only
    where the background touches the border (found on ``small``), with a soft edge over the colours that blend
    into it, and those edge colours freed of the background (no light halo on a dark painting)."""
    zone_small = border_connected(np.abs(small[..., :3].astype(np.float32) - colour).max(axis=2) < reach)
    height, width = big.shape[:2]
    zone = resize_mask(zone_small.astype(np.uint8) * 255, width, height).astype(np.float32) / 255.0
    rgb = big[..., :3].astype(np.float32)
    distance = np.abs(rgb - colour).max(axis=2)
    keyed = np.clip((distance - 12.0) / (reach - 12.0), 0.0, 1.0)
    alpha = 1.0 - zone * (1.0 - keyed)
    freed = colour + (rgb - colour) / np.maximum(alpha, 1e-3)[..., None]
    out = np.empty((height, width, 4), np.uint8)
    out[..., :3] = np.clip(np.round(freed), 0, 255).astype(np.uint8)
    previous = big[..., 3].astype(np.float32) / 255.0 if big.shape[2] == 4 else 1.0
    out[..., 3] = np.round(alpha * previous * 255.0).astype(np.uint8)
    return out


def seam_energy(image: np.ndarray, mask: np.ndarray, ring: int = 8) -> float:
    """How visible a mask's border is in ``image``: the mean gradient magnitude on the border (the pixel pairs that
    straddle it) over the mean gradient in the ``ring`` pixels around it. About 1 means the border is as busy as
    its surroundings (no seam); well above 1 is an edge the eye sees."""
    rgb = np.asarray(image[..., :3], np.float32)
    hard = np.asarray(mask, np.float32)
    hard = (hard / 255.0 if hard.max(initial=0.0) > 1.0 else hard) >= 0.5
    gx = np.abs(np.diff(rgb, axis=1)).sum(2)
    gy = np.abs(np.diff(rgb, axis=0)).sum(2)
    cross_x, cross_y = hard[:, 1:] != hard[:, :-1], hard[1:] != hard[:-1]
    if not cross_x.any() and not cross_y.any():
        return 0.0
    border = np.concatenate([gx[cross_x], gy[cross_y]]).mean()
    near = box_blur(hard.astype(np.float32), ring)
    around = (near > 0.001) & (near < 0.999)
    surround = np.concatenate([gx[around[:, 1:] & ~cross_x], gy[around[1:] & ~cross_y]])
    return float(border / max(1e-6, surround.mean() if surround.size else 1e-6))
