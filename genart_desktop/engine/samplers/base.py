"""What every sampler shares: the step API, prediction-type conversion, seeded noise and argument checks.

A sampler walks a descending list of training timesteps. ``step`` turns the network's output at timestep ``t`` into
the sample at the next (less noisy) timestep of the list; after the last one it reaches the clean image
(alpha_bar = 1, or alpha_bar_0 when the schedule says ``set_alpha_to_one = False``). All samplers here work on the
variance-preserving sample x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps, so the network input never needs
rescaling and the starting noise is plain N(0, I).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Union

import numpy as np

from genart_desktop.engine.schedules import ScheduleConfig, alphas_cumprod, timesteps

Rng = Union[np.random.Generator, Sequence[np.random.Generator], None]


@dataclass(frozen=True)
class StepResult:
    """The next sample, and the network's current estimate of the clean image (used for previews)."""

    prev_sample: np.ndarray
    pred_x0: np.ndarray


@lru_cache(maxsize=8)
def shared_alphas_cumprod(schedule: ScheduleConfig) -> np.ndarray:
    """The schedule's alpha_bar, computed once per schedule and read-only: a cosine schedule costs a thousand
    Python-level cosines, which every frame of a live preview would otherwise pay again."""
    values = alphas_cumprod(schedule)
    values.setflags(write=False)
    return values


def draw_noise(rng: Rng, shape: tuple[int, ...], dtype: np.dtype | type = np.float32) -> np.ndarray:
    """Standard normal noise from one Generator, or from one Generator per batch item (so image i of a batch is the
    same as a batch of one generated with generator i)."""
    if rng is None:
        raise ValueError("This sampler draws noise; pass rng=numpy.random.default_rng(seed) (or one per image).")
    if isinstance(rng, np.random.Generator):
        return rng.standard_normal(shape, dtype=np.float32).astype(dtype, copy=False)
    generators = list(rng)
    if len(generators) != shape[0] or not all(isinstance(g, np.random.Generator) for g in generators):
        raise ValueError(
            f"Pass one numpy Generator per batch item: the batch has {shape[0]} items, got {len(generators)} generators."
        )
    return np.stack([g.standard_normal(shape[1:], dtype=np.float32) for g in generators]).astype(dtype, copy=False)


def split_prediction(
    model_output: np.ndarray, sample: np.ndarray, alpha_bar: float, config: ScheduleConfig
) -> tuple[np.ndarray, np.ndarray]:
    """(pred_x0, pred_eps) from the network output, whatever it predicts.

    With alpha = sqrt(alpha_bar) and sigma = sqrt(1 - alpha_bar):
    epsilon: x0 = (x_t - sigma eps) / alpha (Ho et al. 2020, eq. 15);
    sample:  eps = (x_t - alpha x0) / sigma;
    v:       x0 = alpha x_t - sigma v, eps = sigma x_t + alpha v (Salimans & Ho 2022, section 4 and appendix D).
    With ``clip_sample`` the x0 estimate is clipped and eps recomputed so the two stay consistent.
    """
    alpha = float(np.sqrt(alpha_bar))
    sigma = float(np.sqrt(1.0 - alpha_bar))
    kind = config.prediction_type
    if kind == "epsilon":
        eps = model_output
        x0 = (sample - sigma * eps) / alpha
    elif kind == "sample":
        x0 = model_output
        eps = (sample - alpha * x0) / max(sigma, 1e-12)
    else:
        x0 = alpha * sample - sigma * model_output
        eps = sigma * sample + alpha * model_output
    if config.clip_sample:
        x0 = np.clip(x0, -config.clip_sample_range, config.clip_sample_range)
        eps = (sample - alpha * x0) / max(sigma, 1e-12)
    return x0.astype(sample.dtype, copy=False), eps.astype(sample.dtype, copy=False)


class Sampler(ABC):
    """Base class. Subclasses implement :meth:`_step` and say whether they draw noise."""

    name: str = ""
    stochastic: bool = False

    def __init__(self, schedule: ScheduleConfig | None = None) -> None:
        if schedule is not None and not isinstance(schedule, ScheduleConfig):
            raise ValueError(
                f"Samplers take a ScheduleConfig, got {type(schedule).__name__}; "
                f"use ScheduleConfig.from_dict(...) for a dict."
            )
        self.schedule = schedule or ScheduleConfig()
        self.alphas_cumprod = shared_alphas_cumprod(self.schedule)
        self.final_alpha_cumprod = 1.0 if self.schedule.set_alpha_to_one else float(self.alphas_cumprod[0])
        self.timesteps: np.ndarray = np.zeros(0, dtype=np.int64)
        self._index: dict[int, int] = {}

    def set_timesteps(self, num_inference_steps: int) -> np.ndarray:
        """Choose the descending timesteps for this many steps (spacing from the schedule) and reset any state."""
        self.timesteps = timesteps(self.schedule, num_inference_steps)
        if len(set(self.timesteps.tolist())) != len(self.timesteps):
            raise ValueError(
                f"{num_inference_steps} steps repeat timesteps with {self.schedule.timestep_spacing!r} spacing; "
                f"use fewer steps or another timestep_spacing."
            )
        self._index = {int(t): i for i, t in enumerate(self.timesteps)}
        self.reset()
        return self.timesteps

    def reset(self) -> None:
        """Forget multistep history (called by set_timesteps)."""

    def alpha_bar(self, t: int) -> float:
        return float(self.alphas_cumprod[t])

    def previous_alpha_bar(self, t: int) -> float:
        """alpha_bar at the timestep after ``t`` in the list, or the final (clean) value after the last step."""
        i = self._index[int(t)]
        if i + 1 < len(self.timesteps):
            return float(self.alphas_cumprod[self.timesteps[i + 1]])
        return self.final_alpha_cumprod

    def step(self, model_output: np.ndarray, t: int, sample: np.ndarray, rng: Rng = None) -> StepResult:
        """One reverse step from timestep ``t`` (one of ``self.timesteps``) to the next one in the list."""
        if not len(self.timesteps):
            raise ValueError(f"Call set_timesteps(num_inference_steps) on the {self.name} sampler before step().")
        if isinstance(t, np.ndarray):
            if t.size != 1:
                raise ValueError("step() takes one timestep for the whole batch, not an array of them.")
            t = t.reshape(())[()]
        if int(t) not in self._index:
            raise ValueError(
                f"Timestep {t} is not one of this sampler's timesteps {self.timesteps.tolist()}; "
                f"iterate over sampler.timesteps after set_timesteps()."
            )
        model_output = np.asarray(model_output)
        sample = np.asarray(sample)
        if model_output.shape != sample.shape:
            raise ValueError(
                f"The model output has shape {model_output.shape} but the sample has shape {sample.shape}; "
                f"the network must predict a tensor of the sample's shape."
            )
        if not np.issubdtype(sample.dtype, np.floating):
            raise ValueError(f"The sample must be a float array, got {sample.dtype}.")
        if self.stochastic and rng is None:
            raise ValueError(
                f"The {self.name} sampler adds noise at each step; pass rng=numpy.random.default_rng(seed) "
                f"so the result is reproducible."
            )
        model_output = model_output.astype(sample.dtype, copy=False)
        return self._step(model_output, int(t), sample, rng)

    @abstractmethod
    def _step(self, model_output: np.ndarray, t: int, sample: np.ndarray, rng: Rng) -> StepResult:
        """The update itself; arguments are already checked."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(steps={len(self.timesteps)}, schedule={self.schedule})"
