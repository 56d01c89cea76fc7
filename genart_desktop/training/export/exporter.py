"""``genart-train export``: a run's latest checkpoint -> ONNX files, parity check, thumbnail and model.json.

The run's family picks its registered exporter (registry.py). Every exporter writes into a staging folder next to
the destination; the card is written only after every graph passed its parity check, and only then does the
staging folder replace the destination, so a failed export leaves no half-made model folder behind.
"""

from __future__ import annotations

from genart_desktop.core.errors import InputError
from genart_desktop.training.export.protocol import ExportRequest, ExportResult
from genart_desktop.training.export.registry import exporter_for
from genart_desktop.training.runs import RunFolder


def export_run(run_dir: str, out: str | None = None, fp16: bool = False, model_id: str | None = None,
               name: str | None = None, description: str | None = None, license_text: str | None = None,
               truncation: float = 1.0, self_ensemble: int = 1) -> ExportResult:
    run = RunFolder.open(run_dir)
    family = run.read_options().get("family")
    request = ExportRequest(out=out, fp16=fp16, model_id=model_id, name=name, description=description,
                            license_text=license_text, truncation=truncation, self_ensemble=self_ensemble)
    try:
        exporter = exporter_for(family)
    except InputError as exc:
        raise InputError(f"{run.path}: {exc}") from None
    return exporter.export(run, request)
