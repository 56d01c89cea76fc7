"""Euler ancestral ("Euler a"): an Euler step of the probability-flow ODE followed by fresh noise
(Karras et al. 2022, "Elucidating the Design Space of Diffusion-Based Generative Models", eq. 4 and Algorithm 2
with the ancestral split of the step that k-diffusion popularised).

The update lives in the variance-exploding variable x~ = x_t / alpha_t with sigma_t = sqrt((1 - ab_t) / ab_t);
we convert in and out so the sampler shares the variance-preserving API of the others:
  sigma_up = min(sigma_s, sqrt(sigma_s^2 (sigma_t^2 - sigma_s^2) / sigma_t^2)),  sigma_down = sqrt(sigma_s^2 - sigma_up^2)
  d = (x~ - x0) / sigma_t                        (the ODE's derivative dx~/dsigma, Karras eq. 4 with D = x0)
  x~_s = x~ + (sigma_down - sigma_t) d + sigma_up z,   x_s = alpha_s x~_s.
"""

from __future__ import annotations

import math

import numpy as np

from genart_desktop.engine.samplers.base import Rng, Sampler, StepResult, draw_noise, split_prediction


def ancestral_split(sigma_from: float, sigma_to: float) -> tuple[float, float]:
    """(sigma_down, sigma_up): the deterministic part and the fresh noise of a step from sigma_from to sigma_to."""
    if sigma_to <= 0.0:
        return 0.0, 0.0
    up = min(sigma_to, math.sqrt(sigma_to**2 * (sigma_from**2 - sigma_to**2) / sigma_from**2))
    return math.sqrt(max(sigma_to**2 - up**2, 0.0)), up


class EulerAncestralSampler(Sampler):
    name = "euler_a"
    stochastic = True

    def _step(self, model_output: np.ndarray, t: int, sample: np.ndarray, rng: Rng) -> StepResult:
        abar_t = self.alpha_bar(t)
        abar_s = self.previous_alpha_bar(t)
        x0, _ = split_prediction(model_output, sample, abar_t, self.schedule)
        sigma_t = math.sqrt((1.0 - abar_t) / abar_t)
        sigma_s = math.sqrt(max(1.0 - abar_s, 0.0) / abar_s)
        ve_sample = sample / math.sqrt(abar_t)
        down, up = ancestral_split(sigma_t, sigma_s)
        derivative = (ve_sample - x0) / sigma_t
        ve_prev = ve_sample + (down - sigma_t) * derivative
        if up > 0.0:
            ve_prev = ve_prev + up * draw_noise(rng, sample.shape, sample.dtype)
        prev = math.sqrt(abar_s) * ve_prev
        return StepResult(prev.astype(sample.dtype, copy=False), x0)
