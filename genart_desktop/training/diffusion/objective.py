"""The DDPM training objective on the schedule the app samples with.

The schedule's alpha_bar comes from :mod:`genart_desktop.engine.schedules` (float64 numpy) and is turned into torch
buffers here, so the network is trained on exactly the noise levels the engine's samplers assume. Targets follow
the prediction type: the noise (Ho et al. 2020) or the velocity v = sqrt(ab) eps - sqrt(1 - ab) x0 (Salimans & Ho
2022). Optional min-SNR-gamma weighting (Hang et al. 2023) balances the timesteps and speeds up convergence.
"""

from __future__ import annotations

import torch

from genart_desktop.engine.schedules import ScheduleConfig, alphas_cumprod


def make_schedule(kind: str, timesteps: int, prediction_type: str, clip_sample: bool) -> ScheduleConfig:
    """The schedule written to the card. ``trailing`` spacing makes the first sampler step start at t = T - 1."""
    return ScheduleConfig(num_train_timesteps=timesteps, beta_schedule=kind, prediction_type=prediction_type,
                          timestep_spacing="trailing", clip_sample=clip_sample)


class DiffusionObjective:
    def __init__(self, schedule: ScheduleConfig, min_snr: float = 0.0, device: torch.device | str = "cpu"):
        if schedule.prediction_type not in ("epsilon", "v_prediction"):
            raise ValueError(f"Training supports epsilon and v prediction, not {schedule.prediction_type}.")
        self.schedule = schedule
        self.min_snr = float(min_snr)
        abar = torch.from_numpy(alphas_cumprod(schedule))  # float64, shared with the engine
        self.timesteps = schedule.num_train_timesteps
        self.sqrt_abar = abar.sqrt().to(device)
        self.sqrt_one_minus = (1.0 - abar).sqrt().to(device)
        self.snr = (abar / (1.0 - abar)).to(device)

    def _at(self, values: torch.Tensor, t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        picked = values.to(like.device)[t]
        return picked.reshape(-1, *([1] * (like.ndim - 1)))

    def add_noise(self, x0: torch.Tensor, noise: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """q(x_t | x_0) (Ho et al. eq. 4), computed in float64 like the engine and returned as float32."""
        x = self._at(self.sqrt_abar, t, x0) * x0.double() + self._at(self.sqrt_one_minus, t, x0) * noise.double()
        return x.float()

    def target(self, x0: torch.Tensor, noise: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        if self.schedule.prediction_type == "epsilon":
            return noise.float()
        v = self._at(self.sqrt_abar, t, x0) * noise.double() - self._at(self.sqrt_one_minus, t, x0) * x0.double()
        return v.float()

    def weights(self, t: torch.Tensor) -> torch.Tensor:
        """Per-sample loss weights: min(SNR, gamma) / SNR for eps, min(SNR, gamma) / (SNR + 1) for v."""
        if self.min_snr <= 0:
            return torch.ones(t.shape[0], device=t.device)
        snr = self.snr.to(t.device)[t]
        clipped = snr.clamp(max=self.min_snr)
        denominator = snr if self.schedule.prediction_type == "epsilon" else snr + 1.0
        return (clipped / denominator).float()

    def sample_timesteps(self, count: int, device: torch.device) -> torch.Tensor:
        return torch.randint(0, self.timesteps, (count,), device=device)

    def loss(self, prediction: torch.Tensor, target: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        per_sample = (prediction.float() - target).square().flatten(1).mean(dim=1)
        return (self.weights(t) * per_sample).mean()
