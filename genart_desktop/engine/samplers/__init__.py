"""Diffusion samplers (numpy only), one algorithm per module, all with the same API:

    sampler = make_sampler("ddim", schedule)       # or DDIMSampler(schedule, eta=0.0)
    for t in sampler.set_timesteps(25):
        out = sampler.step(model(x, t), t, x, rng)  # -> StepResult(prev_sample, pred_x0)
        x = out.prev_sample
"""

from __future__ import annotations

from typing import Any

from genart_desktop.engine.samplers.base import Sampler, StepResult, draw_noise, split_prediction
from genart_desktop.engine.samplers.ddim import DDIMSampler
from genart_desktop.engine.samplers.ddpm import DDPMSampler
from genart_desktop.engine.samplers.dpmpp_2m import DPMSolverPP2MSampler
from genart_desktop.engine.samplers.euler_ancestral import EulerAncestralSampler
from genart_desktop.engine.schedules import ScheduleConfig

SAMPLERS: dict[str, type[Sampler]] = {
    "ddim": DDIMSampler,
    "ddpm": DDPMSampler,
    "dpmpp_2m": DPMSolverPP2MSampler,
    "euler_a": EulerAncestralSampler,
}
_ALIASES = {"dpm++2m": "dpmpp_2m", "dpm++_2m": "dpmpp_2m", "dpmsolver++": "dpmpp_2m", "euler_ancestral": "euler_a"}

DEFAULT_SAMPLER = "dpmpp_2m"


def sampler_names() -> list[str]:
    return sorted(SAMPLERS)


def make_sampler(name: str, schedule: ScheduleConfig | None = None, **options: Any) -> Sampler:
    """A sampler by name (case-insensitive); ``options`` such as ``eta`` go to the sampler that takes them."""
    key = _ALIASES.get(name.strip().lower(), name.strip().lower()) if isinstance(name, str) else name
    if key not in SAMPLERS:
        raise ValueError(f"Unknown sampler {name!r}; choose one of {', '.join(sampler_names())}.")
    cls = SAMPLERS[key]
    if key == "ddim":
        return cls(schedule, **options)
    if options:
        raise ValueError(f"The {key} sampler takes no options, got {', '.join(sorted(options))}.")
    return cls(schedule)


__all__ = [
    "DEFAULT_SAMPLER",
    "SAMPLERS",
    "DDIMSampler",
    "DDPMSampler",
    "DPMSolverPP2MSampler",
    "EulerAncestralSampler",
    "Sampler",
    "StepResult",
    "draw_noise",
    "make_sampler",
    "sampler_names",
    "split_prediction",
]
