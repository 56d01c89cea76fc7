"""Diffusion sampling, generic over the network: generate, image-to-image and inpaint through one loop.

The pipeline knows nothing about ONNX: it calls a *denoiser* ``denoiser(sample, timesteps, cond) -> prediction``
(sample ``(B, C, h, w)`` float32, timesteps ``(B,)`` int64 training timesteps, ``cond`` a batch-aligned array or
None) and, for latent diffusion, a :class:`LatentCodec`. Our own U-Nets and Stable Diffusion folders each provide a
small adapter, so both get the same samplers, guidance, image-to-image, inpainting, previews and cancel.

- Classifier-free guidance (Ho & Salimans 2022, eq. 6 with guidance scale s = 1 + w): the conditional and
  unconditional rows run in one batched call and the prediction is ``uncond + s * (cond - uncond)``.
- Image-to-image: the input is noised to the timestep where ``strength`` of the schedule remains and sampling
  starts there; strength 0 returns the input unchanged.
- Regional prompts (``regions``): every region's condition rows join the same batched U-Net call, guidance is
  applied per region, and the guided predictions are mixed with the regions' mask weights
  (:func:`~genart_desktop.engine.pipelines.regions.region_weights`; the base prompt fills what no region covers).
  A graph with a fixed batch axis is called in chunks of its batch size instead.
- Control (``control``, a picture at pixel size in [-1, 1], and ``control_strength``): handed to every row of the
  U-Net call as the denoiser's ``control`` and ``control_strength`` keywords (a denoiser declares it takes them with
  ``takes_control = True``); guidance compares prompts under the same control.
- Inpainting (mask 1 = repaint): after every step the known region is re-noised to the new noise level and blended
  in, so the repainted region grows into its surroundings without a seam; the final image keeps every unmasked
  pixel of the input exactly.
- Seeds: image i of a batch uses ``numpy.random.default_rng(seed + i)``, so it equals a batch of one with that seed.
- Cancel: ``cancel`` is checked between steps; ``run_options`` (a job's onnxruntime RunOptions) is handed to every
  denoiser and codec call whose signature takes a ``run_options`` keyword, so setting ``run_options.terminate``
  stops a long U-Net or VAE run half way. Either way the run ends with :class:`JobCancelled`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from genart_desktop.core.errors import InputError, JobCancelled, ModelError
from genart_desktop.engine.alpha import tensor_pixels, with_alpha
from genart_desktop.engine.pipelines.control import MAX_CONTROL_STRENGTH
from genart_desktop.engine.pipelines.limits import MAX_GUIDANCE, MAX_SEED
from genart_desktop.engine.pipelines.regions import (
    MAX_REGIONS,
    RegionCondition,
    region_weights,
)
from genart_desktop.engine.samplers import (
    DEFAULT_SAMPLER,
    Sampler,
    draw_noise,
    make_sampler,
)
from genart_desktop.engine.schedules import ScheduleConfig, add_noise, timesteps

Denoiser = Callable[[np.ndarray, np.ndarray, "np.ndarray | None"], np.ndarray]


class LatentCodec(Protocol):
    """Maps images in [-1, 1] to the (already scaled) latents the U-Net was trained on, and back."""

    channels: int
    factor: int  # pixels per latent cell along each axis

    def encode(self, images: np.ndarray) -> np.ndarray: ...

    def decode(self, latents: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class DiffusionRequest:
    """Everything one generation needs; images are float32 (1, 3, H, W) or (3, H, W) in [-1, 1]."""

    width: int
    height: int
    steps: int = 25
    sampler: str = DEFAULT_SAMPLER
    eta: float = 0.0  # DDIM only
    guidance: float = 1.0
    seed: int = 0
    batch: int = 1
    cond: np.ndarray | None = field(default=None, repr=False)  # one row (1, ...) for the prompt or class
    uncond: np.ndarray | None = field(default=None, repr=False)  # one row: the empty prompt / null class
    init_image: np.ndarray | None = field(default=None, repr=False)
    strength: float = 1.0
    mask: np.ndarray | None = field(default=None, repr=False)  # (H, W) in [0, 1]; 1 = repaint
    regions: tuple[RegionCondition, ...] = field(default=(), repr=False)  # each: its prompt's row and (H, W) mask
    control: np.ndarray | None = field(default=None, repr=False)  # (1 or batch, 3, H, W) in [-1, 1]
    control_strength: float = 1.0

    @property
    def mode(self) -> str:
        if self.mask is not None:
            return "inpaint"
        return "img2img" if self.init_image is not None else "txt2img"


@dataclass(frozen=True)
class StepEvent:
    """Progress after a step; ``preview`` is the current clean-image estimate (B, 3, H, W) when one was made."""

    step: int
    total: int
    timestep: int
    preview: np.ndarray | None = None


@dataclass(frozen=True)
class DiffusionResult:
    images: np.ndarray  # (B, 3, H, W) float32 in [-1, 1]; (B, 4, H, W) premultiplied RGBA from a VAE with alpha
    seeds: list[int]

    def pixels(self) -> list[np.ndarray]:
        """Each image as (H, W, 3) uint8, or straight (H, W, 4) RGBA when the model makes alpha (4 channels)."""
        return [tensor_pixels(image) for image in self.images]


def check_cancel(cancel: Any, run_options: Any = None) -> None:
    """Raise :class:`JobCancelled` when ``cancel`` (a callable returning bool, or an Event-like) says so, or when
    ``run_options`` (onnxruntime RunOptions) has been told to terminate."""
    if run_options is not None and getattr(run_options, "terminate", False):
        raise JobCancelled("Generation was cancelled.")
    if cancel is None:
        return
    stop = cancel.is_set() if hasattr(cancel, "is_set") else bool(cancel())
    if stop:
        raise JobCancelled("Generation was cancelled.")


def takes_run_options(function: Any) -> bool:
    """Whether ``function`` accepts a ``run_options`` keyword (by name or through ``**kwargs``)."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return False
    return any((p.name == "run_options" and p.kind is not p.POSITIONAL_ONLY) or p.kind is p.VAR_KEYWORD
               for p in parameters)


