"""DDPM: the posterior mean and variance (Ho et al. eq. 7) and seeded noise."""

from __future__ import annotations

import numpy as np
import pytest

from genart_desktop.engine.samplers import DDPMSampler
from genart_desktop.engine.samplers.ddpm import posterior_coefficients
from genart_desktop.engine.schedules import ScheduleConfig, alphas_cumprod, betas

from .conftest import PerfectPredictor


def test_posterior_variance_formula_with_all_training_steps():
    cfg = ScheduleConfig()
    abar, beta = alphas_cumprod(cfg), betas(cfg)
    for t in (1, 10, 500, 999):
        _, _, var = posterior_coefficients(abar[t], abar[t - 1])
        assert var == pytest.approx((1 - abar[t - 1]) / (1 - abar[t]) * beta[t], rel=1e-9)
    assert posterior_coefficients(abar[0], 1.0)[2] == 0.0


def test_posterior_mean_with_a_perfect_predictor(data):
    cfg = ScheduleConfig()
    x0, eps = data
    oracle = PerfectPredictor(cfg, x0, eps)
    sampler = DDPMSampler(cfg)
    steps = sampler.set_timesteps(50)
    t, s = int(steps[10]), int(steps[11])
    abar = alphas_cumprod(cfg)
    xt = oracle.noisy(t)
    draws = np.stack([sampler.step(oracle(t), t, xt, rng=np.random.default_rng(i)).prev_sample for i in range(400)])
    coef_x0, coef_xt, var = posterior_coefficients(abar[t], abar[s])
    mean = coef_x0 * x0 + coef_xt * xt
    assert np.abs(draws.mean(0) - mean).max() < 6 * np.sqrt(var / 400)
    assert draws.var(0).mean() == pytest.approx(var, rel=0.1)
    # The posterior is consistent with the forward process: the mean interpolates x0 and x_t as eq. 7 says.
    assert coef_x0 == pytest.approx(np.sqrt(abar[s]) * (1 - abar[t] / abar[s]) / (1 - abar[t]))


def test_last_step_returns_the_clean_estimate(data):
    cfg = ScheduleConfig()
    x0, eps = data
    oracle = PerfectPredictor(cfg, x0, eps)
    sampler = DDPMSampler(cfg)
    t = int(sampler.set_timesteps(10)[-1])
    out = sampler.step(oracle(t), t, oracle.noisy(t), rng=np.random.default_rng(0))
    np.testing.assert_allclose(out.prev_sample, x0, atol=1e-4)


def test_ddpm_requires_rng(data):
    x0, eps = data
    sampler = DDPMSampler(ScheduleConfig())
    t = sampler.set_timesteps(10)[0]
    with pytest.raises(ValueError, match="default_rng"):
        sampler.step(eps, t, x0)
