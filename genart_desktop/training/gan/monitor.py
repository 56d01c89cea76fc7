"""Mode-collapse monitor: diversity of a fixed batch of generated images against the real data's diversity."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from genart_desktop.training.metrics import diversity_score


@dataclass
class DiversityMonitor:
    real_score: float
    drop: float = 0.35
    history: list[tuple[int, float]] = field(default_factory=list)

    @classmethod
    def from_real(cls, real: torch.Tensor, drop: float) -> DiversityMonitor:
        return cls(diversity_score(real), drop)

    def check(self, step: int, fake: torch.Tensor) -> tuple[float, float, str | None]:
        """Record the score; returns (score, ratio to real, warning text or None)."""
        score = diversity_score(fake)
        ratio = score / self.real_score if self.real_score > 0 else 0.0
        best = max((s for _, s in self.history), default=None)
        self.history.append((step, score))
        warning = None
        if best is not None and score < best * (1.0 - self.drop):
            warning = (f"step {step}: sample diversity fell to {ratio:.0%} of the real data's (best so far "
                       f"{best / self.real_score:.0%}): the generator may be collapsing. Try --diffaugment "
                       "color,translation,cutout, --loss wgan-gp, --spectral-norm or a lower --lr, or resume from "
                       "an earlier checkpoint.")
        return score, ratio, warning

    def to_json(self) -> dict:
        return {"real_score": self.real_score, "history": [list(h) for h in self.history]}

    def load_json(self, data: dict) -> None:
        self.history = [(int(s), float(v)) for s, v in data.get("history", [])]
