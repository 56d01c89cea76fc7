"""The noise schedule shared by training (torch) and sampling (numpy).

One frozen :class:`ScheduleConfig` describes the forward process; it is stored in a diffusion model's card
(``config.schedule``) and read back from a Stable Diffusion ``scheduler_config.json``. Everything here is pure
numpy in float64 so that training can do ``torch.from_numpy(alphas_cumprod(cfg))`` and get bit-for-bit the same
schedule the app samples with.

References
- Ho, Jain & Abbeel 2020, "Denoising Diffusion Probabilistic Models" (DDPM): eq. 4, q(x_t | x_0).
- Nichol & Dhariwal 2021, "Improved Denoising Diffusion Probabilistic Models": eq. 17, the cosine schedule.
- Salimans & Ho 2022, "Progressive Distillation for Fast Sampling of Diffusion Models": section 4, v-prediction.
- Lin et al. 2024, "Common Diffusion Noise Schedules and Sample Steps are Flawed": table 2, timestep spacings.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

BETA_SCHEDULES = ("linear", "scaled_linear", "cosine")
PREDICTION_TYPES = ("epsilon", "v_prediction", "sample")
TIMESTEP_SPACINGS = ("leading", "trailing", "linspace")

# Spellings used by diffusers' scheduler_config.json and by people, mapped to ours.
_BETA_ALIASES = {"squaredcos_cap_v2": "cosine", "scaled-linear": "scaled_linear"}
_PREDICTION_ALIASES = {"eps": "epsilon", "v": "v_prediction", "v-prediction": "v_prediction", "x0": "sample"}


@dataclass(frozen=True)
class ScheduleConfig:
    """The forward (noising) process of a diffusion model, in the vocabulary of diffusers' schedulers."""

    num_train_timesteps: int = 1000
    beta_schedule: str = "linear"
    beta_start: float = 1e-4
    beta_end: float = 0.02
    prediction_type: str = "epsilon"
    timestep_spacing: str = "leading"
    steps_offset: int = 0
    clip_sample: bool = False
    clip_sample_range: float = 1.0
    # DDIM with clip_sample: False (diffusers' default) keeps the network's own noise estimate after clipping x0;
    # True recomputes it from the clipped x0 (diffusers' ``use_clipped_model_output=True``).
    use_clipped_model_output: bool = False
    # Whether the step after the last timestep reaches alpha_bar = 1 (clean) or stops at alpha_bar[0].
    set_alpha_to_one: bool = True

    def __post_init__(self) -> None:
        beta = _BETA_ALIASES.get(self.beta_schedule, self.beta_schedule)
        pred = _PREDICTION_ALIASES.get(self.prediction_type, self.prediction_type)
        object.__setattr__(self, "beta_schedule", beta)
        object.__setattr__(self, "prediction_type", pred)
        if not isinstance(self.num_train_timesteps, int) or self.num_train_timesteps < 2:
            raise ValueError(f"num_train_timesteps must be an integer >= 2, got {self.num_train_timesteps!r}.")
        if beta not in BETA_SCHEDULES:
            raise ValueError(f"Unknown beta_schedule {self.beta_schedule!r}; use one of {', '.join(BETA_SCHEDULES)}.")
        if pred not in PREDICTION_TYPES:
            raise ValueError(
                f"Unknown prediction_type {self.prediction_type!r}; use one of {', '.join(PREDICTION_TYPES)}."
            )
        if self.timestep_spacing not in TIMESTEP_SPACINGS:
            raise ValueError(
                f"Unknown timestep_spacing {self.timestep_spacing!r}; use one of {', '.join(TIMESTEP_SPACINGS)}."
            )
        if beta != "cosine" and not (0.0 < self.beta_start < self.beta_end < 1.0):
            raise ValueError(
                f"beta_start and beta_end must satisfy 0 < beta_start < beta_end < 1, "
                f"got {self.beta_start} and {self.beta_end}."
            )
        if not isinstance(self.steps_offset, int) or not 0 <= self.steps_offset < self.num_train_timesteps:
            raise ValueError(f"steps_offset must be an integer in [0, num_train_timesteps), got {self.steps_offset!r}.")
        if self.clip_sample_range <= 0:
            raise ValueError(f"clip_sample_range must be positive, got {self.clip_sample_range}.")
        _check_usable(self)

    # -- serialisation (model card / diffusers config) -------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScheduleConfig:
        """Build from a card or a diffusers ``scheduler_config.json``; keys we do not model are ignored.

        Raises ValueError (with the offending key) for wrong types or values.
        """
        if not isinstance(data, dict):
            raise ValueError(f"A schedule must be a JSON object, got {type(data).__name__}.")
        kwargs: dict[str, Any] = {}
        for field in dataclasses.fields(cls):
            if field.name not in data or data[field.name] is None:
                continue
            value = data[field.name]
            default = field.default
            try:
                if isinstance(default, bool):
                    if not isinstance(value, bool):
                        raise TypeError
                elif isinstance(default, int):
                    if isinstance(value, bool) or not float(value).is_integer():
                        raise TypeError
                    value = int(value)
                elif isinstance(default, float):
                    if isinstance(value, bool):
                        raise TypeError
                    value = float(value)
                elif not isinstance(value, str):
                    raise TypeError
            except (TypeError, ValueError):
                raise ValueError(
                    f"Schedule field {field.name!r} should be a {type(default).__name__}, got {value!r}."
                ) from None
            kwargs[field.name] = value
        if data.get("trained_betas") is not None:
            raise ValueError("Schedules given as an explicit trained_betas list are not supported.")
        return cls(**kwargs)


