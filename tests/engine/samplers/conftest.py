"""Shared helpers for sampler tests: a perfect predictor that knows the clean image and the noise."""

from __future__ import annotations

import numpy as np
import pytest

from genart_desktop.engine.schedules import ScheduleConfig, add_noise, training_target


class PerfectPredictor:
    """Returns exactly what an ideal network would for x_t = add_noise(x0, eps, t)."""

    def __init__(self, config: ScheduleConfig, x0: np.ndarray, eps: np.ndarray) -> None:
        self.config, self.x0, self.eps = config, x0, eps

    def noisy(self, t: int) -> np.ndarray:
        return add_noise(self.config, self.x0, self.eps, t)

    def __call__(self, t: int) -> np.ndarray:
        return training_target(self.config, self.x0, self.eps, t)


@pytest.fixture
def data():
    rng = np.random.default_rng(42)
    x0 = np.clip(rng.standard_normal((2, 3, 8, 8)), -1, 1).astype(np.float32)
    eps = rng.standard_normal((2, 3, 8, 8)).astype(np.float32)
    return x0, eps
