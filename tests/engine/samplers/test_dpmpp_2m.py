"""DPM-Solver++(2M): exact for a perfect data predictor, second order, and equal to diffusers' implementation."""

from __future__ import annotations

import numpy as np
import pytest

from genart_desktop.engine.samplers import DDIMSampler, DPMSolverPP2MSampler
from genart_desktop.engine.schedules import ScheduleConfig

from .conftest import PerfectPredictor


@pytest.mark.parametrize("prediction", ["epsilon", "v_prediction"])
def test_perfect_predictor_follows_the_forward_process(data, prediction):
    cfg = ScheduleConfig(prediction_type=prediction, timestep_spacing="trailing")
    x0, eps = data
    oracle = PerfectPredictor(cfg, x0, eps)
    sampler = DPMSolverPP2MSampler(cfg)
    steps = sampler.set_timesteps(8)
    x = oracle.noisy(steps[0])
    for i, t in enumerate(steps):
        x = sampler.step(oracle(t), t, x).prev_sample
        expected = oracle.noisy(steps[i + 1]) if i + 1 < len(steps) else x0
        np.testing.assert_allclose(x, expected, atol=3e-4)


def test_first_step_equals_ddim(data):
    x0, eps = data
    cfg = ScheduleConfig()
    a, b = DPMSolverPP2MSampler(cfg), DDIMSampler(cfg)
    t = a.set_timesteps(10)[0]
    b.set_timesteps(10)
    xt = x0 * 0.1 + eps
    np.testing.assert_allclose(a.step(0.9 * eps, t, xt).prev_sample, b.step(0.9 * eps, t, xt).prev_sample, atol=1e-5)


def test_history_is_reset_by_set_timesteps(data):
    x0, eps = data
    sampler = DPMSolverPP2MSampler(ScheduleConfig())
    steps = sampler.set_timesteps(10)
    sampler.step(eps, steps[0], x0)
    second = sampler.step(0.5 * eps, steps[1], x0).prev_sample
    sampler.set_timesteps(10)
    fresh = sampler.step(0.5 * eps, steps[1], x0).prev_sample  # first order: no history any more
    assert not np.allclose(second, fresh)


def test_matches_diffusers_dpmsolver_multistep():
    pytest.importorskip("torch")
    diffusers = pytest.importorskip("diffusers")
    import torch

    config = {"beta_schedule": "scaled_linear", "beta_start": 0.00085, "beta_end": 0.012,
              "timestep_spacing": "trailing", "prediction_type": "epsilon"}
    theirs = diffusers.DPMSolverMultistepScheduler(**config, final_sigmas_type="zero")
    ours = DPMSolverPP2MSampler(ScheduleConfig.from_dict(config))
    theirs.set_timesteps(20)
    assert np.array_equal(ours.set_timesteps(20), theirs.timesteps.numpy())
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 4, 4, 4)).astype(np.float32)
    y = torch.from_numpy(x.copy())
    for t in ours.timesteps:
        out = (0.8 * x + 0.05 * np.sin(x)).astype(np.float32)
        x = ours.step(out, t, x).prev_sample
        y = theirs.step(torch.from_numpy(out), int(t), y).prev_sample
    np.testing.assert_allclose(x, y.numpy(), atol=1e-4)
