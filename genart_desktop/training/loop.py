"""The shared training loop: progress (bar or JSON lines), logging, sample intervals, checkpoints, Ctrl+C and resume."""

from __future__ import annotations

import contextlib
import math
import signal
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path

from tqdm import tqdm

from genart_desktop.training.checkpoint import (
    checkpoint_path,
    list_checkpoints,
    prune_checkpoints,
    restore_rng,
    rng_tensors,
    save_checkpoint,
)
from genart_desktop.training.progress import BarProgress, Progress
from genart_desktop.training.trainer import Trainer

INTERRUPTED = 130
# Ctrl+C, and on Windows the Ctrl+Break a parent process can send to a child in its own process group.
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGBREAK") if hasattr(signal, name))


class StopFlag:
    """The first Ctrl+C asks the loop to stop after the current step; a second one stops at once."""

    def __init__(self) -> None:
        self.requested = False

    def _handler(self, signum, frame) -> None:  # noqa: ANN001 - signal handler signature
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        tqdm.write("Stopping after this step and saving a checkpoint (press Ctrl+C again to abort at once)...",
                   file=sys.stderr)

    @contextlib.contextmanager
    def installed(self) -> Iterator[StopFlag]:
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        previous = {number: signal.signal(number, self._handler) for number in STOP_SIGNALS}
        try:
            yield self
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)


def save_state(trainer: Trainer, step: int, wall_time: float) -> Path | None:
    """Write the step's checkpoint (main process only) and return its path."""
    if not trainer.runtime.is_main or trainer.run is None:
        return None
    tensors, extra = trainer.state()
    tensors.update(rng_tensors())
    meta = {"step": step, "family": trainer.family, "options": trainer.cfg.to_dict(), "wall_time_s": wall_time,
            "precision": trainer.runtime.precision, "hardware": trainer.runtime.hardware(), "trainer": extra}
    path = checkpoint_path(trainer.run.checkpoints_dir, step)
    save_checkpoint(path, tensors, meta)
    prune_checkpoints(trainer.run.checkpoints_dir, trainer.cfg.keep_checkpoints)
    return path


def restore_state(trainer: Trainer, tensors: dict, meta: dict) -> tuple[int, float]:
    trainer.load_state(tensors, meta.get("trainer", {}))
    restore_rng(tensors)
    return int(meta["step"]), float(meta.get("wall_time_s", 0.0))


def run_training(trainer: Trainer, start_step: int = 0, wall_time: float = 0.0,
                 on_step: Callable[[int], None] | None = None, progress: Progress | None = None,
                 stop: StopFlag | None = None) -> int:
    """Train from ``start_step`` to ``cfg.steps``; returns 0 when done, 130 when stopped by Ctrl+C (state saved).

    ``stop`` may already be installed by the caller (so a Ctrl+C while the data and networks load stops cleanly
    too: the loop then saves the starting state and stops before the first step).
    """
    cfg, run, runtime = trainer.cfg, trainer.run, trainer.runtime
    main = runtime.is_main and run is not None
    report = (progress or BarProgress()) if main else Progress()
    sums: dict[str, float] = defaultdict(float)
    counted = 0
    flag = stop or StopFlag()
    step = start_step
    began = time.perf_counter()
    if main:
        run.log(f"training {trainer.family} from step {start_step} to {cfg.steps} on {runtime.hardware()} "
                f"in {runtime.precision}")
        report.start(run.path, trainer.family, start_step, cfg.steps)
    stopped = False
    saved = -1
    try:
        with flag.installed() if stop is None else contextlib.nullcontext():
            while step < cfg.steps and not flag.requested:
                losses = trainer.train_step(step)
                step += 1
                report.advance(step)
                for key, value in losses.items():
                    sums[key] += value
                counted += 1
                if on_step is not None:
                    on_step(step)
                if step % cfg.log_every == 0 or step == cfg.steps:
                    averages = {k: runtime.all_mean(v / counted) for k, v in sums.items()}
                    sums.clear()
                    counted = 0
                    if main:
                        run.append_metrics(step, averages)
                        run.plot(trainer.plots, trainer.plot_references())
                        seconds = time.perf_counter() - began
                        report.step(step, cfg.steps, averages, wall_time + seconds, (step - start_step) / seconds)
                    bad = [k for k, v in averages.items() if not math.isfinite(v)]
                    if bad:
                        if main:
                            run.log(f"step {step}: {', '.join(bad)} became NaN/inf; stopping without a checkpoint")
                        raise FloatingPointError(f"Training diverged at step {step} ({', '.join(bad)} is not a "
                                                 "number); lower --lr or resume from the last checkpoint.")
                if step % cfg.sample_every == 0 or step == cfg.steps:
                    _evaluate(trainer, step, report)
                if step % cfg.checkpoint_every == 0 or step == cfg.steps or flag.requested:
                    _checkpoint(trainer, step, wall_time + time.perf_counter() - began, report)
                    saved = step
            if flag.requested:
                stopped = True
                if saved != step:  # stopped before the first step, or between a step's checks: save it now
                    _checkpoint(trainer, step, wall_time + time.perf_counter() - began, report)
    except KeyboardInterrupt:
        stopped = True
        kept = list_checkpoints(run.checkpoints_dir) if main else []
        step = kept[-1][0] if kept else start_step
        if main:
            run.log(f"aborted; the last saved checkpoint (step {step}) is kept")
    if main:
        elapsed = wall_time + time.perf_counter() - began
        if stopped:
            run.log(f"stopped at step {step}; resume with: genart-train {trainer.family} --resume {run.path}")
        else:
            run.log(f"finished {step} steps in {elapsed:.0f} s of training")
        report.finish(step, run.path, trainer.family, stopped)
    return INTERRUPTED if stopped else 0


def _checkpoint(trainer: Trainer, step: int, wall_time: float, report: Progress) -> None:
    path = save_state(trainer, step, wall_time)
    trainer.runtime.barrier()
    if path is not None:
        report.checkpoint(step, path)


def _evaluate(trainer: Trainer, step: int, report: Progress) -> None:
    if not trainer.runtime.is_main or trainer.run is None:
        return
    measures = trainer.evaluate(step)
    grid = trainer.run.sample_path(step)
    if grid.is_file():
        report.sample(step, grid)
    if measures:
        trainer.run.append_metrics(step, measures)
        trainer.run.write_json("quality.json", {"step": step, **measures})
        trainer.run.plot(trainer.plots, trainer.plot_references())
