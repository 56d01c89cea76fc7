"""Style transfer with a feed-forward style network: tiling, strength, colour preservation, stroke scale, preview.

The same code serves the style palette (preview + apply as a job) and ``genart style`` (batch). A network is anything
with ``run``: an onnxruntime ``InferenceSession`` (``run(None, feeds) -> list``) or an engine session / test double
with ``run(feeds) -> dict | list``. It takes one image ``(1, 3, h, w)`` in its card's value range ([-1, 1] unless
declared otherwise, e.g. [0, 255] for the ONNX zoo's networks) and returns one of the same shape; a network with a
fixed input size is always fed exactly that size (see docs/model-card.md).

Order of operations: scale the canvas to the *work* resolution (bigger strokes = smaller work image), stylize it in
overlapping tiles, resample back, optionally keep the original chroma (luminance-only transfer, YCbCr), then mix with
the original at ``strength`` in OKLab, a perceptually uniform space where half strength looks half way and
complementary colours do not pass through grey. Strength 0 returns the input exactly; inputs are never modified.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from genart_desktop.core.errors import InputError, JobCancelled, ModelError
from genart_desktop.core.images import check_pixel_image, flatten_alpha, resize
from genart_desktop.core.settings import load_settings
from genart_desktop.engine.tiling import Tile, TilePlan, memory_tile, run_tiled
from genart_desktop.engine.value_range import UNIT, ValueRange, model_to_levels, pixels_to_model
from genart_desktop.engine.pipelines.limits import MAX_SCALE, MIN_SCALE

ProgressCallback = Callable[[int, int], None]
CancelCheck = Callable[[], bool]

# The network never runs on more pixels than this (a 4096x4096 canvas at scale 1); smaller scales are clamped.
MAX_WORK_PIXELS = 4096 * 4096
BAND_ROWS = 256  # colour post-processing runs in bands of rows to bound float32 temporaries
# Tiling is decided from memory: one network run may take this much (setting below), at the card's measured
# activation bytes per pixel (``config.activation_bytes_per_pixel``; a cautious guess for cards without it).
MEMORY_SETTING = "style_run_memory_mb"
DEFAULT_RUN_MEMORY_MB = 640
DEFAULT_BYTES_PER_PIXEL = 512


@dataclass(frozen=True)
class StyleSettings:
    """What the user controls: ``strength`` 0..1, ``preserve_colors``, and ``scale`` (stroke size multiplier)."""

    strength: float = 1.0
    preserve_colors: bool = False
    scale: float = 1.0

    def __post_init__(self) -> None:
        if not isinstance(self.strength, (int, float)) or not 0.0 <= float(self.strength) <= 1.0:
            raise InputError(f"Style strength must be between 0 and 1, got {self.strength!r}.")
        if not isinstance(self.scale, (int, float)) or not MIN_SCALE <= float(self.scale) <= MAX_SCALE:
            raise InputError(f"Style scale must be between {MIN_SCALE} and {MAX_SCALE}, got {self.scale!r}.")


@dataclass(frozen=True)
class StylePreview:
    """A quick look: ``pixels`` at preview resolution; ``exact`` when the full render would look the same."""

    pixels: np.ndarray
    work_size: tuple[int, int]
    exact: bool


class _Network:
    """Adapts a session-like object to ``(1, 3, h, w) float32 -> (1, 3, h, w) float32``.

    Accepts an engine ``ModelSession`` (``inputs``/``outputs`` specs, ``run(feeds) -> dict``), a raw onnxruntime
    ``InferenceSession`` (``get_inputs()``, ``run(names, feeds) -> list``) or any object with ``run(feeds)``.
    """

    def __init__(self, runner: Any, input_name: str | None, output_name: str | None) -> None:
        if not callable(getattr(runner, "run", None)):
            raise ModelError("The style model has no run method; it is not a loaded network.")
        self._runner = runner
        self._ort = callable(getattr(runner, "get_inputs", None)) and callable(getattr(runner, "get_outputs", None))
        self.input_dtype = np.dtype(np.float32)
        self.fixed_size: tuple[int, int] | None = None
        specs = None
        if self._ort:
            specs = (runner.get_inputs(), runner.get_outputs())
        elif isinstance(getattr(runner, "inputs", None), (tuple, list)) and getattr(runner, "outputs", None):
            specs = (runner.inputs, runner.outputs)
        if specs is not None:
            inputs, outputs = specs
            if len(inputs) != 1:
                raise ModelError(f"A style network takes one input image; this one takes {len(inputs)} inputs.")
            spec = inputs[0]
            if spec.shape is not None and len(spec.shape) != 4:
                raise ModelError(f"A style network input must be (batch, 3, height, width), not {list(spec.shape)}.")
            input_name = input_name or spec.name
            output_name = output_name or outputs[0].name
            dtype = getattr(spec, "dtype", None) if not self._ort else None
            type_name = getattr(spec, "type", None) or getattr(spec, "type_name", None)
            if dtype is None:
                dtype = {"tensor(float)": np.float32, "tensor(float16)": np.float16}.get(type_name)
            if dtype is None or np.dtype(dtype) not in (np.dtype(np.float32), np.dtype(np.float16)):
                raise ModelError(f"A style network input must be float32 or float16, not {type_name}.")
            self.input_dtype = np.dtype(dtype)
            self.fixed_size = _fixed_hw(spec.shape)
        self.input_name = input_name or "content"
        self.output_name = output_name or "stylized"

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        feeds = {self.input_name: batch.astype(self.input_dtype, copy=False)}
        try:
            result = self._runner.run([self.output_name], feeds) if self._ort else self._runner.run(feeds)
        except (JobCancelled, InputError, ModelError):
            raise
        except Exception as exc:  # onnxruntime raises its own exception types for bad graphs and shapes
            raise ModelError(f"The style network failed on a {batch.shape[3]}x{batch.shape[2]} tile: {exc}") from exc
        if isinstance(result, dict):
            if self.output_name in result:
                output = result[self.output_name]
            elif len(result) == 1:
                output = next(iter(result.values()))
            else:
                raise ModelError(f"The style network has no output named {self.output_name!r}.")
        else:
            output = result[0]
        output = np.asarray(output, dtype=np.float32)
        if output.shape != batch.shape:
            raise ModelError(
                f"The style network turned a {tuple(batch.shape)} input into {tuple(output.shape)}; "
                "it must return an image of the same size."
            )
        return output


class StylePipeline:
    """Applies one style network to RGB/RGBA uint8 images of any size.

    Memory decides the tiling: an image whose run fits ``run_memory_mb`` at ``bytes_per_pixel`` goes through the
    network whole (no seams, no overlap computed twice); a larger one in balanced tiles that each fit. A ``tile``
    given explicitly (a card's ``config.tile``, ``--tile``) forces tiles of at most that side. ``overlap`` is the
    tiles' shared margin; ``multiple`` pads tiles for networks that downsample (ours: 4). ``harmonize`` fixes the tone of every tile to one global guide (see
    :func:`harmonizer`), because instance normalisation makes each tile's colours depend on the tile's own content.
    """

    def __init__(
        self,
        network: Any,
        *,
        input_name: str | None = None,
        output_name: str | None = None,
        tile: int | None = None,
        overlap: int = 96,
        multiple: int = 4,
        max_work_pixels: int = MAX_WORK_PIXELS,
        harmonize: bool = True,
        input_range: ValueRange = UNIT,
        output_range: ValueRange = UNIT,
        fixed_size: tuple[int, int] | None = None,
        bytes_per_pixel: float = DEFAULT_BYTES_PER_PIXEL,
        run_memory_mb: int = DEFAULT_RUN_MEMORY_MB,
    ) -> None:
        self._network = _Network(network, input_name, output_name)
        self.input_range, self.output_range = input_range, output_range
        self.fixed_size = fixed_size or self._network.fixed_size
        if self.fixed_size is not None:
            tile, overlap, multiple = fixed_tiling(self.fixed_size, overlap)
        _check_tiling(tile, overlap, multiple, bytes_per_pixel, run_memory_mb)
        self.tile = tile
        self.bytes_per_pixel = float(bytes_per_pixel)
        self.run_memory_mb = int(run_memory_mb)
        self.overlap = overlap
        self.multiple = multiple
        self.max_work_pixels = max_work_pixels
        self.harmonize = harmonize

    @classmethod
    def from_registry(cls, registry: Any, model_id: str, **overrides: Any) -> "StylePipeline":
        """The pipeline for a registered style model (``engine.registry.ModelRegistry``), with the tiling hints of
        its card's ``config`` (``size_multiple``, ``tile``, ``overlap``); keywords override them."""
        entry = registry.get(model_id)
        if entry.family != "style":
            raise ModelError(f"Model '{model_id}' is a {entry.family} model, not a style network.")
        config = entry.card.config if entry.card is not None else {}
        options: dict[str, Any] = {
            "multiple": _config_int(config, "size_multiple", 4, 1, 64),
            "overlap": _config_int(config, "overlap", 96, 0, 1024),
            **memory_options(config, getattr(registry, "settings", None)),
        }
        options.update(card_io_options(entry.card))
        options.update(overrides)
        return cls(registry.session(model_id, "stylizer"), **options)

    # -- sizes ------------------------------------------------------------------------------------------------------
    def work_size(self, width: int, height: int, scale: float) -> tuple[int, int]:
        """The resolution the network runs at: ``scale`` 2 halves it (strokes twice as large on the canvas)."""
        factor = 1.0 / scale
        if width * height * factor * factor > self.max_work_pixels:
            factor = math.sqrt(self.max_work_pixels / (width * height))
        return max(self.multiple, round(width * factor)), max(self.multiple, round(height * factor))

    def tile_count(self, width: int, height: int, scale: float = 1.0) -> int:
        """How many network runs a full render takes (for progress bars before starting)."""
        work_w, work_h = self.work_size(width, height, scale)
        return len(self.plan(work_h, work_w))

    # -- tiling -----------------------------------------------------------------------------------------------------
    def tile_side(self, height: int, width: int) -> int:
        """The tile side for a ``height`` x ``width`` work image: the forced ``tile``, else the memory budget's
        balanced tiles, else (the whole image fits) a side that covers the image in one tile."""
        if self.tile is not None:
            return self.tile
        side = memory_tile(height, width, self.bytes_per_pixel, self.run_memory_mb << 20, self.overlap,
                           self.multiple)
        return side if side is not None else max(height, width) + self.overlap + self.multiple

    def plan(self, height: int, width: int) -> TilePlan:
        return TilePlan.create(height, width, self.tile_side(height, width), self.overlap, self.multiple)

    # -- the network on its own -------------------------------------------------------------------------------------
    def stylize(
        self,
        rgb: np.ndarray,
        *,
        progress: ProgressCallback | None = None,
        cancelled: CancelCheck | None = None,
    ) -> np.ndarray:
        """The raw network output for an ``(H, W, 3)`` uint8 image, tiled and blended, as uint8 of the same size."""
        check_pixel_image(rgb)
        rgb = rgb[..., :3]

        def process(patch: np.ndarray) -> np.ndarray:
            return self._run_patch(patch)

        height, width = rgb.shape[:2]
        adjust = None
        side = self.tile_side(height, width)
        if self.harmonize and len(self.plan(height, width)) > 1:
            if cancelled is not None and cancelled():
                raise JobCancelled("Cancelled; nothing was changed.")
            adjust = harmonizer(rgb, process, side, self.multiple)
        return run_tiled(
            rgb, process, tile=side, overlap=self.overlap, multiple=self.multiple,
            progress=progress, cancelled=cancelled, adjust=adjust, finish=self._levels,
        )

    def _levels(self, blended: np.ndarray) -> np.ndarray:
        """Finished rows of network output (float32, modified in place) as uint8 levels."""
        model_to_levels(blended, self.output_range, out=blended)
        np.rint(blended, out=blended)
        np.clip(blended, 0, 255, out=blended)
        return blended.astype(np.uint8)

    def _run_patch(self, patch: np.ndarray) -> np.ndarray:
        """One ``(h, w, 3)`` pixel patch through the network, in its value range and (when fixed) at exactly its
        input size: a smaller patch is padded with mirrored edges and the result cropped back."""
        height, width = patch.shape[:2]
        if self.fixed_size is not None:
            patch = fit_to_size(patch, self.fixed_size)
        batch = pixels_to_model(patch, self.input_range).transpose(2, 0, 1)[None]
        return self._network(np.ascontiguousarray(batch))[0].transpose(1, 2, 0)[:height, :width]

    # -- the full operation -----------------------------------------------------------------------------------------
    def apply(
        self,
        pixels: np.ndarray,
        settings: StyleSettings = StyleSettings(),
        *,
        progress: ProgressCallback | None = None,
        cancelled: CancelCheck | None = None,
    ) -> np.ndarray:
        """Stylize an RGB or RGBA uint8 image at full resolution; returns a new array of the same shape.

        Alpha is kept; transparent areas are stylized as if over white. ``progress(done, total)`` counts tiles;
        ``cancelled()`` is polled between tiles and colour bands and raises :class:`JobCancelled`.
        """
        check_pixel_image(pixels)
        if settings.strength == 0:
            if progress is not None:
                progress(1, 1)
            return pixels.copy()
        height, width = pixels.shape[:2]
        rgb = flatten_alpha(pixels)
        work_w, work_h = self.work_size(width, height, settings.scale)
        work = rgb if (work_w, work_h) == (width, height) else resize(rgb, work_w, work_h)
        stylized = self.stylize(work, progress=progress, cancelled=cancelled)
        del work
        if stylized.shape[:2] != (height, width):
            stylized = resize(stylized, width, height)
        return finish(pixels, rgb, stylized, settings, cancelled=cancelled)

    def preview(
        self,
        pixels: np.ndarray,
        settings: StyleSettings = StyleSettings(),
        *,
        max_side: int = 512,
        cancelled: CancelCheck | None = None,
    ) -> StylePreview:
        """A fast look on a copy downscaled to at most ``max_side``; strokes keep their size relative to the canvas
        whenever the full render's work resolution fits in ``max_side`` (then ``exact`` is true)."""
        check_pixel_image(pixels)
        height, width = pixels.shape[:2]
        full_w, full_h = self.work_size(width, height, settings.scale)
        factor = min(1.0, max_side / max(width, height))
        small_w, small_h = max(1, round(width * factor)), max(1, round(height * factor))
        small = pixels if factor == 1.0 else resize(pixels, small_w, small_h)
        if settings.strength == 0:
            return StylePreview(small.copy() if small is pixels else small, (small_w, small_h), True)
        exact = max(full_w, full_h) <= max_side
        work_w, work_h = (full_w, full_h) if exact else (small_w, small_h)
        rgb = flatten_alpha(small)
        work = rgb if (work_w, work_h) == (small_w, small_h) else resize(rgb, work_w, work_h)
        stylized = self.stylize(work, cancelled=cancelled)
        if stylized.shape[:2] != (small_h, small_w):
            stylized = resize(stylized, small_w, small_h)
        return StylePreview(finish(small, rgb, stylized, settings, cancelled=cancelled), (work_w, work_h), exact)


