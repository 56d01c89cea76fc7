"""Geometric self-ensemble for upscalers: run the network on flipped and transposed copies of each tile, undo each
transform on its output and average (the "+" results of EDSR and RCAN).

A small network's errors depend on orientation while the picture's content does not, so the average is closer to
the truth: on our held-out photos the shipped x4 model gains a few hundredths of a dB per doubling of the ensemble,
at the cost of that many network runs. The card's ``config.self_ensemble`` sets the size (1, 2, 4 or 8 runs per
tile); a request may ask for another, for speed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from genart_desktop.core.errors import InputError

SIZES = (1, 2, 4, 8)

Transform = Callable[[np.ndarray], np.ndarray]


def _identity(a: np.ndarray) -> np.ndarray:
    return a


def _flip_w(a: np.ndarray) -> np.ndarray:
    return a[..., ::-1]


def _flip_h(a: np.ndarray) -> np.ndarray:
    return a[..., ::-1, :]


def _flip_hw(a: np.ndarray) -> np.ndarray:
    return a[..., ::-1, ::-1]


def _transpose(a: np.ndarray) -> np.ndarray:
    return a.swapaxes(-1, -2)


def _compose(first: Transform, then: Transform) -> Transform:
    return lambda a: then(first(a))


# (forward, inverse) pairs, in the order passes are added: flips first (cheap to undo, square or not), then the
# transposed versions (the dihedral group of the square, eight in all)
TRANSFORMS: tuple[tuple[Transform, Transform], ...] = (
    (_identity, _identity),
    (_flip_w, _flip_w),
    (_flip_h, _flip_h),
    (_flip_hw, _flip_hw),
    (_transpose, _transpose),
    (_compose(_transpose, _flip_w), _compose(_flip_w, _transpose)),
    (_compose(_transpose, _flip_h), _compose(_flip_h, _transpose)),
    (_compose(_transpose, _flip_hw), _compose(_flip_hw, _transpose)),
)


def check_ensemble(size: Any, where: str = "upscaler self-ensemble") -> int:
    """``size`` (network runs per tile) as an int from :data:`SIZES`; anything else is refused with one line."""
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or int(size) not in SIZES:
        raise InputError(f"The {where} must be one of {', '.join(map(str, SIZES))} runs per tile, not {size!r}.")
    return int(size)


class SelfEnsemble:
    """Wraps an :class:`~genart_desktop.engine.pipelines.upscale.UpscaleNetwork`-like callable; same call, same
    ``scale``, ``size`` network runs per tile."""

    def __init__(self, network: Any, size: int) -> None:
        self.network = network
        self.size = check_ensemble(size)

    @property
    def scale(self) -> int:
        return self.network.scale

    def __call__(self, batch: np.ndarray, run_options: Any = None) -> np.ndarray:
        total: np.ndarray | None = None
        for forward, inverse in TRANSFORMS[:self.size]:
            result = inverse(self.network(np.ascontiguousarray(forward(batch)), run_options))
            total = np.array(result, np.float32) if total is None else total + result
        assert total is not None
        return total / self.size
