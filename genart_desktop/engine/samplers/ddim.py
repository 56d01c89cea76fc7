"""DDIM (Song, Meng & Ermon 2021, "Denoising Diffusion Implicit Models").

eta = 0 gives the deterministic implicit sampler: the same starting noise always gives the same image, and with a
perfect noise predictor one step lands exactly on the forward-process sample at the next timestep. eta = 1 matches
the DDPM posterior variance. With ``clip_sample`` the schedule's ``use_clipped_model_output`` picks diffusers'
convention: False (its default) moves along the network's own noise estimate, True along the one recomputed from
the clipped x0.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from genart_desktop.engine.samplers.base import Rng, Sampler, StepResult, draw_noise, split_prediction
from genart_desktop.engine.schedules import ScheduleConfig


def ddim_sigma(alpha_bar_t: float, alpha_bar_prev: float, eta: float) -> float:
    """sigma_t(eta) = eta * sqrt((1 - ab_prev) / (1 - ab_t)) * sqrt(1 - ab_t / ab_prev)   (Song et al. eq. 16)."""
    variance = (1.0 - alpha_bar_prev) / (1.0 - alpha_bar_t) * (1.0 - alpha_bar_t / alpha_bar_prev)
    return float(eta * np.sqrt(max(variance, 0.0)))


class DDIMSampler(Sampler):
    name = "ddim"

    def __init__(self, schedule: ScheduleConfig | None = None, eta: float = 0.0) -> None:
        super().__init__(schedule)
        if not 0.0 <= float(eta) <= 1.0:
            raise ValueError(f"DDIM eta must be between 0 (deterministic) and 1 (DDPM-like), got {eta}.")
        self.eta = float(eta)
        self.stochastic = self.eta > 0.0
        self._raw_eps = (dataclasses.replace(self.schedule, clip_sample=False)
                         if self.schedule.clip_sample and not self.schedule.use_clipped_model_output else None)

    def _step(self, model_output: np.ndarray, t: int, sample: np.ndarray, rng: Rng) -> StepResult:
        abar_t = self.alpha_bar(t)
        abar_prev = self.previous_alpha_bar(t)
        x0, eps = split_prediction(model_output, sample, abar_t, self.schedule)
        if self._raw_eps is not None:  # diffusers' default: x0 clipped, the noise estimate left as predicted
            eps = split_prediction(model_output, sample, abar_t, self._raw_eps)[1]
        sigma = ddim_sigma(abar_t, abar_prev, self.eta)
        # Song et al. eq. 12: x_prev = sqrt(ab_prev) x0 + sqrt(1 - ab_prev - sigma^2) eps + sigma z.
        direction = np.sqrt(max(1.0 - abar_prev - sigma**2, 0.0)) * eps
        prev = np.sqrt(abar_prev) * x0 + direction
        if sigma > 0.0:
            prev = prev + sigma * draw_noise(rng, sample.shape, sample.dtype)
        return StepResult(prev.astype(sample.dtype, copy=False), x0)
