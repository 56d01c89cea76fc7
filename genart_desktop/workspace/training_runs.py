"""The app's training queue: ``genart-train`` children run one at a time, in the order they were asked for.

Why one at a time: a training uses every core it is given; two at once would each take twice as long and make
both time estimates wrong. Why a child process: the app never imports torch (seconds to import, gigabytes of
memory), and a training that crashes must not take the painting with it.

A job goes WAITING -> RUNNING (-> STOPPING -> STOPPED, resumable) -> EXPORTING -> DONE, or FAILED with one line
saying why. DONE means ``genart-train export`` wrote the model folder into the user models folder (with its
ONNX-vs-PyTorch parity check) and the registry found it usable. The child's output is read on reader threads;
everything here, and every Signal, happens on the thread that calls :meth:`TrainingRuns.deliver` (the GUI thread
in the app, from a timer).
"""

from __future__ import annotations

import itertools
import logging
import queue
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from genart_desktop.core.errors import GenArtError
from genart_desktop.core.observable import Signal
from genart_desktop.core.paths import user_models_dir
from genart_desktop.core.text import shown
from genart_desktop.workspace.training_process import ChildProcess
from genart_desktop.workspace.training_progress import TrainingState, parse_line
from genart_desktop.workspace.training_spec import (
    TrainingSpec,
    command_line,
    default_program,
    export_arguments,
    free_model_id,
    resume_arguments,
    runs_folder,
    train_arguments,
)
from genart_desktop.workspace.training_speeds import SpeedBook

log = logging.getLogger(__name__)

WAITING, RUNNING, STOPPING, STOPPED = "waiting", "running", "stopping", "stopped"
EXPORTING, DONE, FAILED, CANCELLED = "exporting", "done", "failed", "cancelled"
ACTIVE_STATES = (RUNNING, STOPPING, EXPORTING)
SPEEDS_FILE = "speeds.json"
RESTARTABLE_STATES = (STOPPED, FAILED, CANCELLED)


@dataclass(eq=False)
class TrainingJob:
    """One queued training and everything its child has reported (see :class:`TrainingState`)."""

    job_id: int
    spec: TrainingSpec
    order: int
    state: str = WAITING
    progress: TrainingState = field(default_factory=TrainingState)
    message: str = ""
    resume_run: Path | None = None  # a run folder with a checkpoint: Resume continues it
    export_pending: bool = False  # training finished but the export failed: Resume exports again
    model_id: str | None = None
    model_folder: Path | None = None

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES

    @property
    def can_stop(self) -> bool:
        return self.state in (WAITING, RUNNING)

    @property
    def can_resume(self) -> bool:
        return self.state in RESTARTABLE_STATES

    @property
    def fraction(self) -> float:
        total = self.progress.total or self.spec.steps
        return min(1.0, self.progress.step / total) if total else 0.0


@dataclass
class _Stage:
    job: TrainingJob
    child: ChildProcess
    reads_progress: bool
    exited: Callable[[TrainingJob, int, ChildProcess], None]


