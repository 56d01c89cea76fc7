"""How much better than plain resampling the exported upscaler is, on photos it never trained on.

Each held-out photo is cropped to a multiple of the scale, downscaled by Pillow's bicubic filter (the usual
"x4 bicubic" benchmark input), then enlarged back by bicubic, Lanczos and the exported graph through the app's own
tiled pipeline; PSNR and SSIM against the original (Y channel, ``scale`` px border left out, see quality.py).
The sample sheet shows crops side by side: Lanczos | ours | original.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from genart_desktop.core.errors import InputError
from genart_desktop.core.images import flatten_alpha, open_image_rgba
from genart_desktop.engine.pipelines.upscale import UpscalePipeline
from genart_desktop.training.upscale.quality import psnr, ssim

METHODS = ("bicubic", "lanczos", "ours")
FILTERS = {"bicubic": Image.Resampling.BICUBIC, "lanczos": Image.Resampling.LANCZOS}
GAP = 4
HEADER = 18


def pil_resize(rgb: np.ndarray, width: int, height: int, method: str) -> np.ndarray:
    return np.asarray(Image.fromarray(rgb, "RGB").resize((width, height), FILTERS[method]))


def load_photo(path: str | os.PathLike[str], scale: int) -> np.ndarray:
    """The photo as RGB, cropped (top-left kept) so both sides divide by ``scale``."""
    rgb = flatten_alpha(open_image_rgba(path))
    height, width = rgb.shape[0] // scale * scale, rgb.shape[1] // scale * scale
    return np.ascontiguousarray(rgb[:height, :width])


def enlargements(original: np.ndarray, pipeline: UpscalePipeline) -> dict[str, np.ndarray]:
    """Bicubic, Lanczos and ours, each from the same bicubic x``scale`` downscale of ``original``."""
    height, width = original.shape[:2]
    s = pipeline.scale
    low = pil_resize(original, width // s, height // s, "bicubic")
    found = {method: pil_resize(low, width, height, method) for method in FILTERS}
    found["ours"] = pipeline.upscale(low)
    return found


def measure(pipeline: UpscalePipeline, files: list[Path]) -> dict[str, float]:
    """Mean PSNR (dB) and SSIM of each method over ``files``, and our PSNR gain over bicubic and Lanczos."""
    if not files:
        raise InputError("No held-out photos to measure the upscaler on.")
    scores: dict[str, list[float]] = {f"{m}_{k}": [] for m in METHODS for k in ("psnr", "ssim")}
    border = pipeline.scale
    for path in files:
        original = load_photo(path, pipeline.scale)
        for method, result in enlargements(original, pipeline).items():
            scores[f"{method}_psnr"].append(psnr(result, original, border))
            scores[f"{method}_ssim"].append(ssim(result, original, border))
    means = {key: round(float(np.mean(values)), 4) for key, values in scores.items()}
    means["gain_over_bicubic_db"] = round(means["ours_psnr"] - means["bicubic_psnr"], 3)
    means["gain_over_lanczos_db"] = round(means["ours_psnr"] - means["lanczos_psnr"], 3)
    means["photos"] = len(files)
    return means


def centre_crop(rgb: np.ndarray, side: int) -> np.ndarray:
    side = min(side, *rgb.shape[:2])
    top, left = (rgb.shape[0] - side) // 2, (rgb.shape[1] - side) // 2
    return rgb[top:top + side, left:left + side]


def sheet_rows(pipeline: UpscalePipeline, originals: list[np.ndarray], small: list[np.ndarray]
               ) -> list[list[np.ndarray]]:
    """[Lanczos, ours, original] per crop; for ``small`` pictures (no larger original exists, e.g. 64 px
    generated emoji) the third column is the picture itself enlarged with nearest neighbours."""
    rows = []
    for original in originals:
        found = enlargements(original, pipeline)
        rows.append([found["lanczos"], found["ours"], original])
    s = pipeline.scale
    for picture in small:
        h, w = picture.shape[:2]
        rows.append([pil_resize(picture, w * s, h * s, "lanczos"), pipeline.upscale(picture),
                     picture.repeat(s, 0).repeat(s, 1)])
    return rows


def render_sheet(rows: list[list[np.ndarray]], titles: tuple[str, ...] = ("Lanczos", "ours", "original")) -> bytes:
    """The rows as one PNG with a title over each column (all cells of a row must share a size)."""
    cell_w = max(cell.shape[1] for row in rows for cell in row)
    heights = [max(cell.shape[0] for cell in row) for row in rows]
    width = len(titles) * (cell_w + GAP) + GAP
    canvas = Image.new("RGB", (width, HEADER + sum(h + GAP for h in heights) + GAP), "white")
    draw = ImageDraw.Draw(canvas)
    for column, title in enumerate(titles):
        draw.text((GAP + column * (cell_w + GAP) + 4, 3), title, fill="black")
    top = HEADER
    for row, height in zip(rows, heights):
        for column, cell in enumerate(row):
            canvas.paste(Image.fromarray(np.ascontiguousarray(cell[..., :3]), "RGB"),
                         (GAP + column * (cell_w + GAP), top))
        top += height + GAP
    buffer = io.BytesIO()
    canvas.save(buffer, "PNG")
    return buffer.getvalue()