def lowpass(image: np.ndarray, cell: float) -> np.ndarray:
    """Keep only structures larger than ``cell`` pixels: box-average down, bilinear back up (per channel)."""
    from PIL import Image

    height, width = image.shape[:2]
    small = (max(1, round(width / cell)), max(1, round(height / cell)))
    out = np.empty_like(image, dtype=np.float32)
    for c in range(image.shape[2]):
        channel = Image.fromarray(np.ascontiguousarray(image[..., c], dtype=np.float32), "F")
        out[..., c] = np.asarray(channel.resize(small, Image.Resampling.BOX).resize((width, height),
                                                                                 Image.Resampling.BILINEAR))
    return out


def harmonizer(rgb: np.ndarray, process: Callable[[np.ndarray], np.ndarray], tile: int,
               multiple: int) -> Callable[[np.ndarray, Tile], np.ndarray]:
    """Tile correction against a global guide, so tiles agree in tone and colour (no patchwork seams).

    The whole image, shrunk to one tile, goes through the network once: its normalisation sees the whole picture,
    so its colours are the ones the full image should have. Each tile then keeps its own detail but swaps its
    low frequencies (structures above ~1/8 tile) for the guide's: ``tile - lowpass(tile) + lowpass(guide)``.
    """
    from PIL import Image

    height, width = rgb.shape[:2]
    ratio = max(height, width) / tile
    guide_w = max(multiple, round(width / ratio / multiple) * multiple)
    guide_h = max(multiple, round(height / ratio / multiple) * multiple)
    guide = np.asarray(process(resize(rgb, guide_w, guide_h)), dtype=np.float32)
    cell = max(tile / 8.0, 4.0 * ratio)
    guide_low = lowpass(guide, cell / ratio)
    channels = [Image.fromarray(np.ascontiguousarray(guide_low[..., c]), "F") for c in range(guide.shape[2])]
    scale_x, scale_y = guide_w / width, guide_h / height

    def adjust(result: np.ndarray, item: Tile) -> np.ndarray:
        size = (item.cols.length, item.rows.length)
        box = (item.cols.start * scale_x, item.rows.start * scale_y, item.cols.stop * scale_x,
               item.rows.stop * scale_y)
        target = np.stack([np.asarray(ch.resize(size, Image.Resampling.BILINEAR, box=box)) for ch in channels], -1)
        return result - lowpass(result, cell) + target

    return adjust