class TrainingRuns:
    """The queue. ``program`` is how ``genart-train`` is started (tests pass a fake trainer script)."""

    def __init__(self, registry: Any = None, *, program: Sequence[str] | None = None, runs_dir: Path | None = None,
                 models_dir: Path | None = None) -> None:
        self.registry = registry
        self.program = tuple(program) if program is not None else default_program()
        self._runs_dir = runs_dir
        self._models_dir = models_dir
        self.jobs: list[TrainingJob] = []
        self._ids = itertools.count(1)
        self._orders = itertools.count(1)
        self._stage: _Stage | None = None
        self._speeds: SpeedBook | None = None  # steps per second measured on this machine, by TrainingSpec.speed_key
        self.changed = Signal()  # (job): added, a new state, a step, a sample...
        self.removed = Signal()  # (job)
        self.model_added = Signal()  # (job): exported, registered and usable; job.model_id names it

    @property
    def runs_dir(self) -> Path:
        return self._runs_dir if self._runs_dir is not None else runs_folder()

    @property
    def speeds(self) -> SpeedBook:
        if self._speeds is None:
            self._speeds = SpeedBook(self.runs_dir / SPEEDS_FILE)
        return self._speeds

    @property
    def models_dir(self) -> Path:
        return self._models_dir if self._models_dir is not None else user_models_dir()

    # -- asking --------------------------------------------------------------------------------------------------
    def submit(self, spec: TrainingSpec) -> TrainingJob:
        """Queue ``spec``; it starts at once when nothing else is training."""
        job = TrainingJob(next(self._ids), spec, next(self._orders), progress=TrainingState(total=spec.steps))
        self.jobs.append(job)
        self.changed.emit(job)
        self._start_next()
        return job

    def stop(self, job: TrainingJob) -> None:
        """A running job saves a checkpoint and stops (resumable); a waiting one leaves the queue."""
        if job.state == RUNNING and self._stage is not None and self._stage.job is job:
            job.state, job.message = STOPPING, "Stopping after this step and saving a checkpoint\u2026"
            self._stage.child.interrupt()
        elif job.state == WAITING:
            job.state, job.message = CANCELLED, "Taken off the queue."
        else:
            return
        self.changed.emit(job)

    def resume(self, job: TrainingJob) -> None:
        """Queue a stopped, failed or cancelled job again: from its checkpoint when it has one."""
        if not job.can_resume:
            return
        job.state, job.order, job.message = WAITING, next(self._orders), ""
        job.progress.outcome = None
        self.changed.emit(job)
        self._start_next()

    def remove(self, job: TrainingJob) -> None:
        """Forget a job that is not running (its run folder stays on disk)."""
        if job.active or job not in self.jobs:
            return
        self.jobs.remove(job)
        self.removed.emit(job)

    # -- state -----------------------------------------------------------------------------------------------------
    @property
    def current(self) -> TrainingJob | None:
        return self._stage.job if self._stage is not None else None

    def waiting(self) -> list[TrainingJob]:
        return sorted((job for job in self.jobs if job.state == WAITING), key=lambda job: job.order)

    @property
    def busy(self) -> bool:
        return self._stage is not None or bool(self.waiting())

    def estimate_s(self, spec: TrainingSpec) -> float | None:
        """Seconds ``spec`` should take, from the speed measured by an earlier run like it (None: not measured)."""
        speed = self.speeds.get(spec.speed_key())
        return spec.steps / speed if speed else None

    # -- the child's news, on the caller's thread ---------------------------------------------------------------------
    def deliver(self) -> None:
        """Apply what the running child wrote since the last call, finish it when it exited, start the next job.
        One ``changed`` per call however many lines arrived (a busy GUI thread may find hundreds waiting)."""
        stage = self._stage
        if stage is None:
            return
        changed = False
        try:
            while True:
                line = stage.child.lines.get_nowait()
                if line is None:
                    self._stage = None
                    stage.exited(stage.job, stage.child.wait(), stage.child)
                    changed = True
                    break
                update = parse_line(line) if stage.reads_progress else None
                if update is not None:
                    update.apply(stage.job.progress)
                    self._measured(stage.job)
                    changed = True
        except queue.Empty:
            pass
        if changed:
            self.changed.emit(stage.job)
        if self._stage is None:
            self._start_next()

    def _measured(self, job: TrainingJob) -> None:
        if job.progress.steps_per_s:
            self.speeds.record(job.spec.speed_key(), job.progress.steps_per_s)

    def wait_idle(self, timeout_s: float, poll_s: float = 0.05) -> bool:
        """Deliver until no job runs or waits (tests and the CLI; the app uses a timer). True when idle."""
        deadline = time.monotonic() + timeout_s
        while self.busy and time.monotonic() < deadline:
            self.deliver()
            time.sleep(poll_s)
        self.deliver()
        return not self.busy

    # -- closing the app -----------------------------------------------------------------------------------------------
    def close(self, stop: bool) -> list[str]:
        """The app is closing. ``stop``: the running training saves a checkpoint and ends (an export finishes);
        else it keeps running on its own. Waiting jobs are dropped. Returns one line per child left running."""
        notes = []
        stage, self._stage = self._stage, None
        for job in self.waiting():
            job.state = CANCELLED
        if stage is None:
            return notes
        job, run = stage.job, stage.job.progress.run_dir
        if stop and job.state in (RUNNING, STOPPING):
            stage.child.interrupt()
            if run is not None:
                notes.append(f"{job.spec.name} saves a checkpoint and stops; continue it later with: "
                             f"{command_line(('genart-train', job.spec.family, '--resume'), [str(run)])}")
        elif job.state == EXPORTING:
            notes.append(f"{job.spec.name} is being exported to {job.model_folder}; it appears in the models "
                         "the next time the app starts.")
        else:
            notes.append(f"{job.spec.name} keeps training (process {stage.child.pid}); when it finishes, export "
                         f"it with: {self.export_command(job)}")
        stage.child.detach()
        return notes

    def export_command(self, job: TrainingJob) -> str:
        """The command that exports ``job``'s run by hand (after the app closed while it trained)."""
        run = job.progress.run_dir if job.progress.run_dir is not None else self.runs_dir / "RUN"
        return command_line(("genart-train",), export_arguments(run, self.models_dir / job.spec.model_id,
                                                                job.spec.model_id, job.spec.name))

    # -- stages --------------------------------------------------------------------------------------------------------
    def _start_next(self) -> None:
        if self._stage is not None:
            return
        waiting = self.waiting()
        if not waiting:
            return
        job = waiting[0]
        if job.export_pending:
            self._export(job)
            return
        if job.resume_run is not None:
            arguments = resume_arguments(job.spec, job.resume_run)
        else:
            job.progress = TrainingState(total=job.spec.steps)
            arguments = train_arguments(job.spec, self.runs_dir)
        job.state = RUNNING
        self._spawn(job, arguments, True, self._training_exited)

    def _spawn(self, job: TrainingJob, arguments: list[str], reads_progress: bool,
               exited: Callable[[TrainingJob, int, ChildProcess], None]) -> None:
        stem = self.runs_dir / "logs" / f"{time.strftime('%Y%m%d-%H%M%S')}-job{job.job_id}-{arguments[0]}"
        try:
            child = ChildProcess([*self.program, *arguments], stem)
        except OSError as exc:
            job.state, job.message = FAILED, f"Cannot start genart-train: {exc.strerror or exc}."
            self.changed.emit(job)
            self._start_next()
            return
        self._stage = _Stage(job, child, reads_progress, exited)
        self.changed.emit(job)

    def _training_exited(self, job: TrainingJob, code: int, child: ChildProcess) -> None:
        progress = job.progress
        if progress.steps_per_s:
            self.speeds.save()
        if progress.run_dir is not None and (progress.checkpoint is not None or progress.outcome == "stopped"):
            job.resume_run = progress.run_dir
        if progress.outcome == "done" and code == 0:
            job.resume_run = None
            self._export(job)
        elif progress.outcome == "stopped" or job.state == STOPPING:
            job.state = STOPPED
            job.message = (f"Stopped at step {progress.step}; Resume continues from the checkpoint."
                           if job.resume_run is not None else "Stopped before the first checkpoint.")
        else:
            job.state = FAILED
            job.message = progress.message or child.error_line() or \
                f"genart-train ended (exit code {code}) without finishing; see {shown(child.stderr_path)}."

    def _export(self, job: TrainingJob) -> None:
        run = job.progress.run_dir
        assert run is not None  # a "done" line names its run
        job.model_id = free_model_id(job.spec.model_id, self._taken)
        job.model_folder = self.models_dir / job.model_id
        job.state, job.export_pending = EXPORTING, False
        job.message = f"Exporting {job.model_id} (with the ONNX parity check)\u2026"
        self._spawn(job, export_arguments(run, job.model_folder, job.model_id, job.spec.name), False,
                    self._export_exited)

    def _export_exited(self, job: TrainingJob, code: int, child: ChildProcess) -> None:
        if code != 0:
            job.state, job.export_pending = FAILED, True
            job.message = f"Export failed: {child.error_line() or f'exit code {code}'} (Resume exports again)."
            return
        problem = self._register(job)
        if problem:
            job.state, job.export_pending, job.message = FAILED, True, problem
            return
        job.state, job.message = DONE, f"Ready: {job.model_id} is in your models."
        self.model_added.emit(job)

    def _register(self, job: TrainingJob) -> str:
        """Rescan the registry and check the new model is usable; the reason when it is not."""
        if self.registry is None:
            return ""
        try:
            self.registry.rescan()
            self.registry.get(job.model_id)
        except (GenArtError, OSError) as exc:
            return f"The exported model cannot be used: {exc}"
        return ""

    def _taken(self, model_id: str) -> bool:
        if (self.models_dir / model_id).exists():
            return True
        if self.registry is None:
            return False
        try:
            return any(entry.id == model_id for entry in self.registry.entries())
        except (GenArtError, OSError):
            return False
