"""Where ``--init-from`` starts a network: a model id, a model folder or a run folder, resolved before anything is
built, with the options that follow from it.

The source fixes the network's shape (the config's ``ARCHITECTURE`` fields come from the source unless typed) and,
when neither ``--lr`` nor ``--steps`` was typed, fine-tuning defaults apply: a third of the family's learning rate
and a quarter of its steps (a network that already works needs gentler and fewer updates). The weights themselves
are read by :mod:`init_weights`.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from genart_desktop.core.errors import GenArtError, InputError
from genart_desktop.engine.cards import CARD_NAME
from genart_desktop.training.checkpoint import latest_checkpoint
from genart_desktop.training.config import TrainConfig, add_config_arguments, explicit_options
from genart_desktop.training.runs import OPTIONS_FILE, RunFolder

FINE_TUNE_LR = 1 / 3
FINE_TUNE_STEPS = 1 / 4


@dataclass(frozen=True)
class InitSource:
    """A resolved ``--init-from``: a run's latest checkpoint, or a model folder's ONNX files by card role."""

    text: str  # as typed
    kind: str  # "run" or "model"
    folder: Path
    label: str  # the model id, or the run folder's name
    options: dict[str, Any]  # the options the source was trained with (those its card or run records)
    checkpoint: Path | None = None
    files: dict[str, Path] = field(default_factory=dict)  # model: ONNX role -> file

    def record(self, reused: list[str]) -> dict[str, Any]:
        """What a card says about the start: the source, the sha256 of each file read, and the networks it gave."""
        weights = [self.checkpoint] if self.checkpoint is not None else [self.files[role] for role in sorted(self.files)]
        return {"source": self.label, "kind": self.kind, "folder": str(self.folder),
                "sha256": {path.name: _file_sha256(path) for path in weights}, "reused": reused}


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def card_family(cls: type[TrainConfig]) -> str:
    return getattr(cls, "CARD_FAMILY", "") or cls.FAMILY


def resolve_source(text: str, cls: type[TrainConfig]) -> InitSource:
    """``text`` as a run folder (has options.json), a model folder (has model.json) or a registered model id."""
    path = Path(text)
    if (path / OPTIONS_FILE).is_file():
        return _run_source(text, RunFolder.open(path), cls)
    if (path / CARD_NAME).is_file():
        from genart_desktop.engine.registry import ModelRegistry

        entries = ModelRegistry.for_folder(path).entries()
        return _model_source(text, entries[-1], cls)
    if path.exists() or any(sep in text for sep in ("/", "\\")):
        raise InputError(f"--init-from {text!r} is neither a model folder (no {CARD_NAME}) nor a training run "
                         f"(no {OPTIONS_FILE}).")
    from genart_desktop.engine.registry import ModelRegistry

    try:
        entry = ModelRegistry().get(text)
    except GenArtError as exc:
        raise InputError(f"--init-from: {exc}") from exc
    return _model_source(text, entry, cls)


def _run_source(text: str, run: RunFolder, cls: type[TrainConfig]) -> InitSource:
    record = run.read_options()
    if record.get("family") != cls.FAMILY:
        raise InputError(f"--init-from {run.path} is a {record.get('family')} run, not a {cls.FAMILY} run.")
    checkpoint = latest_checkpoint(run.checkpoints_dir)
    if checkpoint is None:
        raise InputError(f"--init-from {run.path} has no checkpoint yet.")
    return InitSource(text, "run", run.path, run.path.name, dict(record.get("options") or {}), checkpoint)


def _model_source(text: str, entry: Any, cls: type[TrainConfig]) -> InitSource:  # noqa: ANN401 - a ModelEntry
    if not entry.ok:
        raise InputError(f"--init-from: {entry.reason}")
    family = card_family(cls)
    if entry.family != family:
        raise InputError(f"--init-from {text}: {entry.id} is a {entry.family} model, not a {family} model.")
    command = str((entry.card.provenance or {}).get("command") or "")
    return InitSource(text, "model", Path(entry.folder), entry.id, command_options(command, cls), None,
                      dict(entry.files))


def command_options(command: str, cls: type[TrainConfig]) -> dict[str, Any]:
    """The options a card's recorded ``genart-train`` command typed (none when it is missing or unreadable)."""
    try:
        words = shlex.split(command)
    except ValueError:
        return {}
    if len(words) < 2 or words[1] != cls.FAMILY:
        return {}
    parser = argparse.ArgumentParser(add_help=False)
    add_config_arguments(parser, cls)
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            known, _ = parser.parse_known_args(words[2:])
    except SystemExit:
        return {}
    return explicit_options(known, cls)


def fine_tune_options(explicit: dict[str, Any], source: InitSource, cls: type[TrainConfig]) -> dict[str, Any]:
    """``explicit`` plus the source's architecture and, for what was not typed, the fine-tuning lr and steps."""
    options = dict(explicit)
    for name in getattr(cls, "ARCHITECTURE", ()):
        if name not in options and name in source.options:
            options[name] = source.options[name]
    defaults = cls()
    if "lr" not in explicit:
        options["lr"] = float(f"{defaults.lr * FINE_TUNE_LR:.3g}")
    if "steps" not in explicit:
        options["steps"] = max(1, round(defaults.steps * FINE_TUNE_STEPS))
    return options
