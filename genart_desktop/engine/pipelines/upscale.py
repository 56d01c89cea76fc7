"""Super-resolution with an upscaler network: overlapping tiles, any size and aspect, RGBA, progress and cancel.

A network takes ``low`` ``(batch, 3, h, w)`` and returns ``high`` ``(batch, 3, h*scale, w*scale)`` in the value
range its card declares (ours: [0, 1]); see docs/model-card.md. It is fully convolutional, so tiles need no padding.
The image is cut into overlapping low-resolution tiles (engine/tiling.py's plan, the one the style pipeline uses);
each tile's enlarged result is blended with raised-cosine weights repeated ``scale`` times, so seams are cross-fades
and memory stays one float32 output plus one tile.

Transparency: alpha goes through the network as a grey picture in the same batch as the colour. The colour of
(nearly) transparent pixels is first replaced by the colour of the nearest visible ones (:func:`bleed_colour`), so the
network never sees a shape's edge against transparent black: a learned upscaler sharpens such an edge with an
overshoot, and dividing premultiplied colour by an alpha that overshoots differently leaves a dark rim around every
cut-out. The enlarged colour is therefore already straight (not premultiplied) and the enlarged alpha cuts it out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from genart_desktop.core.errors import InputError, JobCancelled, ModelError
from genart_desktop.core.images import check_pixel_image, resize
from genart_desktop.engine.pipelines.upscale_ensemble import SelfEnsemble, check_ensemble
from genart_desktop.engine.tiling import TilePlan

ProgressCallback = Callable[[int, int], None]
CancelCheck = Callable[[], bool]

DEFAULT_TILE = 192
DEFAULT_OVERLAP = 16
MAX_OUTPUT_PIXELS = 16384 * 16384
BAND_ROWS = 256  # the float32 result becomes uint8 in bands of rows, to bound temporaries


class UpscaleNetwork:
    """One upscaler graph behind a call ``(n, 3, h, w) float32 -> (n, 3, h*s, w*s) float32``.

    ``runner`` is an engine ``ModelSession`` (``input_names``, ``input(name).dtype``, ``run(feeds, options)``) or a
    raw onnxruntime ``InferenceSession``; names, rank and dtype are read from it, never assumed.
    """

    def __init__(self, runner: Any, scale: int, value_range: tuple[float, float] = (0.0, 1.0)) -> None:
        if not callable(getattr(runner, "run", None)):
            raise ModelError("The upscaler model has no run method; it is not a loaded network.")
        self._runner = runner
        self._ort = callable(getattr(runner, "get_inputs", None))
        inputs = runner.get_inputs() if self._ort else [runner.input(n) for n in runner.input_names]
        outputs = runner.get_outputs() if self._ort else [runner.output(n) for n in runner.output_names]
        if len(inputs) != 1 or len(outputs) < 1:
            raise ModelError(f"An upscaler takes one image; this network takes {len(inputs)} inputs.")
        spec = inputs[0]
        shape = list(spec.shape) if spec.shape is not None else []
        if len(shape) != 4 or (isinstance(shape[1], int) and shape[1] != 3):
            raise ModelError(f"An upscaler input must be (batch, 3, height, width), not {shape}.")
        type_name = getattr(spec, "type", None)
        dtype = {"tensor(float)": np.float32, "tensor(float16)": np.float16}.get(type_name) if self._ort \
            else getattr(spec, "dtype", None)
        if dtype is None or np.dtype(dtype) not in (np.dtype(np.float32), np.dtype(np.float16)):
            raise ModelError(f"An upscaler input must be float32 or float16, not {type_name or dtype}.")
        if scale not in (1, 2, 3, 4, 8):
            raise ModelError(f"The upscaler's card gives an unusable scale {scale!r}.")
        low, high = (float(v) for v in value_range)
        if not high > low:
            raise ModelError(f"The upscaler's value range {value_range!r} is empty.")
        self.input_name, self.output_name = spec.name, outputs[0].name
        self.dtype = np.dtype(dtype)
        self.scale = int(scale)
        self.low, self.high = low, high

    def __call__(self, batch: np.ndarray, run_options: Any = None) -> np.ndarray:
        """``batch`` in [0, 1] -> the enlarged batch in [0, 1] (not clamped)."""
        feeds = {self.input_name: (self.low + (self.high - self.low) * batch).astype(self.dtype, copy=False)}
        try:
            if self._ort:
                result = self._runner.run([self.output_name], feeds, run_options)[0]
            else:
                result = self._runner.run(feeds, run_options, outputs=[self.output_name])[self.output_name]
        except (JobCancelled, InputError, ModelError):
            raise
        except Exception as exc:  # onnxruntime raises its own exception types for bad graphs and shapes
            raise ModelError(f"The upscaler failed on a {batch.shape[3]}x{batch.shape[2]} tile: {exc}") from exc
        result = np.asarray(result, dtype=np.float32)
        n, c, h, w = batch.shape
        if result.shape != (n, c, h * self.scale, w * self.scale):
            raise ModelError(f"The upscaler turned a {tuple(batch.shape)} tile into {tuple(result.shape)}, not "
                             f"{self.scale}x its size.")
        return (result - self.low) / (self.high - self.low)


class UpscalePipeline:
    """Enlarges RGB/RGBA uint8 images by the network's scale, tile by tile (``tile`` low-resolution pixels a side,
    neighbours sharing ``overlap``), each tile run ``ensemble`` times, flipped and transposed, when a self-ensemble
    is asked for (upscale_ensemble.py)."""

    def __init__(self, network: UpscaleNetwork, *, tile: int = DEFAULT_TILE, overlap: int = DEFAULT_OVERLAP,
                 ensemble: int = 1) -> None:
        if tile < 16 or not 0 <= overlap < tile // 2:
            raise InputError(f"Bad upscaler tiling: tile {tile}, overlap {overlap}; the tile must be at least 16 px "
                             "and the overlap less than half of it.")
        self.network = network
        self.ensemble = check_ensemble(ensemble)
        self._run = SelfEnsemble(network, self.ensemble) if self.ensemble > 1 else network
        self.tile = int(tile)
        self.overlap = int(overlap)

    @property
    def scale(self) -> int:
        return self.network.scale

    def upscale(self, pixels: np.ndarray, progress: ProgressCallback | None = None,
                cancelled: CancelCheck | None = None, run_options: Any = None) -> np.ndarray:
        """``(H, W, 3|4)`` uint8 -> ``(H*scale, W*scale, same)`` uint8; the input is never modified."""
        check_pixel_image(pixels)
        height, width, channels = pixels.shape
        s = self.scale
        if height * width * s * s > MAX_OUTPUT_PIXELS:
            raise InputError(f"A {width}x{height} image enlarged {s}x would be larger than the "
                             f"{int(MAX_OUTPUT_PIXELS ** 0.5)} px square the upscaler allows.")
        translucent = channels == 4 and bool((pixels[..., 3] < 255).any())
        planes = 4 if translucent else 3
        output = np.zeros((height * s, width * s, planes), np.float32)
        plan = TilePlan.create(height, width, self.tile, self.overlap)
        for item in plan:
            if cancelled is not None and cancelled():
                raise JobCancelled("Cancelled; nothing was changed.")
            rows, cols = item.slices
            batch = _tile_batch(pixels[rows, cols], translucent)
            result = self._run(batch, run_options)
            enlarged = result[0].transpose(1, 2, 0)
            if translucent:
                enlarged = np.concatenate([enlarged, result[1].mean(0)[..., None]], axis=2)
            weight = np.repeat(np.repeat(plan.normalised_weight(item), s, 0), s, 1)
            out_rows = slice(rows.start * s, rows.stop * s)
            out_cols = slice(cols.start * s, cols.stop * s)
            output[out_rows, out_cols] += enlarged * weight[..., None]
            if progress is not None:
                progress(item.index + 1, len(plan))
        return _to_uint8(output, channels, translucent)


def _tile_batch(patch: np.ndarray, translucent: bool) -> np.ndarray:
    """A tile as a ``(1|2, 3, h, w)`` float32 batch in [0, 1]: colour (bled into transparent pixels when
    translucent) [+ alpha]."""
    colour = patch[..., :3].astype(np.float32) / 255.0
    if not translucent:
        return colour.transpose(2, 0, 1)[None]
    alpha = patch[..., 3:4].astype(np.float32) / 255.0
    grey = np.repeat(alpha, 3, axis=2)
    return np.stack([bleed_colour(colour, alpha).transpose(2, 0, 1), grey.transpose(2, 0, 1)])


def bleed_colour(colour: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Straight ``(h, w, 3)`` colour whose transparent pixels (alpha below 1/255) take the alpha-weighted colour of
    the nearest visible ones, by a push-pull pyramid: each level halves the picture, averaging colour by alpha, and
    fills the gaps of the level above. Visible pixels keep their colour; a fully transparent tile stays as it is."""
    known = alpha[..., 0] >= 1.0 / 255
    if known.all() or not known.any():
        return colour
    weight = np.where(known, alpha[..., 0], 0.0).astype(np.float32)
    filled = _pull(colour * weight[..., None], weight)
    return np.where(known[..., None], colour, filled).astype(np.float32)