def default_settings(config: dict[str, Any] | None) -> StyleSettings:
    """The settings a style card suggests (``config.default_strength``, ``config.default_scale``), else neutral."""
    config = config or {}
    try:
        return StyleSettings(
            strength=float(config.get("default_strength", 1.0)),
            preserve_colors=bool(config.get("default_preserve_colors", False)),
            scale=float(config.get("default_scale", 1.0)),
        )
    except (InputError, TypeError, ValueError):
        return StyleSettings()


def _fixed_hw(shape: Any) -> tuple[int, int] | None:
    """(height, width) of an input shape whose last two axes are fixed ints, else None."""
    if shape is None or len(shape) != 4:
        return None
    height, width = shape[2], shape[3]
    if isinstance(height, int) and isinstance(width, int) and height > 0 and width > 0:
        return int(height), int(width)
    return None


def card_io_options(card: Any) -> dict[str, Any]:
    """The pipeline options a style card's ``io`` gives: the graph's tensor names, the value ranges in and out and
    a fixed input size the card declares (the session's own fixed size is read by the pipeline itself)."""
    if card is None or "stylizer" not in card.io:
        return {}
    content = card.io["stylizer"].tensor("content")
    options: dict[str, Any] = {
        "input_name": card.tensor_name("stylizer", "content"),
        "output_name": card.tensor_name("stylizer", "stylized"),
        "input_range": card.value_range("stylizer", "content"),
        "output_range": card.value_range("stylizer", "stylized"),
    }
    fixed = _fixed_hw(content.shape) if content is not None else None
    if fixed is not None:
        options["fixed_size"] = fixed
    return options


