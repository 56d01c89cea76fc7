"""DDIM: eta = 0 is deterministic and exactly inverts the forward process for a perfect predictor."""

from __future__ import annotations

import numpy as np
import pytest

from genart_desktop.engine.samplers import DDIMSampler
from genart_desktop.engine.samplers.ddim import ddim_sigma
from genart_desktop.engine.samplers.ddpm import posterior_coefficients
from genart_desktop.engine.schedules import ScheduleConfig, alphas_cumprod

from .conftest import PerfectPredictor


@pytest.mark.parametrize("prediction", ["epsilon", "v_prediction", "sample"])
@pytest.mark.parametrize("spacing", ["leading", "trailing", "linspace"])
def test_eta0_step_lands_on_the_forward_sample(data, prediction, spacing):
    cfg = ScheduleConfig(prediction_type=prediction, timestep_spacing=spacing)
    x0, eps = data
    oracle = PerfectPredictor(cfg, x0, eps)
    sampler = DDIMSampler(cfg, eta=0.0)
    steps = sampler.set_timesteps(10)
    x = oracle.noisy(steps[0])
    for i, t in enumerate(steps):
        out = sampler.step(oracle(t), t, x)
        np.testing.assert_allclose(out.pred_x0, x0, atol=2e-4)
        expected = oracle.noisy(steps[i + 1]) if i + 1 < len(steps) else x0
        np.testing.assert_allclose(out.prev_sample, expected, atol=2e-4)
        x = out.prev_sample


def test_eta0_is_deterministic_without_rng(data):
    x0, eps = data
    sampler = DDIMSampler(ScheduleConfig(), eta=0.0)
    t = sampler.set_timesteps(20)[3]
    a = sampler.step(eps, t, x0).prev_sample
    b = sampler.step(eps, t, x0, rng=np.random.default_rng(9)).prev_sample
    assert np.array_equal(a, b)


def test_eta1_variance_is_the_ddpm_posterior_variance():
    abar = alphas_cumprod(ScheduleConfig())
    for t, s in ((999, 949), (500, 480), (20, 0)):
        sigma = ddim_sigma(abar[t], abar[s], 1.0)
        assert sigma**2 == pytest.approx(posterior_coefficients(abar[t], abar[s])[2], rel=1e-12)
    assert ddim_sigma(abar[500], abar[480], 0.0) == 0.0


def test_eta_needs_rng_and_a_valid_value(data):
    x0, eps = data
    with pytest.raises(ValueError, match="eta"):
        DDIMSampler(ScheduleConfig(), eta=1.5)
    sampler = DDIMSampler(ScheduleConfig(), eta=0.5)
    t = sampler.set_timesteps(10)[0]
    with pytest.raises(ValueError, match="rng"):
        sampler.step(eps, t, x0)
    a = sampler.step(eps, t, x0, rng=np.random.default_rng(3)).prev_sample
    b = sampler.step(eps, t, x0, rng=np.random.default_rng(3)).prev_sample
    c = sampler.step(eps, t, x0, rng=np.random.default_rng(4)).prev_sample
    assert np.array_equal(a, b) and not np.allclose(a, c)


def test_matches_diffusers_ddim():
    pytest.importorskip("torch")
    diffusers = pytest.importorskip("diffusers")
    import torch

    config = {"beta_schedule": "scaled_linear", "beta_start": 0.00085, "beta_end": 0.012, "steps_offset": 1,
              "set_alpha_to_one": False, "clip_sample": False, "prediction_type": "v_prediction"}
    theirs = diffusers.DDIMScheduler(**config)
    ours = DDIMSampler(ScheduleConfig.from_dict(config))
    theirs.set_timesteps(12)
    assert np.array_equal(ours.set_timesteps(12), theirs.timesteps.numpy())
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 4, 4, 4)).astype(np.float32)
    y = torch.from_numpy(x.copy())
    for t in ours.timesteps:
        out = (0.5 * x + 0.1).astype(np.float32)
        x = ours.step(out, t, x).prev_sample
        y = theirs.step(torch.from_numpy(out), int(t), y).prev_sample
    np.testing.assert_allclose(x, y.numpy(), atol=1e-4)


@pytest.mark.parametrize("use_clipped", [False, True])
def test_clipping_follows_the_schedules_convention(use_clipped):
    """diffusers' DDIM with clip_sample: x0 is clipped; the noise estimate is the network's own unless
    use_clipped_model_output, which recomputes it from the clipped x0."""
    cfg = ScheduleConfig(clip_sample=True, use_clipped_model_output=use_clipped)
    sampler = DDIMSampler(cfg)
    t, t_prev = (int(v) for v in sampler.set_timesteps(10)[:2])
    abar = alphas_cumprod(cfg)
    rng = np.random.default_rng(0)
    sample, eps = rng.standard_normal((2, 1, 3, 4, 4)).astype(np.float32) * 3
    x0 = np.clip((sample - np.sqrt(1 - abar[t]) * eps) / np.sqrt(abar[t]), -1, 1)
    assert np.abs(x0).max() == 1.0  # clipping engaged
    used = (sample - np.sqrt(abar[t]) * x0) / np.sqrt(1 - abar[t]) if use_clipped else eps
    expected = np.sqrt(abar[t_prev]) * x0 + np.sqrt(1 - abar[t_prev]) * used
    out = sampler.step(eps, t, sample)
    np.testing.assert_allclose(out.pred_x0, x0, atol=1e-5)
    np.testing.assert_allclose(out.prev_sample, expected, atol=1e-4)
