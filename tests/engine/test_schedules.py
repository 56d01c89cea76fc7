"""The shared noise schedule: closed forms, spacings, serialisation, forward process."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from genart_desktop.engine.schedules import (
    ScheduleConfig,
    add_noise,
    alphas_cumprod,
    betas,
    timesteps,
    training_target,
)

SD_SCHEDULER_CONFIG = {
    "_class_name": "PNDMScheduler",
    "_diffusers_version": "0.6.0",
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "beta_start": 0.00085,
    "num_train_timesteps": 1000,
    "set_alpha_to_one": False,
    "skip_prk_steps": True,
    "steps_offset": 1,
    "trained_betas": None,
    "clip_sample": False,
}


def test_linear_betas_match_the_ddpm_paper():
    b = betas(ScheduleConfig())
    assert b.shape == (1000,) and b.dtype == np.float64
    assert b[0] == pytest.approx(1e-4) and b[-1] == pytest.approx(0.02)
    assert np.allclose(np.diff(b), (0.02 - 1e-4) / 999)


def test_scaled_linear_is_linear_in_sqrt_beta():
    b = betas(ScheduleConfig(beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012))
    root = np.sqrt(b)
    assert np.allclose(np.diff(root), np.diff(root)[0])
    assert b[0] == pytest.approx(0.00085) and b[-1] == pytest.approx(0.012)


def test_cosine_alpha_bar_matches_the_closed_form():
    cfg = ScheduleConfig(beta_schedule="cosine", num_train_timesteps=1000)
    abar = alphas_cumprod(cfg)

    def f(t):
        return math.cos((t / 1000 + 0.008) / 1.008 * math.pi / 2) ** 2

    for t in (0, 10, 250, 500, 900):  # before the 0.999 clip kicks in
        assert abar[t] == pytest.approx(f(t + 1) / f(0), rel=1e-9)
    assert betas(cfg).max() <= 0.999


@pytest.mark.parametrize("kind", ["linear", "scaled_linear", "cosine"])
def test_alpha_bar_decreases_inside_the_unit_interval(kind):
    abar = alphas_cumprod(ScheduleConfig(beta_schedule=kind, beta_start=0.00085, beta_end=0.012))
    assert np.all(np.diff(abar) < 0) and abar[0] < 1 and abar[-1] > 0


def test_timestep_spacings():
    base = ScheduleConfig()
    assert timesteps(base, 10).tolist() == [900, 800, 700, 600, 500, 400, 300, 200, 100, 0]
    offset = ScheduleConfig(steps_offset=1)
    assert timesteps(offset, 4).tolist() == [751, 501, 251, 1]
    trailing = ScheduleConfig(timestep_spacing="trailing")
    assert timesteps(trailing, 4).tolist() == [999, 749, 499, 249]
    linspace = ScheduleConfig(timestep_spacing="linspace")
    assert timesteps(linspace, 4).tolist() == [999, 666, 333, 0]
    assert timesteps(base, 1000).tolist() == list(range(999, -1, -1))
    assert timesteps(base, 10).dtype == np.int64


@pytest.mark.parametrize("bad", [0, 1001, 2.5, True])
def test_bad_step_counts_are_refused(bad):
    with pytest.raises(ValueError, match="steps"):
        timesteps(ScheduleConfig(), bad)


def test_config_round_trips_through_json():
    cfg = ScheduleConfig(beta_schedule="cosine", prediction_type="v_prediction", timestep_spacing="trailing")
    again = ScheduleConfig.from_dict(json.loads(json.dumps(cfg.to_dict())))
    assert again == cfg
    with pytest.raises(Exception):
        cfg.num_train_timesteps = 10  # frozen


def test_config_reads_a_stable_diffusion_scheduler_config():
    cfg = ScheduleConfig.from_dict(SD_SCHEDULER_CONFIG)
    assert cfg.beta_schedule == "scaled_linear"
    assert cfg.steps_offset == 1 and cfg.set_alpha_to_one is False
    assert cfg.prediction_type == "epsilon" and cfg.timestep_spacing == "leading"
    assert ScheduleConfig.from_dict({"beta_schedule": "squaredcos_cap_v2"}).beta_schedule == "cosine"
    assert ScheduleConfig.from_dict({"prediction_type": "v"}).prediction_type == "v_prediction"


@pytest.mark.parametrize(
    "data, match",
    [
        ({"beta_schedule": "sigmoid"}, "beta_schedule"),
        ({"prediction_type": "score"}, "prediction_type"),
        ({"timestep_spacing": "random"}, "timestep_spacing"),
        ({"num_train_timesteps": "many"}, "num_train_timesteps"),
        ({"beta_start": 0.5, "beta_end": 0.1}, "beta_start"),
        ({"clip_sample": "yes"}, "clip_sample"),
        ({"trained_betas": [0.1, 0.2]}, "trained_betas"),
    ],
)
def test_bad_config_values_say_which_field(data, match):
    with pytest.raises(ValueError, match=match):
        ScheduleConfig.from_dict(data)


def test_add_noise_is_the_closed_form_forward_process():
    cfg = ScheduleConfig()
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal((3, 2, 4, 4)).astype(np.float32)
    eps = rng.standard_normal(x0.shape).astype(np.float32)
    t = np.array([0, 500, 999])
    abar = alphas_cumprod(cfg)
    out = add_noise(cfg, x0, eps, t)
    for i, ti in enumerate(t):
        assert np.allclose(out[i], math.sqrt(abar[ti]) * x0[i] + math.sqrt(1 - abar[ti]) * eps[i], atol=1e-6)
    assert out.dtype == np.float32
    # Empirical check of q(x_t | x_0): mean sqrt(ab) x0, variance 1 - ab.
    big = add_noise(cfg, np.ones(200_000, np.float32), rng.standard_normal(200_000).astype(np.float32), 300)
    assert big.mean() == pytest.approx(math.sqrt(abar[300]), abs=0.01)
    assert big.var() == pytest.approx(1 - abar[300], rel=0.02)


def test_training_targets_for_each_prediction_type():
    rng = np.random.default_rng(1)
    x0 = rng.standard_normal((2, 3)).astype(np.float32)
    eps = rng.standard_normal((2, 3)).astype(np.float32)
    assert training_target(ScheduleConfig(), x0, eps, 10) is eps
    assert training_target(ScheduleConfig(prediction_type="sample"), x0, eps, 10) is x0
    cfg = ScheduleConfig(prediction_type="v_prediction")
    ab = alphas_cumprod(cfg)[400]
    v = training_target(cfg, x0, eps, 400)
    assert np.allclose(v, math.sqrt(ab) * eps - math.sqrt(1 - ab) * x0, atol=1e-6)
    # |v|^2 = |eps|^2 ab + |x0|^2 (1-ab) - cross term; for alpha^2 + sigma^2 = 1 the map (x0, eps) -> (x_t, v) is a rotation.
    xt = add_noise(cfg, x0, eps, 400)
    assert np.allclose(xt**2 + v**2, x0**2 + eps**2, atol=1e-5)


def test_matches_diffusers_alphas_cumprod():
    pytest.importorskip("torch")
    diffusers = pytest.importorskip("diffusers")
    for kind in ("linear", "scaled_linear", "squaredcos_cap_v2"):
        theirs = diffusers.DDPMScheduler(beta_schedule=kind, beta_start=0.00085, beta_end=0.012)
        ours = alphas_cumprod(ScheduleConfig(beta_schedule=kind, beta_start=0.00085, beta_end=0.012))
        assert np.allclose(theirs.alphas_cumprod.numpy(), ours, atol=1e-6)