def _invoke(function: Any, args: tuple[Any, ...], run_options: Any, keywords: dict[str, Any] | None = None) -> Any:
    """``function(*args, **keywords)``, with ``run_options=`` when there are some and it takes them; a failure while
    the run options say terminate is the cancel, not an error."""
    keywords = keywords or {}
    try:
        if run_options is not None and takes_run_options(function):
            return function(*args, run_options=run_options, **keywords)
        return function(*args, **keywords)
    except JobCancelled:
        raise
    except Exception as exc:
        if run_options is not None and getattr(run_options, "terminate", False):
            raise JobCancelled("Generation was cancelled.") from exc
        raise


class DiffusionPipeline:
    """Sampling loop around a denoiser. ``channels`` is the U-Net's sample channels (latent channels if a codec)."""

    def __init__(self, denoiser: Denoiser, schedule: ScheduleConfig, *, channels: int,
                 codec: LatentCodec | None = None) -> None:
        if channels <= 0:
            raise ValueError(f"channels must be positive, got {channels}.")
        if codec is None and channels != 3:
            raise ValueError(f"A pixel-space model must have 3 channels, got {channels}; pass the latent codec.")
        if codec is not None and codec.channels != channels:
            raise ValueError(f"The U-Net takes {channels} channels but the VAE makes {codec.channels}.")
        self.denoiser = denoiser
        self.schedule = schedule
        self.channels = channels
        self.codec = codec
        self.rows_per_call = _fixed_batch(denoiser)  # None: any number of rows in one call

    @property
    def factor(self) -> int:
        return self.codec.factor if self.codec is not None else 1

    # -- public ----------------------------------------------------------------------------------------------

    def run(self, request: DiffusionRequest, *, on_step: Callable[[StepEvent], None] | None = None,
            cancel: Any = None, preview_every: int = 0, run_options: Any = None) -> DiffusionResult:
        """Sample ``request.batch`` images. Raises InputError for bad requests and JobCancelled when cancelled.

        ``run_options`` (an ``onnxruntime.RunOptions``, e.g. a job context's) goes to each network call so that
        ``run_options.terminate = True`` stops the step in progress.
        """
        sampler = self._check(request)
        all_steps = sampler.set_timesteps(request.steps)
        seeds = [request.seed + i for i in range(request.batch)]
        rngs = [np.random.default_rng(s) for s in seeds]
        shape = (request.batch, self.channels, request.height // self.factor, request.width // self.factor)
        self._check_fixed_sizes(shape[2:], request)

        init_pixels = self._init_pixels(request)
        pixel_mask = self._pixel_mask(request)
        if init_pixels is None:
            run_steps = all_steps
        else:
            count = min(int(round(request.steps * float(request.strength))), request.steps)
            run_steps = all_steps[len(all_steps) - count:]
            if count == 0:
                return DiffusionResult(init_pixels.copy(), seeds)

        check_cancel(cancel, run_options)
        noise = draw_noise(rngs, shape)
        if init_pixels is None:
            known = None
            x = noise
        else:
            known = self._encode(init_pixels, run_options)
            x = add_noise(self.schedule, known, noise, int(run_steps[0]))
        latent_mask = None if pixel_mask is None else self._latent_mask(pixel_mask)
        weights = region_weights([r.mask for r in request.regions], shape[2:]) if request.regions else None
        rows = condition_rows(request, request.batch)

        for i, t in enumerate(run_steps):
            check_cancel(cancel, run_options)
            prediction = self._predict(x, int(t), request, rows, run_options, weights)
            out = sampler.step(prediction, int(t), x, rngs)
            x = out.prev_sample
            pred_x0 = out.pred_x0
            if latent_mask is not None and known is not None:
                level = int(run_steps[i + 1]) if i + 1 < len(run_steps) else None
                renoised = known if level is None else add_noise(self.schedule, known, noise, level)
                x = latent_mask * x + (1.0 - latent_mask) * renoised
                pred_x0 = latent_mask * pred_x0 + (1.0 - latent_mask) * known
            if not np.isfinite(x).all():
                raise ModelError(f"Sampling diverged at step {i + 1} (the sample holds NaN or infinity); "
                                 "try fewer guidance, another sampler or a float32 model.")
            if on_step is not None:
                preview = None
                if preview_every > 0 and ((i + 1) % preview_every == 0) and i + 1 < len(run_steps):
                    preview = self._decode(pred_x0, run_options)
                on_step(StepEvent(i + 1, len(run_steps), int(t), preview))

        check_cancel(cancel, run_options)
        images = self._decode(x, run_options)
        if pixel_mask is not None and init_pixels is not None:
            images = pixel_mask * images + (1.0 - pixel_mask) * with_alpha(init_pixels, images.shape[1])
        return DiffusionResult(np.ascontiguousarray(images, dtype=np.float32), seeds)

    # -- steps -----------------------------------------------------------------------------------------------

    def _predict(self, x: np.ndarray, t: int, request: DiffusionRequest, rows: ConditionRows,
                 run_options: Any = None, weights: np.ndarray | None = None) -> np.ndarray:
        """The (guided) prediction at ``t``; with regions, each region's guided prediction mixed by ``weights``."""
        batch, count = x.shape[0], rows.count
        samples = x if count == 1 else np.concatenate([x] * count)
        out = self._call(samples, np.full((batch * count,), t, dtype=np.int64), rows.cond, run_options, rows.control)
        if rows.cond is None:
            return out
        predictions = [out[i * batch:(i + 1) * batch] for i in range(count)]
        if rows.guided:
            uncond_pred = predictions.pop(0)
            predictions = [uncond_pred + request.guidance * (p - uncond_pred) for p in predictions]  # Ho & Salimans
        if weights is None:
            return predictions[0]
        return np.sum([w * p for w, p in zip(weights, predictions)], axis=0, dtype=np.float32)

    def _call(self, x: np.ndarray, steps: np.ndarray, cond: np.ndarray | None, run_options: Any = None,
              rows_extra: dict[str, np.ndarray] | None = None) -> np.ndarray:
        """The denoiser on all rows: one call, or chunks of a fixed-batch graph's size (the last one padded).
        ``rows_extra`` holds more row-aligned keyword inputs (the control)."""
        size = self.rows_per_call
        rows = x.shape[0]
        extra = rows_extra or {}
        if size is None or rows == size:
            return self._call_once(x, steps, cond, run_options, extra)
        parts = []
        for start in range(0, rows, size):
            pick = np.minimum(np.arange(start, start + size), rows - 1)  # pad with the last row, dropped after
            out = self._call_once(x[pick], steps[pick], None if cond is None else cond[pick], run_options,
                                  {name: value[pick] for name, value in extra.items()})
            parts.append(out[:min(size, rows - start)])
        return np.concatenate(parts)

    def _call_once(self, x: np.ndarray, steps: np.ndarray, cond: np.ndarray | None,
                   run_options: Any = None, extra: dict[str, np.ndarray] | None = None) -> np.ndarray:
        prediction = np.asarray(_invoke(self.denoiser, (x, steps, cond), run_options, extra))
        if prediction.shape != x.shape:
            raise ModelError(f"The U-Net returned shape {prediction.shape} for a sample of shape {x.shape}.")
        prediction = prediction.astype(np.float32, copy=False)
        if not np.isfinite(prediction).all():
            raise ModelError("The U-Net produced NaN or infinite values; the model may be broken or need float32.")
        return prediction

    def _encode(self, pixels: np.ndarray, run_options: Any = None) -> np.ndarray:
        if self.codec is None:
            return pixels.astype(np.float32, copy=True)
        return np.asarray(_invoke(self.codec.encode, (pixels,), run_options), dtype=np.float32)

    def _decode(self, x: np.ndarray, run_options: Any = None) -> np.ndarray:
        images = x if self.codec is None else np.asarray(_invoke(self.codec.decode, (x,), run_options),
                                                         dtype=np.float32)
        return np.clip(images, -1.0, 1.0)

    # -- inputs ----------------------------------------------------------------------------------------------

    def _check(self, request: DiffusionRequest) -> Sampler:
        """Refuse a bad request (InputError); otherwise the sampler it asks for, built once per run."""
        f = self.factor
        if not (isinstance(request.width, int) and isinstance(request.height, int)) or request.width <= 0 \
                or request.height <= 0:
            raise InputError(f"The image size must be positive whole pixels, got {request.width}x{request.height}.")
        if request.width % f or request.height % f:
            raise InputError(f"This model needs a width and height divisible by {f}, got "
                             f"{request.width}x{request.height}.")
        if not isinstance(request.batch, int) or not 1 <= request.batch <= 64:
            raise InputError(f"The batch size must be between 1 and 64, got {request.batch}.")
        if not isinstance(request.seed, int) or not 0 <= request.seed <= MAX_SEED - request.batch:
            raise InputError(f"The seed must be a whole number between 0 and {MAX_SEED - request.batch}.")
        if not np.isfinite(request.guidance) or not 0.0 <= request.guidance <= MAX_GUIDANCE:
            raise InputError(f"Guidance must be between 0 and {MAX_GUIDANCE:g}, got {request.guidance}.")
        if not 0.0 <= float(request.strength) <= 1.0:
            raise InputError(f"Strength must be between 0 and 1, got {request.strength}.")
        try:
            sampler = sampler_for(request.sampler, self.schedule, request.eta)
            timesteps(self.schedule, request.steps)
        except ValueError as exc:
            raise InputError(str(exc)) from exc
        if request.guidance != 1.0 and request.cond is not None and request.uncond is None:
            raise InputError("This model has no unconditional mode for guidance; set guidance to 1.")
        if request.mask is not None and request.init_image is None:
            raise InputError("Inpainting needs the image to paint into as well as the mask.")
        self._check_regions(request)
        self._check_control(request)
        return sampler

    def _check_control(self, request: DiffusionRequest) -> None:
        if request.control is None:
            return
        if not getattr(self.denoiser, "takes_control", False):
            raise InputError("This model takes no control picture.")
        shape = np.shape(request.control)
        if len(shape) != 4 or shape[0] not in (1, request.batch) or shape[1:] != (3, request.height, request.width):
            raise InputError(f"The control picture must be a (1, 3, {request.height}, {request.width}) tensor like "
                             f"the picture, got shape {tuple(shape)}.")
        if not np.isfinite(np.asarray(request.control, np.float32)).all():
            raise InputError("The control picture holds NaN or infinite values.")
        if not np.isfinite(request.control_strength) or not 0.0 <= request.control_strength <= MAX_CONTROL_STRENGTH:
            raise InputError(f"The control strength must be between 0 and {MAX_CONTROL_STRENGTH:g}, got "
                             f"{request.control_strength}.")

    def _check_regions(self, request: DiffusionRequest) -> None:
        if not request.regions:
            return
        if request.cond is None:
            raise InputError("This model takes no prompt, so regional prompts cannot change its picture.")
        if len(request.regions) > MAX_REGIONS:
            raise InputError(f"At most {MAX_REGIONS} regions can share a picture, got {len(request.regions)}.")
        grid = (request.height // self.factor, request.width // self.factor)
        for number, region in enumerate(request.regions, 1):
            if np.shape(region.mask) not in ((request.height, request.width), grid):
                raise InputError(f"Region {number}'s mask has shape {np.shape(region.mask)}; it must be "
                                 f"{request.width}x{request.height} like the picture.")
            if not np.isfinite(np.asarray(region.mask, np.float32)).all():
                raise InputError(f"Region {number}'s mask holds NaN or infinite values.")
            if np.shape(region.cond)[1:] != np.shape(request.cond)[1:]:
                raise InputError(f"Region {number}'s condition does not match the prompt's.")

    def _check_fixed_sizes(self, cells: tuple[int, int], request: DiffusionRequest) -> None:
        """Refuse before the first step a size that a graph with fixed spatial axes (a U-Net, or a VAE decoder
        exported at one size) would only reject at its end, naming the size that works."""
        for owner, attribute in ((self.denoiser, "session"), (self.codec, "decoder")):
            specs = getattr(getattr(owner, attribute, None), "inputs", ())
            spatial = next((tuple(spec.shape[2:4]) for spec in specs if len(spec.shape) == 4), ())
            if len(spatial) == 2 and all(isinstance(d, int) for d in spatial) and spatial != tuple(cells):
                width, height = spatial[1] * self.factor, spatial[0] * self.factor
                raise InputError(f"This model makes {width}x{height} images only, not {request.width}x"
                                 f"{request.height}; generate at {width}x{height} and scale the result.")

    def _init_pixels(self, request: DiffusionRequest) -> np.ndarray | None:
        if request.init_image is None:
            return None
        image = np.asarray(request.init_image)
        if image.ndim == 3:
            image = image[None]
        if image.ndim != 4 or image.shape[1] != 3 or image.shape[0] not in (1, request.batch):
            raise InputError(f"The input image must be a (1, 3, H, W) tensor, got shape {tuple(image.shape)}.")
        if image.shape[2:] != (request.height, request.width):
            raise InputError(f"The input image is {image.shape[3]}x{image.shape[2]} but the request is "
                             f"{request.width}x{request.height}; resize it first.")
        if not np.issubdtype(image.dtype, np.floating) or not np.isfinite(image).all():
            raise InputError("The input image must hold finite float values in [-1, 1].")
        return np.broadcast_to(image.astype(np.float32), (request.batch, *image.shape[1:])).copy()

    def _pixel_mask(self, request: DiffusionRequest) -> np.ndarray | None:
        if request.mask is None:
            return None
        mask = np.asarray(request.mask, dtype=np.float32)
        if mask.shape != (request.height, request.width):
            raise InputError(f"The mask must be {request.width}x{request.height} like the image, got shape "
                             f"{tuple(mask.shape)}.")
        if not np.isfinite(mask).all():
            raise InputError("The mask holds NaN or infinite values.")
        return np.clip(mask, 0.0, 1.0)[None, None]

    def _latent_mask(self, pixel_mask: np.ndarray) -> np.ndarray:
        """The mask at sample resolution: a latent cell is repainted if any of its pixels is (so edges blend)."""
        f = self.factor
        if f == 1:
            return pixel_mask
        _, _, h, w = pixel_mask.shape
        blocks = pixel_mask.reshape(1, 1, h // f, f, w // f, f)
        return blocks.max(axis=(3, 5))


@dataclass(frozen=True)
class ConditionRows:
    """What every step's U-Net call shares, built once per run: ``count`` groups of the batch's rows (the
    unconditional group first when guided, then the prompt, then each region), their conditions and control."""

    count: int
    guided: bool
    cond: np.ndarray | None
    control: dict[str, np.ndarray] | None


def condition_rows(request: DiffusionRequest, batch: int) -> ConditionRows:
    """The request's conditions as the batched rows of one U-Net call (cond and uncond share the call)."""
    if request.cond is None:
        return ConditionRows(1, False, None, _control(request, batch, 1))
    guided = request.guidance != 1.0 and request.uncond is not None
    conds = [request.cond] + [region.cond for region in request.regions]
    rows = [request.uncond, *conds] if guided else conds
    cond = np.concatenate([_repeat(row, batch) for row in rows])
    return ConditionRows(len(rows), guided, cond, _control(request, batch, len(rows)))


def _control(request: DiffusionRequest, batch: int, count: int) -> dict[str, np.ndarray] | None:
    """The control keywords for ``count`` groups of ``batch`` rows (None without a control)."""
    if request.control is None:
        return None
    picture = np.broadcast_to(np.asarray(request.control, np.float32), (batch, *np.shape(request.control)[1:]))
    return {"control": np.ascontiguousarray(np.concatenate([picture] * count)),
            "control_strength": np.full((batch * count,), request.control_strength, np.float32)}


def _repeat(row: np.ndarray, batch: int) -> np.ndarray:
    row = np.asarray(row)
    if row.shape[0] == batch:
        return row
    if row.shape[0] != 1:
        raise InputError(f"A condition must have one row (or one per image), got {row.shape[0]} for a batch of {batch}.")
    return np.repeat(row, batch, axis=0)


def _fixed_batch(denoiser: Any) -> int | None:
    """The batch size a denoiser's graph fixes on its sample input, or None when the batch axis is free."""
    specs = getattr(getattr(denoiser, "session", None), "inputs", ())
    batch = next((spec.shape[0] for spec in specs if len(spec.shape) == 4), None)
    return batch if isinstance(batch, int) and batch > 0 else None


def sampler_for(name: str, schedule: ScheduleConfig, eta: float = 0.0) -> Sampler:
    """The configured sampler (exposed for the UI's sampler list and tests)."""
    return make_sampler(name, schedule, **({"eta": eta} if eta else {}))
