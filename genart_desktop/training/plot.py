"""Line plots drawn with Pillow (loss curves, diversity), so training needs no plotting library."""

from __future__ import annotations

import io
import math
import os
from collections.abc import Mapping, Sequence

from PIL import Image, ImageDraw, ImageFont

from genart_desktop.core.atomic import atomic_write_bytes

COLOURS = [(31, 119, 180), (214, 39, 40), (44, 160, 44), (255, 127, 14), (148, 103, 189), (140, 86, 75),
           (227, 119, 194), (127, 127, 127)]


def _smooth(values: Sequence[float], weight: float) -> list[float]:
    out, last = [], None
    for value in values:
        last = value if last is None else weight * last + (1 - weight) * value
        out.append(last)
    return out


def _nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = min((m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw), default=raw)
    first = math.ceil(lo / step) * step
    return [first + i * step for i in range(int((hi - first) / step) + 1)]


def render_plot(series: Mapping[str, Sequence[tuple[float, float]]], title: str, size: tuple[int, int] = (800, 450),
                smooth: float = 0.0, reference: Mapping[str, float] | None = None) -> Image.Image:
    """Each series is a list of (x, y) points; ``reference`` draws labelled horizontal lines (e.g. the real data)."""
    width, height = size
    left, right, top, bottom = 70, 20, 40, 50
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default()
    draw.text((left, 12), title, fill="black", font=font)
    finite = {name: [(x, y) for x, y in pts if math.isfinite(y)] for name, pts in series.items()}
    points = [p for pts in finite.values() for p in pts]
    refs = dict(reference or {})
    if not points:
        draw.text((left, height // 2), "no data yet", fill="grey", font=font)
        return image
    xs = [p[0] for p in points]
    ys = [p[1] for p in points] + list(refs.values())
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(ys), max(ys)
    if x1 == x0:
        x1 = x0 + 1
    pad = (y1 - y0) * 0.05 or abs(y0) * 0.1 or 1.0
    y0, y1 = y0 - pad, y1 + pad

    def to_px(x: float, y: float) -> tuple[float, float]:
        px = left + (x - x0) / (x1 - x0) * (width - left - right)
        py = height - bottom - (y - y0) / (y1 - y0) * (height - top - bottom)
        return px, py

    draw.rectangle([left, top, width - right, height - bottom], outline="black")
    for tick in _nice_ticks(y0, y1):
        _, py = to_px(x0, tick)
        draw.line([left, py, width - right, py], fill=(230, 230, 230))
        draw.text((5, py - 6), f"{tick:.4g}", fill="black", font=font)
    for tick in _nice_ticks(x0, x1):
        px, _ = to_px(tick, y0)
        draw.line([px, height - bottom, px, height - bottom + 4], fill="black")
        draw.text((px - 12, height - bottom + 8), f"{tick:.6g}", fill="black", font=font)
    draw.text((width // 2 - 10, height - 18), "step", fill="black", font=font)
    for index, (name, value) in enumerate(refs.items()):
        _, py = to_px(x0, value)
        colour = COLOURS[(len(finite) + index) % len(COLOURS)]
        for start in range(left, width - right, 12):
            draw.line([start, py, min(start + 6, width - right), py], fill=colour, width=2)
        draw.text((width - right - 160, py - 14), name, fill=colour, font=font)
    for index, (name, pts) in enumerate(finite.items()):
        if not pts:
            continue
        colour = COLOURS[index % len(COLOURS)]
        ys_smooth = _smooth([p[1] for p in pts], smooth) if smooth else [p[1] for p in pts]
        line = [to_px(p[0], y) for p, y in zip(pts, ys_smooth)]
        if len(line) == 1:
            px, py = line[0]
            draw.ellipse([px - 2, py - 2, px + 2, py + 2], fill=colour)
        else:
            draw.line(line, fill=colour, width=2)
        draw.text((left + 10 + 130 * index, top + 6), name, fill=colour, font=font)
    return image


def save_plot(path: str | os.PathLike[str], series: Mapping[str, Sequence[tuple[float, float]]], title: str,
              smooth: float = 0.0, reference: Mapping[str, float] | None = None) -> None:
    buffer = io.BytesIO()
    render_plot(series, title, smooth=smooth, reference=reference).save(buffer, "PNG")
    atomic_write_bytes(path, buffer.getvalue())
