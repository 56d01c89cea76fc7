"""DDPM ancestral sampling (Ho, Jain & Abbeel 2020), on any subset of the training timesteps.

Between consecutive visited timesteps t > s the process is treated as one DDPM step with
alpha_t|s = alpha_bar_t / alpha_bar_s and beta_t|s = 1 - alpha_t|s, so fewer steps than training still sample the
right marginals. The step draws x_s from the true posterior q(x_s | x_t, x_0) with x_0 replaced by the network's
estimate (eq. 6 and 7), with the "fixed small" variance beta_tilde.
"""

from __future__ import annotations

import numpy as np

from genart_desktop.engine.samplers.base import Rng, Sampler, StepResult, draw_noise, split_prediction


def posterior_coefficients(alpha_bar_t: float, alpha_bar_prev: float) -> tuple[float, float, float]:
    """(coef_x0, coef_xt, variance) of q(x_prev | x_t, x_0), Ho et al. eq. 7:

    mu_tilde = sqrt(ab_prev) beta_t / (1 - ab_t) * x_0 + sqrt(alpha_t) (1 - ab_prev) / (1 - ab_t) * x_t,
    beta_tilde = (1 - ab_prev) / (1 - ab_t) * beta_t.
    """
    alpha_t = alpha_bar_t / alpha_bar_prev
    beta_t = 1.0 - alpha_t
    coef_x0 = np.sqrt(alpha_bar_prev) * beta_t / (1.0 - alpha_bar_t)
    coef_xt = np.sqrt(alpha_t) * (1.0 - alpha_bar_prev) / (1.0 - alpha_bar_t)
    variance = (1.0 - alpha_bar_prev) / (1.0 - alpha_bar_t) * beta_t
    return float(coef_x0), float(coef_xt), float(max(variance, 0.0))


class DDPMSampler(Sampler):
    name = "ddpm"
    stochastic = True

    def _step(self, model_output: np.ndarray, t: int, sample: np.ndarray, rng: Rng) -> StepResult:
        abar_t = self.alpha_bar(t)
        abar_prev = self.previous_alpha_bar(t)
        x0, _ = split_prediction(model_output, sample, abar_t, self.schedule)
        coef_x0, coef_xt, variance = posterior_coefficients(abar_t, abar_prev)
        mean = coef_x0 * x0 + coef_xt * sample  # eq. 7, mu_tilde(x_t, x0_hat)
        if variance > 0.0:
            # Always draw, even for the last step, so the noise stream does not depend on the step count's end.
            noise = draw_noise(rng, sample.shape, sample.dtype)
            mean = mean + np.sqrt(variance) * noise  # Algorithm 2, line 4
        return StepResult(mean.astype(sample.dtype, copy=False), x0)
