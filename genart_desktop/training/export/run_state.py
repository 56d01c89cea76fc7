"""What every exporter reads first from a run folder (its options, its latest checkpoint and the config it trained
with — refused with one line when the run is of another family or has no checkpoint yet), and the training record
every card's provenance repeats."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from genart_desktop.core.errors import InputError
from genart_desktop.training.checkpoint import latest_checkpoint, load_checkpoint
from genart_desktop.training.runs import RunFolder


@dataclass(frozen=True)
class RunState:
    record: dict[str, Any]  # the run's options.json
    tensors: dict[str, torch.Tensor]  # the latest checkpoint
    meta: dict[str, Any]  # the checkpoint's metadata (step, options, trainer extras)
    config: Any  # the training config, from the checkpoint's options (the run's when it has none)


def latest_state(run: RunFolder, config_type: Any, family: str | None = None) -> RunState:
    """The run's latest checkpoint and config; ``family`` (when given) must be the run's."""
    record = run.read_options()
    if family is not None and record.get("family") != family:
        article = "an" if family[:1] in "aeiou" else "a"
        raise InputError(f"{run.path} is a {record.get('family')} run, not {article} {family} run.")
    checkpoint = latest_checkpoint(run.checkpoints_dir)
    if checkpoint is None:
        raise InputError(f"{run.path} has no checkpoint to export; train it first.")
    tensors, meta = load_checkpoint(checkpoint)
    return RunState(record, tensors, meta, config_type.from_dict(meta.get("options", record["options"])))


def training_record(run: RunFolder, record: dict[str, Any], meta: dict[str, Any], cfg: Any) -> dict[str, Any]:
    """The provenance fields every family's card shares: how to repeat the run, how long it trained and on what,
    and (for a fine-tuned run) what it started from: source id or folder, sha256 of the weights read, the networks
    reused and those that started fresh."""
    fields = {
        "command": record.get("command", cfg.command()),
        "steps": int(meta["step"]),
        "hardware": meta.get("hardware"),
        "precision": meta.get("precision"),
        "wall_time_s": round(float(meta.get("wall_time_s", 0.0)), 1),
        "run": run.path.name,
    }
    if record.get("init_from"):
        fields["init_from"] = record["init_from"]
    return fields