# The smallest alpha_bar the samplers can divide by: x0 = (x_t - sigma eps) / sqrt(alpha_bar) then magnifies by at
# most 1e30, leaving float32 samples (max 3.4e38) eight orders of headroom; below about 1e-75 the estimate overflows
# to infinity and below 1e-308 alpha_bar is 0.0. Real schedules stay far above it (DDPM linear, T = 1000: 4e-5;
# cosine: 2e-9; the default linear betas reach it only past 13 000 timesteps).
MIN_ALPHA_BAR = 1e-60


def _check_usable(config: ScheduleConfig) -> None:
    """Refuse a schedule every sampler would divide by zero on: each beta strictly inside (0, 1), and alpha_bar
    positive and above :data:`MIN_ALPHA_BAR` at the last timestep (it only decreases)."""
    values = betas(config)
    bad = np.flatnonzero(~(np.isfinite(values) & (values > 0.0) & (values < 1.0)))
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"Every beta must lie strictly between 0 and 1, but beta at timestep {i} is {values[i]!r}; "
            f"use 0 < beta_start < beta_end < 1 (typical: beta_start 1e-4 to 1e-3, beta_end 0.01 to 0.02)."
        )
    with np.errstate(under="ignore"):
        last = float(np.cumprod(1.0 - values)[-1])
    if not last >= MIN_ALPHA_BAR:
        raise ValueError(
            f"This schedule leaves no signal: alphas_cumprod (alpha_bar) falls to {last:.3g} by timestep "
            f"{config.num_train_timesteps - 1} (it must stay above {MIN_ALPHA_BAR:g}), and sampling would divide by "
            f"sqrt(alpha_bar). Lower beta_end (and beta_start) or num_train_timesteps: with 1000 timesteps, "
            f"beta_start 1e-4 to 1e-3 and beta_end 0.01 to 0.02 are typical (got beta_start={config.beta_start}, "
            f"beta_end={config.beta_end}, {config.beta_schedule})."
        )


# -- the schedule itself -------------------------------------------------------------------------------------------


