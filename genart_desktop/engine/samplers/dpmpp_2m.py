"""DPM-Solver++(2M) (Lu et al. 2022, "DPM-Solver++: Fast Solver for Guided Sampling of Diffusion Probabilistic
Models", Algorithm 2): a deterministic second-order multistep solver of the diffusion ODE in data-prediction form.

Good images in 15-25 steps, and stable under large classifier-free guidance. With alpha_t = sqrt(ab_t),
sigma_t = sqrt(1 - ab_t) and lambda_t = log(alpha_t / sigma_t), h = lambda_s - lambda_t for the step t -> s:
  first order (DPM-Solver++ 1 = DDIM):  x_s = (sigma_s / sigma_t) x_t - alpha_s (e^{-h} - 1) x0_t
  second order (Algorithm 2, line 8):   D = (1 + 1/(2r)) x0_t - 1/(2r) x0_prev,  r = h_prev / h,
                                        x_s = (sigma_s / sigma_t) x_t - alpha_s (e^{-h} - 1) D.
The first step (no history), the step into the clean image (sigma_s = 0) and a step of zero length (h = 0: the
last step when set_alpha_to_one=False and the last timestep is 0) use first order; the last is then x_s = x_t.
"""

from __future__ import annotations

import math

import numpy as np

from genart_desktop.engine.samplers.base import Rng, Sampler, StepResult, split_prediction


def _lambda(alpha_bar: float) -> float:
    """Half log-SNR, lambda = log(alpha / sigma)."""
    return 0.5 * (math.log(alpha_bar) - math.log1p(-alpha_bar))


class DPMSolverPP2MSampler(Sampler):
    name = "dpmpp_2m"

    def reset(self) -> None:
        self._history: tuple[int, np.ndarray, float] | None = None  # (index, x0, lambda) of the previous step

    def _step(self, model_output: np.ndarray, t: int, sample: np.ndarray, rng: Rng) -> StepResult:
        index = self._index[t]
        abar_t = self.alpha_bar(t)
        abar_s = self.previous_alpha_bar(t)
        x0, _ = split_prediction(model_output, sample, abar_t, self.schedule)
        history = self._history
        self._history = (index, x0, _lambda(abar_t))
        if abar_s >= 1.0:
            return StepResult(x0.copy(), x0)
        lam_t, lam_s = _lambda(abar_t), _lambda(abar_s)
        h = lam_s - lam_t
        alpha_s, sigma_s, sigma_t = math.sqrt(abar_s), math.sqrt(1.0 - abar_s), math.sqrt(1.0 - abar_t)
        data = x0
        # h = 0 happens on the last step with set_alpha_to_one=False and a last timestep of 0 (it goes from
        # alpha_bar_0 to alpha_bar_0): the first-order update is then exactly x_s = x_t, and r = h_prev / h is
        # undefined, so only a step of positive length (after one of positive length) uses the second order.
        if history is not None and history[0] == index - 1 and history[1].shape == x0.shape and h > 0.0:
            h_prev = lam_t - history[2]
            if h_prev > 0.0:
                r = h_prev / h
                data = (1.0 + 0.5 / r) * x0 - (0.5 / r) * history[1]
        prev = (sigma_s / sigma_t) * sample - alpha_s * math.expm1(-h) * data
        return StepResult(prev.astype(sample.dtype, copy=False), x0)
