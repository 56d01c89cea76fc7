"""Behaviour every sampler shares: the API contract, seeded reproducibility, errors that explain the fix."""

from __future__ import annotations

import numpy as np
import pytest

from genart_desktop.engine.samplers import SAMPLERS, StepResult, draw_noise, make_sampler, sampler_names
from genart_desktop.engine.schedules import ScheduleConfig, alphas_cumprod


def run(name: str, seed: int, steps: int = 12, cfg: ScheduleConfig | None = None) -> np.ndarray:
    sampler = make_sampler(name, cfg or ScheduleConfig(beta_schedule="cosine"))
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, 3, 6, 6), dtype=np.float32)
    for t in sampler.set_timesteps(steps):
        out = sampler.step(np.tanh(x) * 0.9, t, x, rng)
        assert isinstance(out, StepResult)
        assert out.prev_sample.dtype == np.float32 and out.prev_sample.shape == x.shape
        x = out.prev_sample
    return x


@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_same_seed_same_result_and_no_nan(name):
    a, b, c = run(name, 7), run(name, 7), run(name, 8)
    assert np.isfinite(a).all()
    assert np.array_equal(a, b)
    assert not np.allclose(a, c)


@pytest.mark.parametrize("name", sorted(SAMPLERS))
@pytest.mark.parametrize("prediction", ["epsilon", "v_prediction", "sample"])
def test_all_prediction_types_and_one_step(name, prediction):
    cfg = ScheduleConfig(prediction_type=prediction, timestep_spacing="trailing")
    assert np.isfinite(run(name, 1, steps=1, cfg=cfg)).all()
    assert np.isfinite(run(name, 1, steps=50, cfg=cfg)).all()


@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_misuse_raises_value_error_with_the_fix(name):
    sampler = make_sampler(name, ScheduleConfig())
    x = np.zeros((1, 3, 4, 4), np.float32)
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="set_timesteps"):
        sampler.step(x, 999, x, rng)
    steps = sampler.set_timesteps(10)
    with pytest.raises(ValueError, match="not one of"):
        sampler.step(x, 123, x, rng)
    with pytest.raises(ValueError, match="shape"):
        sampler.step(np.zeros((1, 3, 4, 5), np.float32), steps[0], x, rng)
    with pytest.raises(ValueError, match="float"):
        sampler.step(x.astype(np.int64), steps[0], x.astype(np.int64), rng)


def test_per_item_generators_make_batches_match_single_images():
    gens = [np.random.default_rng(10), np.random.default_rng(11)]
    batch = draw_noise(gens, (2, 3, 4))
    assert np.array_equal(batch[1], np.random.default_rng(11).standard_normal((3, 4), dtype=np.float32))
    with pytest.raises(ValueError, match="one numpy Generator per batch item"):
        draw_noise(gens, (3, 3, 4))


def test_make_sampler_names_and_options():
    assert sampler_names() == ["ddim", "ddpm", "dpmpp_2m", "euler_a"]
    assert make_sampler("DPM++2M").name == "dpmpp_2m"
    assert make_sampler("ddim", eta=0.3).eta == 0.3
    with pytest.raises(ValueError, match="choose one of"):
        make_sampler("heun")
    with pytest.raises(ValueError, match="takes no options"):
        make_sampler("ddpm", eta=1.0)
    with pytest.raises(ValueError, match="ScheduleConfig"):
        make_sampler("ddim", {"beta_schedule": "linear"})


def test_samplers_share_one_read_only_schedule_per_config():
    cfg = ScheduleConfig(beta_schedule="cosine", timestep_spacing="trailing")
    first, second = make_sampler("ddim", cfg), make_sampler("dpmpp_2m", ScheduleConfig(**cfg.to_dict()))
    assert first.alphas_cumprod is second.alphas_cumprod
    assert np.array_equal(first.alphas_cumprod, alphas_cumprod(cfg))
    with pytest.raises(ValueError):
        first.alphas_cumprod[0] = 0.5
    assert alphas_cumprod(cfg).flags.writeable  # training's own copy stays writable
    assert make_sampler("ddim", ScheduleConfig()).alphas_cumprod is not first.alphas_cumprod
