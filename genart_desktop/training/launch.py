"""From parsed flags to a running trainer: options, --dry-run, --resume, --init-from, --progress, dataset, run
folder, runtime."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

import torch

from genart_desktop.core.errors import GenArtError, InputError
from genart_desktop.training.checkpoint import latest_checkpoint, load_checkpoint
from genart_desktop.training.config import TrainConfig, explicit_options
from genart_desktop.training.data.builder import build_dataset
from genart_desktop.training.data.cached import ImageDataset
from genart_desktop.training.data.store import is_dataset
from genart_desktop.training.device import resolve_runtime
from genart_desktop.training.init_source import InitSource, fine_tune_options, resolve_source
from genart_desktop.training.init_weights import apply_init
from genart_desktop.training.loop import StopFlag, restore_state, run_training
from genart_desktop.training.progress import progress_for
from genart_desktop.training.runs import RunFolder
from genart_desktop.training.trainer import Trainer

# Options that may change when a run is resumed; everything else would make the resumed run a different run.
RESUMABLE = {"steps", "log_every", "sample_every", "checkpoint_every", "keep_checkpoints", "threads", "device",
             "runs_dir"}


def resolve_config(args: argparse.Namespace, cls: type[TrainConfig]
                   ) -> tuple[TrainConfig, RunFolder | None, InitSource | None]:
    """The options (typed, stored by --resume, implied by --init-from), the resumed run and the init source.

    A resumed run keeps its ``init_from`` option but its checkpoint already holds the weights: no source then."""
    explicit = explicit_options(args, cls)
    run = source = None
    if getattr(args, "resume", None):
        run = RunFolder.open(args.resume)
        record = run.read_options()
        if record.get("family") != cls.FAMILY:
            raise InputError(f"{run.path} is a {record.get('family')} run, not a {cls.FAMILY} run.")
        stored = record["options"]
        resumable = RESUMABLE | getattr(cls, "RESUMABLE_EXTRA", frozenset())
        changed = sorted(k for k, v in explicit.items() if k not in resumable and stored.get(k) != v)
        if changed:
            flags = ", ".join("--" + k.replace("_", "-") for k in changed)
            raise InputError(f"{flags} cannot change when resuming; start a new run instead.")
        cfg = cls.from_dict({**stored, **explicit})
    elif explicit.get("init_from"):
        source = resolve_source(explicit["init_from"], cls)
        cfg = cls(**fine_tune_options(explicit, source, cls))
    else:
        cfg = cls(**explicit)
    cfg.validate()
    return cfg, run, source


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
    cfg, run, source = resolve_config(args, cls)
    if getattr(args, "dry_run", False):
        print(json.dumps({"family": cls.FAMILY, "options": cfg.to_dict(), "command": cfg.command(),
                          "resume": str(run.path) if run else None,
                          "init_from": str(source.folder) if source else None}, indent=2))
        return 0
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    runtime = resolve_runtime(cfg.device, cfg.precision)
    stop = StopFlag()  # installed from here on: a Ctrl+C while the data and networks load stops cleanly too
    try:
        with stop.installed():
            return _train(args, cls, trainer_cls, cfg, run, source, runtime, stop)
    finally:
        runtime.close()


def _train(args: argparse.Namespace, cls: type[TrainConfig], trainer_cls: type[Trainer], cfg: TrainConfig,
           run: RunFolder | None, source: InitSource | None, runtime, stop: StopFlag) -> int:  # noqa: ANN001
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
    if source is not None:
        try:
            record = apply_init(trainer.init_targets(), source)
        except GenArtError:
            if runtime.is_main:  # nothing was trained: leave no half-made run folder behind
                shutil.rmtree(run.path, ignore_errors=True)
            raise
        if runtime.is_main:
            created = run.read_options().get("created")
            run.write_options(cls.FAMILY, cfg.to_dict(), cfg.command(), {"created": created, "init_from": record})
            run.log(f"started from {source.label} ({source.kind}): reused {', '.join(record['reused'])}"
                    + (f"; fresh: {', '.join(record['started_fresh'])}" if record["started_fresh"] else "")
                    + (f"; left out: {', '.join(record['dropped'])}" if record.get("dropped") else ""))
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
                stored = run.read_options()
                extra = {k: stored[k] for k in ("created", "init_from") if k in stored}
                run.write_options(cls.FAMILY, cfg.to_dict(), cfg.command(), extra)
    progress = progress_for(args)
    if start >= cfg.steps:
        print(f"{run.path} already has {start} steps; raise --steps to train further.", file=sys.stderr)
        if runtime.is_main:
            progress.start(run.path, cls.FAMILY, start, cfg.steps)
            progress.finish(start, run.path, cls.FAMILY, stopped=False)
        return 0
    return run_training(trainer, start, wall, progress=progress, stop=stop)


def _share_run(run: RunFolder | None, runtime) -> RunFolder:  # noqa: ANN001
    if not runtime.distributed:
        assert run is not None
        return run
    import torch.distributed as dist

    holder = [str(run.path) if run is not None else None]
    dist.broadcast_object_list(holder, src=0)
    return RunFolder(os.fspath(holder[0]))
