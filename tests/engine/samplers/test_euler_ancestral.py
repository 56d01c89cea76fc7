"""Euler ancestral: the deterministic part plus fresh noise keeps the right marginal variance."""

from __future__ import annotations

import math

import numpy as np
import pytest

from genart_desktop.engine.samplers import EulerAncestralSampler
from genart_desktop.engine.samplers.euler_ancestral import ancestral_split
from genart_desktop.engine.schedules import ScheduleConfig, alphas_cumprod

from .conftest import PerfectPredictor


def test_split_keeps_the_target_variance():
    down, up = ancestral_split(3.0, 1.2)
    assert down**2 + up**2 == pytest.approx(1.2**2)
    assert ancestral_split(3.0, 0.0) == (0.0, 0.0)


def test_perfect_predictor_step_in_closed_form(data):
    cfg = ScheduleConfig()
    x0, eps = data
    oracle = PerfectPredictor(cfg, x0, eps)
    sampler = EulerAncestralSampler(cfg)
    steps = sampler.set_timesteps(10)
    t, s = int(steps[2]), int(steps[3])
    abar = alphas_cumprod(cfg)
    out = sampler.step(oracle(t), t, oracle.noisy(t), rng=np.random.default_rng(5)).prev_sample
    sig_t, sig_s = math.sqrt((1 - abar[t]) / abar[t]), math.sqrt((1 - abar[s]) / abar[s])
    down, up = ancestral_split(sig_t, sig_s)
    z = np.random.default_rng(5).standard_normal(x0.shape, dtype=np.float32)
    np.testing.assert_allclose(out, math.sqrt(abar[s]) * (x0 + down * eps + up * z), atol=1e-4)


def test_final_step_is_clean(data):
    cfg = ScheduleConfig()
    x0, eps = data
    oracle = PerfectPredictor(cfg, x0, eps)
    sampler = EulerAncestralSampler(cfg)
    t = int(sampler.set_timesteps(10)[-1])
    out = sampler.step(oracle(t), t, oracle.noisy(t), rng=np.random.default_rng(0))
    np.testing.assert_allclose(out.prev_sample, x0, atol=1e-4)
