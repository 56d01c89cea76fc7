"""The shared training loop: progress bar, logging, sample intervals, checkpoints, Ctrl+C and resume."""

from __future__ import annotations

import contextlib
import math
import signal
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator

from tqdm import tqdm

from genart_desktop.training.checkpoint import (checkpoint_path, prune_checkpoints, restore_rng, rng_tensors,
                                                save_checkpoint)
from genart_desktop.training.trainer import Trainer

INTERRUPTED = 130


class StopFlag:
    """The first Ctrl+C asks the loop to stop after the current step; a second one stops at once."""

    def __init__(self) -> None:
        self.requested = False

    def _handler(self, signum, frame) -> None:  # noqa: ANN001 - signal handler signature
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        tqdm.write("Stopping after this step and saving a checkpoint (press Ctrl+C again to abort at once)...")

    @contextlib.contextmanager
    def installed(self) -> Iterator[StopFlag]:
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        previous = signal.signal(signal.SIGINT, self._handler)
        try:
            yield self
        finally:
            signal.signal(signal.SIGINT, previous)


def save_state(trainer: Trainer, step: int, wall_time: float) -> None:
    if not trainer.runtime.is_main or trainer.run is None:
        return
    tensors, extra = trainer.state()
    tensors.update(rng_tensors())
    meta = {"step": step, "family": trainer.family, "options": trainer.cfg.to_dict(), "wall_time_s": wall_time,
            "precision": trainer.runtime.precision, "hardware": trainer.runtime.hardware(), "trainer": extra}
    save_checkpoint(checkpoint_path(trainer.run.checkpoints_dir, step), tensors, meta)
    prune_checkpoints(trainer.run.checkpoints_dir, trainer.cfg.keep_checkpoints)


def restore_state(trainer: Trainer, tensors: dict, meta: dict) -> tuple[int, float]:
    trainer.load_state(tensors, meta.get("trainer", {}))
    restore_rng(tensors)
    return int(meta["step"]), float(meta.get("wall_time_s", 0.0))


def run_training(trainer: Trainer, start_step: int = 0, wall_time: float = 0.0,
                 on_step: Callable[[int], None] | None = None) -> int:
    """Train from ``start_step`` to ``cfg.steps``; returns 0 when done, 130 when stopped by Ctrl+C (state saved)."""
    cfg, run, runtime = trainer.cfg, trainer.run, trainer.runtime
    main = runtime.is_main and run is not None
    sums: dict[str, float] = defaultdict(float)
    counted = 0
    flag = StopFlag()
    step = start_step
    began = time.perf_counter()
    if main:
        run.log(f"training {trainer.family} from step {start_step} to {cfg.steps} on {runtime.hardware()} "
                f"in {runtime.precision}")
    bar = tqdm(total=cfg.steps, initial=start_step, unit="step", dynamic_ncols=True, disable=not runtime.is_main,
               desc=f"{trainer.family} {run.path.name if run else ''}".strip())
    stopped = False
    try:
        with flag.installed():
            while step < cfg.steps:
                losses = trainer.train_step(step)
                step += 1
                bar.update(1)
                for key, value in losses.items():
                    sums[key] += value
                counted += 1
                if on_step is not None:
                    on_step(step)
                if step % cfg.log_every == 0 or step == cfg.steps:
                    averages = {k: runtime.all_mean(v / counted) for k, v in sums.items()}
                    sums.clear()
                    counted = 0
                    bar.set_postfix({k: f"{v:.3g}" for k, v in averages.items()}, refresh=False)
                    if main:
                        run.append_metrics(step, averages)
                        run.plot(trainer.plots, trainer.plot_references())
                    bad = [k for k, v in averages.items() if not math.isfinite(v)]
                    if bad:
                        if main:
                            run.log(f"step {step}: {', '.join(bad)} became NaN/inf; stopping without a checkpoint")
                        raise FloatingPointError(f"Training diverged at step {step} ({', '.join(bad)} is not a "
                                                 "number); lower --lr or resume from the last checkpoint.")
                if step % cfg.sample_every == 0 or step == cfg.steps:
                    _evaluate(trainer, step)
                if step % cfg.checkpoint_every == 0 or step == cfg.steps or flag.requested:
                    save_state(trainer, step, wall_time + time.perf_counter() - began)
                    runtime.barrier()
                if flag.requested:
                    stopped = True
                    break
    except KeyboardInterrupt:
        stopped = True
        if main:
            run.log(f"aborted during step {step + 1}; the last saved checkpoint is kept")
    finally:
        bar.close()
    if main:
        elapsed = wall_time + time.perf_counter() - began
        if stopped:
            run.log(f"stopped at step {step}; resume with: genart-train {trainer.family} --resume {run.path}")
            print(f"Stopped at step {step}. Resume with: genart-train {trainer.family} --resume {run.path}")
        else:
            run.log(f"finished {step} steps in {elapsed:.0f} s of training")
            print(f"Finished {step} steps. Export with: genart-train export {run.path}")
    return INTERRUPTED if stopped else 0


def _evaluate(trainer: Trainer, step: int) -> None:
    if not trainer.runtime.is_main or trainer.run is None:
        return
    measures = trainer.evaluate(step)
    if measures:
        trainer.run.append_metrics(step, measures)
        trainer.run.write_json("quality.json", {"step": step, **measures})
        trainer.run.plot(trainer.plots, trainer.plot_references())
