"""What every trained family's exporter looks like, so ``genart-train export`` can dispatch without knowing them.

An exporter turns a run folder into an app model folder (ONNX graphs checked against PyTorch, thumbnail, card) and
says what it wrote; families register one in ``registry.py`` from their own module.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from genart_desktop.training.runs import RunFolder

USER_DATA_LICENSE = ("Weights trained on the user's own images; their use follows the rights the user holds in "
                     "those images.")


@dataclass(frozen=True)
class ExportRequest:
    """The ``genart-train export`` options; a family ignores the ones it has no use for."""

    out: str | None = None
    fp16: bool = False
    model_id: str | None = None
    name: str | None = None
    description: str | None = None
    license_text: str | None = None
    truncation: float = 1.0


@dataclass
class ExportResult:
    folder: Path
    card: dict[str, Any]
    parity: dict[str, float]


class FamilyExporter(Protocol):
    family: str

    def export(self, run: RunFolder, request: ExportRequest) -> ExportResult:
        """Write the run's model folder (staged, moved into place only when complete) and return what was written."""
        ...