MIN_TILE = 16  # pixels: smaller tiles are mostly overlap


def fixed_tiling(size: tuple[int, int], overlap: int) -> tuple[int, int, int]:
    """(tile, overlap, multiple) for a network that takes exactly ``size`` (height, width): tiles no larger than
    its smaller side (each is then padded to ``size``), no alignment padding."""
    tile = min(size)
    if tile < MIN_TILE:
        raise InputError(f"The network takes only the fixed input size {size[1]}x{size[0]}, too small to paint with "
                         f"in tiles (a style network needs at least {MIN_TILE}x{MIN_TILE}).")
    return tile, min(overlap, max(0, tile // 4)), 1


def fit_to_size(patch: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Pad an ``(h, w, C)`` patch at the bottom/right to exactly ``size`` (mirrored where the patch is big enough,
    else edge-extended); a patch larger than ``size`` is a tiling bug."""
    height, width = patch.shape[:2]
    pad_h, pad_w = size[0] - height, size[1] - width
    if pad_h < 0 or pad_w < 0:
        raise InputError(f"A {width}x{height} tile does not fit the network's fixed {size[1]}x{size[0]} input.")
    if pad_h == 0 and pad_w == 0:
        return patch
    mode = "reflect" if height > pad_h and width > pad_w else "edge"
    return np.pad(patch, ((0, pad_h), (0, pad_w), (0, 0)), mode=mode)


def memory_options(config: dict[str, Any], settings: dict[str, Any] | None) -> dict[str, Any]:
    """Tiling options from a card's ``config`` and the settings: a forced ``tile`` only where the card asks for
    one, the card's measured ``activation_bytes_per_pixel`` and the ``style_run_memory_mb`` budget."""
    settings = settings if settings is not None else load_settings()
    options: dict[str, Any] = {
        "bytes_per_pixel": _config_int(config, "activation_bytes_per_pixel", DEFAULT_BYTES_PER_PIXEL, 4, 1 << 16),
        "run_memory_mb": _config_int(settings, MEMORY_SETTING, DEFAULT_RUN_MEMORY_MB, 16, 1 << 20),
    }
    if "tile" in config:
        options["tile"] = _config_int(config, "tile", 768, 64, 4096)
    return options


def _check_tiling(tile: int | None, overlap: int, multiple: int, bytes_per_pixel: float, memory_mb: int) -> None:
    side = tile if tile is not None else 4096
    if side < MIN_TILE or not 0 <= overlap < side // 2 or not 1 <= multiple <= side // 4:
        raise InputError(f"Bad tiling: tile {tile}, overlap {overlap}, multiple {multiple}.")
    if not bytes_per_pixel > 0 or memory_mb < 1:
        raise InputError(f"Bad memory budget: {memory_mb} MiB at {bytes_per_pixel} bytes per pixel.")


def _config_int(config: dict[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = config.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        return default
    return value


def finish(
    pixels: np.ndarray,
    rgb: np.ndarray,
    stylized: np.ndarray,
    settings: StyleSettings,
    *,
    cancelled: CancelCheck | None = None,
) -> np.ndarray:
    """Colour preservation and strength on full-size arrays, band by band; alpha copied from ``pixels``."""
    out = np.empty_like(pixels)
    if pixels.shape[2] == 4:
        out[..., 3] = pixels[..., 3]
    for top in range(0, pixels.shape[0], BAND_ROWS):
        if cancelled is not None and cancelled():
            raise JobCancelled("Cancelled; nothing was changed.")
        band = slice(top, top + BAND_ROWS)
        result = stylized[band]
        if settings.preserve_colors:
            result = keep_chroma(rgb[band], result)
        if settings.strength < 1.0:
            result = mix_oklab(rgb[band], result, settings.strength)
        out[band, :, :3] = result
    return out


# -- colour -----------------------------------------------------------------------------------------------------------
# JPEG / BT.601 full-range YCbCr: linear in gamma-encoded RGB, so keeping Cb and Cr keeps the hue and saturation
# the user painted while the network's light and dark strokes come through in Y.
_RGB_TO_YCC = np.array(
    [[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]], np.float32
)
_YCC_TO_RGB = np.linalg.inv(_RGB_TO_YCC).astype(np.float32)


def rgb_to_ycbcr(rgb: np.ndarray) -> np.ndarray:
    """uint8 or float RGB (0..255) -> float32 Y, Cb, Cr (Y 0..255, chroma centred on 0)."""
    return rgb.astype(np.float32) @ _RGB_TO_YCC.T


def ycbcr_to_rgb(ycc: np.ndarray) -> np.ndarray:
    return ycc.astype(np.float32) @ _YCC_TO_RGB.T


def keep_chroma(original: np.ndarray, stylized: np.ndarray) -> np.ndarray:
    """Luminance from ``stylized``, chroma (Cb, Cr) from ``original``; uint8 RGB in and out."""
    ycc = rgb_to_ycbcr(original)
    ycc[..., 0] = rgb_to_ycbcr(stylized)[..., 0]
    return _to_uint8(ycbcr_to_rgb(ycc))


def _srgb_to_linear(x: np.ndarray) -> np.ndarray:
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)


def _linear_to_srgb(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return np.where(x <= 0.0031308, x * 12.92, 1.055 * np.power(x, 1 / 2.4) - 0.055)


_LINEAR_TO_LMS = np.array(
    [[0.4122214708, 0.5363325363, 0.0514459929],
     [0.2119034982, 0.6806995451, 0.1073969566],
     [0.0883024619, 0.2817188376, 0.6299787005]], np.float32)
_LMS_TO_OKLAB = np.array(
    [[0.2104542553, 0.7936177850, -0.0040720468],
     [1.9779984951, -2.4285922050, 0.4505937099],
     [0.0259040371, 0.7827717662, -0.8086757660]], np.float32)
_OKLAB_TO_LMS = np.linalg.inv(_LMS_TO_OKLAB).astype(np.float32)
_LMS_TO_LINEAR = np.linalg.inv(_LINEAR_TO_LMS).astype(np.float32)


def rgb_to_oklab(rgb: np.ndarray) -> np.ndarray:
    """uint8 sRGB -> float32 OKLab (Björn Ottosson's perceptual space)."""
    linear = _srgb_to_linear(rgb.astype(np.float32) / 255.0)
    return np.cbrt(linear @ _LINEAR_TO_LMS.T) @ _LMS_TO_OKLAB.T


def oklab_to_rgb(lab: np.ndarray) -> np.ndarray:
    """float32 OKLab -> uint8 sRGB (out-of-gamut values clipped)."""
    lms = (lab @ _OKLAB_TO_LMS.T) ** 3
    return _to_uint8(_linear_to_srgb(lms @ _LMS_TO_LINEAR.T) * 255.0)


def mix_oklab(original: np.ndarray, stylized: np.ndarray, strength: float) -> np.ndarray:
    """Mix two uint8 RGB images at ``strength`` (0 = original, 1 = stylized) in OKLab."""
    if strength <= 0.0:
        return original.copy()
    if strength >= 1.0:
        return stylized.copy()
    a = rgb_to_oklab(original)
    b = rgb_to_oklab(stylized)
    a += (b - a) * np.float32(strength)
    return oklab_to_rgb(a)


def _to_uint8(values: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(values), 0, 255).astype(np.uint8)
