"""GAN losses: the original non-saturating loss and WGAN-GP."""

from __future__ import annotations

import torch
import torch.nn.functional as F

LOSSES = ("ns", "wgan-gp")


def d_loss_ns(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def g_loss_ns(fake_logits: torch.Tensor) -> torch.Tensor:
    return F.softplus(-fake_logits).mean()


def d_loss_wgan(real_scores: torch.Tensor, fake_scores: torch.Tensor, drift: float = 1e-3) -> torch.Tensor:
    """Critic loss; the small drift term keeps scores near zero so they cannot wander off."""
    return fake_scores.mean() - real_scores.mean() + drift * real_scores.square().mean()


def g_loss_wgan(fake_scores: torch.Tensor) -> torch.Tensor:
    return -fake_scores.mean()


def gradient_penalty(scores: torch.Tensor, points: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
    """(||grad D(x_hat)|| - 1)^2 at the interpolated points; ``scale`` undoes an AMP loss scale."""
    (grads,) = torch.autograd.grad(scores.float().sum() * scale, points, create_graph=True)
    grads = grads.float() / scale
    return (grads.flatten(1).norm(dim=1) - 1.0).square().mean()
