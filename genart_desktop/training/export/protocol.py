"""What every trained family's exporter looks like, so ``genart-train export`` can dispatch without knowing them.

An exporter turns a run folder into an app model folder (ONNX graphs checked against PyTorch, thumbnail, card) and
says what it wrote; families register one in ``registry.py`` from their own module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from genart_desktop.core.errors import InputError
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
    self_ensemble: int = 1  # upscalers: network runs per tile the card asks the app for (measured both ways)


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


@dataclass(frozen=True)
class Float32Exporter:
    """The exporter of a family whose ``export_run(run_dir, request) -> (folder, card)`` takes the request as it is
    and has no float16 form; the card's ``metrics.parity_max_abs_diff`` is what it reports."""

    family: str
    export_run: Callable[[Path, ExportRequest], tuple[Path, dict[str, Any]]]

    def export(self, run: RunFolder, request: ExportRequest) -> ExportResult:
        if request.fp16:
            raise InputError(f"--fp16 is not available for {self.family} runs; export again without --fp16.")
        folder, card = self.export_run(run.path, request)
        return ExportResult(Path(folder), card, dict(card["metrics"]["parity_max_abs_diff"]))