def betas(config: ScheduleConfig) -> np.ndarray:
    """beta_1..beta_T as float64, shape (T,)."""
    count = config.num_train_timesteps
    if config.beta_schedule == "linear":
        return np.linspace(config.beta_start, config.beta_end, count, dtype=np.float64)
    if config.beta_schedule == "scaled_linear":
        # Stable Diffusion's schedule: linear in sqrt(beta).
        return np.linspace(config.beta_start**0.5, config.beta_end**0.5, count, dtype=np.float64) ** 2
    # Nichol & Dhariwal eq. 17: alpha_bar(t) = f(t) / f(0), f(t) = cos^2(((t/T + s) / (1 + s)) * pi/2), s = 0.008;
    # beta_t = 1 - alpha_bar(t) / alpha_bar(t-1), clipped to 0.999 to avoid a singularity at t = T.
    def alpha_bar(u: float) -> float:
        return math.cos((u + 0.008) / 1.008 * math.pi / 2) ** 2

    ratios = [1.0 - alpha_bar((i + 1) / count) / alpha_bar(i / count) for i in range(count)]
    return np.minimum(np.asarray(ratios, dtype=np.float64), 0.999)


def alphas_cumprod(config: ScheduleConfig) -> np.ndarray:
    """alpha_bar_t = prod_{s<=t} (1 - beta_s) as float64, shape (T,); index t is training timestep t."""
    return np.cumprod(1.0 - betas(config))


def timesteps(config: ScheduleConfig, num_inference_steps: int) -> np.ndarray:
    """The descending training timesteps visited by an ``num_inference_steps`` sampler (int64).

    leading: multiples of T // n (+ steps_offset), as DDIM and Stable Diffusion 1.x use;
    trailing: ends exactly at T - 1, so the first step starts from (almost) pure noise (Lin et al. table 2);
    linspace: evenly spaced from T - 1 down to 0.
    """
    total = config.num_train_timesteps
    if isinstance(num_inference_steps, bool) or not isinstance(num_inference_steps, (int, np.integer)):
        raise ValueError(f"The number of steps must be an integer, got {num_inference_steps!r}.")
    if not 1 <= num_inference_steps <= total:
        raise ValueError(
            f"The number of steps must be between 1 and {total} (the model's training timesteps), "
            f"got {num_inference_steps}."
        )
    n = int(num_inference_steps)
    if config.timestep_spacing == "leading":
        ratio = total // n
        steps = np.arange(n, dtype=np.int64)[::-1] * ratio + config.steps_offset
    elif config.timestep_spacing == "trailing":
        steps = np.round(np.arange(total, 0, -total / n)).astype(np.int64) - 1
    else:
        steps = np.round(np.linspace(0, total - 1, n)).astype(np.int64)[::-1]
    return np.ascontiguousarray(np.clip(steps, 0, total - 1))


# -- the forward process, shared with training ---------------------------------------------------------------------


def _gather(values: np.ndarray, t: Any, ndim: int) -> np.ndarray:
    """values[t] shaped to broadcast against an (N, ...) sample: scalar t or one t per batch item."""
    picked = values[np.asarray(t, dtype=np.int64)]
    if picked.ndim == 0:
        return picked
    return picked.reshape(picked.shape + (1,) * (ndim - picked.ndim))


def add_noise(config: ScheduleConfig, x0: np.ndarray, noise: np.ndarray, t: Any) -> np.ndarray:
    """Sample q(x_t | x_0) = N(sqrt(alpha_bar_t) x_0, (1 - alpha_bar_t) I) (Ho et al. eq. 4) with the given noise."""
    abar = _gather(alphas_cumprod(config), t, np.ndim(x0))
    out = np.sqrt(abar) * x0 + np.sqrt(1.0 - abar) * noise
    return out.astype(np.result_type(x0, np.float32), copy=False)


def training_target(config: ScheduleConfig, x0: np.ndarray, noise: np.ndarray, t: Any) -> np.ndarray:
    """What the network should output for this prediction type: eps, x_0, or v = sqrt(ab) eps - sqrt(1-ab) x_0."""
    if config.prediction_type == "epsilon":
        return noise
    if config.prediction_type == "sample":
        return x0
    abar = _gather(alphas_cumprod(config), t, np.ndim(x0))
    out = np.sqrt(abar) * noise - np.sqrt(1.0 - abar) * x0  # Salimans & Ho, section 4
    return out.astype(np.result_type(x0, np.float32), copy=False)