def _pull(premultiplied: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Straight colour everywhere from ``premultiplied`` sums and their ``weight``: where the weight is zero, the
    colour of the next coarser level (2x2 sums), enlarged by repetition."""
    height, width = weight.shape
    straight = premultiplied / np.maximum(weight, 1e-12)[..., None]
    if (weight > 0).all() or (height <= 1 and width <= 1):
        return straight
    coarse = _pull(_sum_2x2(premultiplied), _sum_2x2(weight)).repeat(2, 0).repeat(2, 1)[:height, :width]
    return np.where((weight > 0)[..., None], straight, coarse)


def _sum_2x2(values: np.ndarray) -> np.ndarray:
    """Sums of 2x2 blocks over the first two axes (an odd size padded with zeros)."""
    pad = [(0, values.shape[0] % 2), (0, values.shape[1] % 2)] + [(0, 0)] * (values.ndim - 2)
    v = np.pad(values, pad)
    return v[0::2, 0::2] + v[1::2, 0::2] + v[0::2, 1::2] + v[1::2, 1::2]


def _to_uint8(output: np.ndarray, channels: int, translucent: bool) -> np.ndarray:
    """Clamp and round in bands of rows; an opaque RGBA input gets an opaque alpha back."""
    height, width = output.shape[:2]
    result = np.empty((height, width, channels), np.uint8)
    for top in range(0, height, BAND_ROWS):
        band = np.clip(output[top:top + BAND_ROWS], 0.0, 1.0)
        if translucent:  # the colour is straight (see bleed_colour); transparent pixels carry none
            alpha = band[..., 3:4]
            band = np.concatenate([np.where(alpha > 1.0 / 512, band[..., :3], 0.0), alpha], axis=2)
        rounded = np.rint(band * 255.0).astype(np.uint8)
        if channels == 4 and not translucent:
            rounded = np.concatenate([rounded, np.full(rounded.shape[:2] + (1,), 255, np.uint8)], axis=2)
        result[top:top + BAND_ROWS] = rounded
    return result


def passes_needed(source: tuple[int, int], target: tuple[int, int], scale: int, max_passes: int = 2) -> int:
    """How many times to run a ``scale`` upscaler so ``source`` (w, h) reaches ``target`` (0 when it already does
    or the network cannot help: a scale of 1); more than ``max_passes`` only enlarges the model's own artefacts."""
    if scale < 2:
        return 0
    need = max(target[0] / source[0], target[1] / source[1])
    passes = 0
    while need > 1.0 + 1e-6 and passes < max_passes:
        need /= scale
        passes += 1
    return passes


def upscale_to(pixels: np.ndarray, width: int, height: int, pipeline: UpscalePipeline | None = None,
               progress: Callable[[float], None] | None = None, cancelled: CancelCheck | None = None,
               run_options: Any = None) -> np.ndarray:
    """``pixels`` resampled to exactly ``width`` x ``height``: enlarged by the upscaler as many times as it takes
    (at most twice) and then fitted with Lanczos; plain Lanczos without a pipeline or when shrinking."""
    check_pixel_image(pixels)
    if width <= 0 or height <= 0:
        raise InputError(f"Cannot upscale to {width}x{height}.")
    current = pixels
    if pipeline is not None:
        passes = passes_needed((pixels.shape[1], pixels.shape[0]), (width, height), pipeline.scale)
        for number in range(passes):
            def tile_done(done: int, total: int, number: int = number) -> None:
                if progress is not None:
                    progress((number + done / total) / passes)

            current = pipeline.upscale(current, tile_done, cancelled, run_options)
    return resize(current, width, height)
