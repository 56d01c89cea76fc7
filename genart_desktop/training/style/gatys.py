"""Gatys et al.'s neural style transfer: optimise the pixels of one image for the highest quality single result.

Slow (hundreds of loss-network passes) but needs no training. Multi-scale: optimise a small image first, upsample
it as the starting point of the next scale; large structures settle cheaply at low resolution and the full-size
passes only refine detail. The style image is resized with the output at every scale, so the brush strokes keep
their size relative to the picture.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from genart_desktop.core.errors import InputError
from genart_desktop.training.style.images import fit_long_side, to_rgb, to_tensor
from genart_desktop.training.style.losses import PerceptualLoss

OPTIMIZERS = ("lbfgs", "adam")
INITS = ("content", "noise")


@dataclass(frozen=True)
class GatysOptions:
    size: int = 512  # long side of the output
    steps: int = 300  # optimiser iterations at the final scale; each smaller scale gets as many
    optimizer: str = "lbfgs"
    lr: float | None = None  # None: 1.0 for L-BFGS, 0.02 for Adam (pixels live in [-1, 1])
    scales: int = 2
    style_scale: float = 1.0  # style image long side relative to the output's
    init: str = "content"
    seed: int = 0

    def validate(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise InputError(f"--optimizer must be one of {', '.join(OPTIMIZERS)}, not {self.optimizer!r}.")
        if self.init not in INITS:
            raise InputError(f"--init must be one of {', '.join(INITS)}, not {self.init!r}.")
        if not 32 <= self.size <= 4096:
            raise InputError(f"--size must be between 32 and 4096 pixels, not {self.size}.")
        if self.steps < 1 or not 1 <= self.scales <= 5 or self.size >> (self.scales - 1) < 32:
            raise InputError("--steps must be positive and --scales between 1 and 5, with the smallest scale "
                             "at least 32 px.")
        if not 0.1 <= self.style_scale <= 4.0:
            raise InputError(f"--style-scale must be between 0.1 and 4, not {self.style_scale}.")
        if self.lr is not None and not self.lr > 0:
            raise InputError(f"--lr must be positive, not {self.lr}.")


def scale_sizes(size: int, scales: int) -> list[int]:
    return [max(32, round(size / 2 ** (scales - 1 - i))) for i in range(scales)]


def _optimise(image: torch.Tensor, loss_fn: Callable[[], torch.Tensor], options: GatysOptions, steps: int,
              tick: Callable[[], None]) -> None:
    """Run ``steps`` optimiser iterations on ``image`` in place, keeping pixels in [-1, 1]."""
    if options.optimizer == "adam":
        optimizer = torch.optim.Adam([image], lr=options.lr or 0.02)
        for _ in range(steps):
            optimizer.zero_grad(set_to_none=True)
            loss_fn().backward()
            optimizer.step()
            with torch.no_grad():
                image.clamp_(-1.0, 1.0)
            tick()
        return
    optimizer = torch.optim.LBFGS([image], lr=options.lr or 1.0, max_iter=1, history_size=50,
                                  line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn()
        loss.backward()
        return loss

    for _ in range(steps):
        optimizer.step(closure)
        with torch.no_grad():
            image.clamp_(-1.0, 1.0)
        tick()


def stylize(
    content: np.ndarray,
    style: np.ndarray,
    loss: PerceptualLoss,
    options: GatysOptions = GatysOptions(),
    progress: Callable[[int, int, dict[str, float]], None] | None = None,
    device: torch.device | str = "cpu",
) -> np.ndarray:
    """Stylize an RGB uint8 ``content`` image with the RGB uint8 ``style`` image; returns RGB uint8 at
    ``options.size`` on the long side. ``progress(done, total, losses)`` is called after each iteration."""
    options.validate()
    device = torch.device(device)
    loss = loss.to(device)
    sizes = scale_sizes(options.size, options.scales)
    total = options.steps * len(sizes)
    done = 0
    generator = torch.Generator().manual_seed(options.seed)
    image: torch.Tensor | None = None
    last: dict[str, float] = {}
    for size in sizes:
        content_t = to_tensor(fit_long_side(content, size)).to(device)
        style_t = to_tensor(fit_long_side(style, max(32, round(size * options.style_scale)))).to(device)
        content_targets = loss.content_targets(content_t)
        style_targets = loss.style_targets(style_t)
        if image is None:
            start = content_t.clone() if options.init == "content" else \
                (torch.rand(content_t.shape, generator=generator) * 2 - 1).to(device)
        else:
            start = F.interpolate(image.detach(), size=content_t.shape[-2:], mode="bicubic", align_corners=False)
        image = start.clamp(-1, 1).requires_grad_(True)

        def loss_fn() -> torch.Tensor:
            values = loss(image, content_targets, style_targets)
            last.update({k: float(v.detach()) for k, v in values.items()})
            return values["total"]

        def tick() -> None:
            nonlocal done
            done += 1
            if progress is not None:
                progress(done, total, dict(last))

        _optimise(image, loss_fn, options, options.steps, tick)
    assert image is not None
    if not torch.isfinite(image).all():
        raise FloatingPointError("The optimisation diverged (NaN pixels); lower --lr or --style-weight.")
    return to_rgb(image)

