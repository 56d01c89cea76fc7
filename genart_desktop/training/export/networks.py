"""One network a family exports (role, file, torch module, example inputs, card io) and the pieces to describe it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

IMAGE_RANGE = [-1.0, 1.0]


@dataclass
class Network:
    role: str
    filename: str
    module: torch.nn.Module
    inputs: dict[str, torch.Tensor]  # example inputs, batch of 3 (parity runs on different values)
    io: dict[str, Any]  # the card's io entry for this role


def tensor_entry(shape: list, dtype: str = "float32", value_range: list[float] | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"shape": shape, "dtype": dtype}
    if value_range is not None:
        entry["range"] = value_range
    return entry


class HalfPrecision(torch.nn.Module):
    """fp16 weights and arithmetic inside, float32 at the edges, so the app feeds the same tensors either way."""

    def __init__(self, module: torch.nn.Module):
        super().__init__()
        self.inner = module.half()

    def forward(self, *inputs: torch.Tensor):  # noqa: ANN201
        out = self.inner(*[x.half() for x in inputs])
        if isinstance(out, tuple):
            return tuple(o.float() for o in out)
        return out.float()
