"""From parsed flags to a running trainer: options, --dry-run, --resume, dataset, run folder, runtime."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import torch

from genart_desktop.core.errors import InputError
from genart_desktop.training.checkpoint import latest_checkpoint, load_checkpoint
from genart_desktop.training.config import TrainConfig, explicit_options
from genart_desktop.training.data.builder import build_dataset
from genart_desktop.training.data.cached import ImageDataset
from genart_desktop.training.data.store import is_dataset
from genart_desktop.training.device import resolve_runtime
from genart_desktop.training.loop import restore_state, run_training
from genart_desktop.training.runs import RunFolder
from genart_desktop.training.trainer import Trainer

# Options that may change when a run is resumed; everything else would make the resumed run a different run.
RESUMABLE = {"steps", "log_every", "sample_every", "checkpoint_every", "keep_checkpoints", "threads", "device",
             "runs_dir"}


def resolve_config(args: argparse.Namespace, cls: type[TrainConfig]) -> tuple[TrainConfig, RunFolder | None]:
    explicit = explicit_options(args, cls)
    run = None
    if getattr(args, "resume", None):
        run = RunFolder.open(args.resume)
        record = run.read_options()
        if record.get("family") != cls.FAMILY:
            raise InputError(f"{run.path} is a {record.get('family')} run, not a {cls.FAMILY} run.")
        stored = record["options"]
        changed = sorted(k for k, v in explicit.items() if k not in RESUMABLE and stored.get(k) != v)
        if changed:
            flags = ", ".join("--" + k.replace("_", "-") for k in changed)
            raise InputError(f"{flags} cannot change when resuming; start a new run instead.")
        cfg = cls.from_dict({**stored, **explicit})
    else:
        cfg = cls(**explicit)
    cfg.validate()
    return cfg, run


def load_training_data(cfg: TrainConfig, run: RunFolder | None) -> ImageDataset:
    """A dataset folder is used as is; a plain image folder is fitted once into the run's own dataset/ folder."""
    source = Path(cfg.data)
    if not source.exists():
        raise InputError(f"The training data {source} does not exist.")
    if is_dataset(source):
        dataset = ImageDataset.load(source)
    elif run is not None and is_dataset(run.path / "dataset"):
        dataset = ImageDataset.load(run.path / "dataset")
    elif run is not None:
        report = build_dataset(source, run.path / "dataset", cfg.resolution, "crop")
        if report.skipped:
            run.log(f"skipped {len(report.skipped)} unreadable file(s): "
                    + "; ".join(f"{s} ({r})" for s, r in report.skipped))
        dataset = ImageDataset.load(run.path / "dataset")
    else:
        raise InputError(f"{source} is not a dataset folder.")
    if dataset.resolution != cfg.resolution:
        raise InputError(f"The dataset {source} is {dataset.resolution}x{dataset.resolution} but --resolution is "
                         f"{cfg.resolution}; rebuild it with `genart-train dataset ... --resolution {cfg.resolution}`.")
    if len(dataset) < 2:
        raise InputError(f"The dataset {source} holds {len(dataset)} image; training needs at least two.")
    return dataset


def launch(args: argparse.Namespace, cls: type[TrainConfig], trainer_cls: type[Trainer]) -> int:
    cfg, run = resolve_config(args, cls)
    if getattr(args, "dry_run", False):
        print(json.dumps({"family": cls.FAMILY, "options": cfg.to_dict(), "command": cfg.command(),
                          "resume": str(run.path) if run else None}, indent=2))
        return 0
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    runtime = resolve_runtime(cfg.device, cfg.precision)
    try:
        resuming = run is not None
        if run is None and runtime.is_main:
            run = RunFolder.create(cfg.runs_dir, cls.FAMILY)
        run = _share_run(run, runtime)
        if not resuming and runtime.is_main:
            run.write_options(cls.FAMILY, cfg.to_dict(), cfg.command())
        runtime.barrier()
        checkpoint = latest_checkpoint(run.checkpoints_dir) if resuming else None
        if resuming and checkpoint is None:
            raise InputError(f"{run.path} has no checkpoint to resume from.")
        dataset = load_training_data(cfg, run if runtime.is_main else None) if runtime.is_main else None
        runtime.barrier()
        if dataset is None:
            dataset = load_training_data(cfg, run)
        torch.manual_seed(cfg.seed)
        trainer = trainer_cls(cfg, runtime, run if runtime.is_main else None, dataset)
        torch.manual_seed(cfg.seed + 1000 * runtime.rank + 1)
        start, wall = 0, 0.0
        if checkpoint is not None:
            tensors, meta = load_checkpoint(checkpoint)
            start, wall = restore_state(trainer, tensors, meta)
            if runtime.distributed:
                torch.manual_seed(cfg.seed + 1000 * runtime.rank + 1 + start)
            if runtime.is_main:
                run.truncate_metrics(start)
                if cfg.steps != meta["options"]["steps"]:
                    created = run.read_options().get("created")
                    run.write_options(cls.FAMILY, cfg.to_dict(), cfg.command(), {"created": created})
        if start >= cfg.steps:
            print(f"{run.path} already has {start} steps; raise --steps to train further.")
            return 0
        return run_training(trainer, start, wall)
    finally:
        runtime.close()


def _share_run(run: RunFolder | None, runtime) -> RunFolder:  # noqa: ANN001
    if not runtime.distributed:
        assert run is not None
        return run
    import torch.distributed as dist

    holder = [str(run.path) if run is not None else None]
    dist.broadcast_object_list(holder, src=0)
    return RunFolder(os.fspath(holder[0]))
