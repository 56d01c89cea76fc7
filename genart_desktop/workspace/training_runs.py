"""The app's training queue: ``genart-train`` children run one at a time, in the order they were asked for.

Why one at a time: a training uses every core it is given; two at once would each take twice as long and make
both time estimates wrong. Why a child process: the app never imports torch (seconds to import, gigabytes of
memory), and a training that crashes must not take the painting with it.

A job goes WAITING -> RUNNING (-> STOPPING -> STOPPED, resumable) -> EXPORTING -> DONE, or FAILED with one line
saying why. DONE means ``genart-train export`` wrote the model folder into the user models folder (with its
ONNX-vs-PyTorch parity check) and the registry found it usable. The child's output is read on reader threads;
everything here, and every Signal, happens on the thread that calls :meth:`TrainingRuns.deliver` (the GUI thread
in the app, from a timer).

A training the person left running when the app closed is written down (training_kept) and adopted by the next
start (:meth:`TrainingRuns.adopt_kept`): followed from its log file while it runs, exported when it is done,
shown as stopped (with Resume) when it ended without finishing.
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
from genart_desktop.engine.cards import CARD_NAME
from genart_desktop.workspace.training_kept import (
    EXPORT,
    KEPT_FILE,
    TRAIN,
    KeptRun,
    load_kept,
    save_kept,
)
from genart_desktop.workspace.training_process import AdoptedProcess, ChildProcess
from genart_desktop.workspace.training_program import (
    Program,
    find_program,
    missing_training_message,
)
from genart_desktop.workspace.training_progress import TrainingState, parse_line
from genart_desktop.workspace.training_spec import (
    TrainingSpec,
    command_line,
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
Process = ChildProcess | AdoptedProcess


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


def default_program() -> Program | None:
    """How ``genart-train`` is started here, or None when it cannot be (see training_program)."""
    return find_program()


@dataclass
class _Stage:
    job: TrainingJob
    child: Process
    reads_progress: bool
    exited: Callable[[TrainingJob, int | None, Process], None]


class TrainingRuns:
    """The queue. ``program`` is how ``genart-train`` is started (tests pass a fake trainer script); by default it
    is looked up when first needed, and again while none is found (the extra may be installed meanwhile)."""

    def __init__(self, registry: Any = None, *, program: Sequence[str] | None = None, runs_dir: Path | None = None,
                 models_dir: Path | None = None) -> None:
        self.registry = registry
        self._program: Program | None = tuple(program) if program is not None else None
        self._program_found = program is not None
        self._runs_dir = runs_dir
        self._models_dir = models_dir
        self.jobs: list[TrainingJob] = []
        self._ids = itertools.count(1)
        self._orders = itertools.count(1)
        self._stage: _Stage | None = None
        self._adopted: list[_Stage] = []  # processes an earlier session left running, followed in turn
        self._speeds: SpeedBook | None = None  # steps per second measured on this machine, by TrainingSpec.speed_key
        self.changed = Signal()  # (job): added, a new state, a step, a sample...
        self.removed = Signal()  # (job)
        self.model_added = Signal()  # (job): exported, registered and usable; job.model_id names it

    @property
    def runs_dir(self) -> Path:
        return self._runs_dir if self._runs_dir is not None else runs_folder()

    @property
    def program(self) -> Program | None:
        if not self._program_found:
            self._program = default_program()
            self._program_found = self._program is not None
        return self._program

    @property
    def kept_path(self) -> Path:
        return self.runs_dir / KEPT_FILE

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
        stage = self._stage_of(job)
        if job.state == RUNNING and stage is not None:
            job.state, job.message = STOPPING, "Stopping after this step and saving a checkpoint\u2026"
            stage.child.interrupt()
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

    def _stage_of(self, job: TrainingJob) -> _Stage | None:
        return next((stage for stage in self._stages() if stage.job is job), None)

    def _stages(self) -> list[_Stage]:
        return ([self._stage] if self._stage is not None else []) + self._adopted

    def waiting(self) -> list[TrainingJob]:
        return sorted((job for job in self.jobs if job.state == WAITING), key=lambda job: job.order)

    @property
    def busy(self) -> bool:
        return self._stage is not None or bool(self._adopted) or bool(self.waiting())

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

    # -- closing the app, and the next start ---------------------------------------------------------------------
    def close(self, stop: bool) -> list[str]:
        """The app is closing. ``stop``: the running training saves a checkpoint and ends (an export finishes);
        else it keeps running on its own. Either way each process left behind is written down for the next start
        (:meth:`adopt_kept`). Waiting jobs are dropped. Returns one line per child left running."""
        stages, self._stage, self._adopted = self._stages(), None, []
        for job in self.waiting():
            job.state = CANCELLED
        notes = [self._leave(stage, stop) for stage in stages]
        self._write_kept([record for record in map(self._kept_record, stages) if record is not None])
        for stage in stages:
            stage.child.detach()
        return [note for note in notes if note]

    def _leave(self, stage: _Stage, stop: bool) -> str:
        job, run = stage.job, stage.job.progress.run_dir
        if stop and job.state in (RUNNING, STOPPING):
            stage.child.interrupt()
            if run is None:
                return ""
            return (f"{job.spec.name} saves a checkpoint and stops; continue it later with: "
                    f"{command_line(('genart-train', job.spec.family, '--resume'), [str(run)])}")
        if job.state == EXPORTING:
            return (f"{job.spec.name} is being exported to {job.model_folder}; it appears in the models the next "
                    "time the app starts.")
        return (f"{job.spec.name} keeps training (process {stage.child.pid}); the app makes it a model when it "
                f"next starts, or export it yourself once it is done with: {self.export_command(job)}")

    def _kept_record(self, stage: _Stage) -> KeptRun | None:
        """What the next start needs to follow ``stage``'s process (None where its identity is unknown)."""
        child, job = stage.child, stage.job
        if not child.identity:
            return None
        exporting = job.state == EXPORTING
        return KeptRun(EXPORT if exporting else TRAIN, child.pid, child.identity, child.stdout_path,
                       child.stderr_path, job.spec, job.progress.run_dir, job.model_id if exporting else None,
                       job.model_folder if exporting else None)

    def _write_kept(self, records: list[KeptRun]) -> None:
        if not records:
            return
        old = [run for run in load_kept(self.kept_path) if (run.pid, run.identity) not in
               {(record.pid, record.identity) for record in records}]  # not adopted by this session
        try:
            save_kept(self.kept_path, old + records)
        except (GenArtError, OSError) as exc:
            log.warning("Cannot write down the trainings left running in %s: %s", shown(self.kept_path), exc)

    def adopt_kept(self) -> list[TrainingJob]:
        """Take in the processes an earlier session left running: each job is shown at once and its log is read
        from the start; a training still running is followed, one that is done is exported and registered like
        any run, one that ended early is stopped (Resume continues it). The record file is emptied."""
        records = load_kept(self.kept_path)
        if not records:
            return []
        try:
            save_kept(self.kept_path, [])
        except OSError as exc:
            log.warning("Cannot empty %s (its trainings may be shown again): %s", shown(self.kept_path), exc)
        stages = [self._adopt(record) for record in records]
        self._adopted += sorted(stages, key=lambda stage: not stage.child.ended())  # the ended ones are quick
        self._start_next()
        return [stage.job for stage in stages]

    def _adopt(self, record: KeptRun) -> _Stage:
        job = TrainingJob(next(self._ids), record.spec, next(self._orders),
                          progress=TrainingState(run_dir=record.run_dir, total=record.spec.steps))
        child = AdoptedProcess(record.pid, record.identity, record.stdout, record.stderr)
        self.jobs.append(job)
        if record.kind == EXPORT:
            job.state, job.model_id, job.model_folder = EXPORTING, record.model_id, record.model_folder
            job.progress.step = record.spec.steps
            job.message = f"Exporting {job.model_id} (it was under way when the app closed)\u2026"
            stage = _Stage(job, child, False, self._export_exited)
        else:
            job.state, job.message = RUNNING, "Left running when the app closed; followed from its log."
            stage = _Stage(job, child, True, self._training_exited)
        self.changed.emit(job)
        return stage

    def export_command(self, job: TrainingJob) -> str:
        """The command that exports ``job``'s run by hand (after the app closed while it trained)."""
        run = job.progress.run_dir if job.progress.run_dir is not None else self.runs_dir / "RUN"
        return command_line(("genart-train",), export_arguments(run, self.models_dir / job.spec.model_id,
                                                                job.spec.model_id, job.spec.name))

    # -- stages --------------------------------------------------------------------------------------------------------
    def _start_next(self) -> None:
        if self._stage is not None:
            return
        if self._adopted:
            self._stage = self._adopted.pop(0)
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
               exited: Callable[[TrainingJob, int | None, Process], None]) -> None:
        stem = self.runs_dir / "logs" / f"{time.strftime('%Y%m%d-%H%M%S')}-job{job.job_id}-{arguments[0]}"
        program, child, problem = self.program, None, ""
        try:
            if program is None:
                problem = missing_training_message()
            else:
                child = ChildProcess([*program, *arguments], stem)
        except OSError as exc:
            problem = f"Cannot start genart-train: {exc.strerror or exc}."
        if child is None:
            job.state, job.message = FAILED, problem
            self.changed.emit(job)
            self._start_next()
            return
        self._stage = _Stage(job, child, reads_progress, exited)
        self.changed.emit(job)

    def _training_exited(self, job: TrainingJob, code: int | None, child: Process) -> None:
        """``code`` None: an adopted process, whose exit code went with the app that started it."""
        progress = job.progress
        if progress.steps_per_s:
            self.speeds.save()
        if progress.run_dir is not None and (progress.checkpoint is not None or progress.outcome == "stopped"):
            job.resume_run = progress.run_dir
        if progress.outcome == "done" and code in (0, None):
            job.resume_run = None
            self._export(job)
        elif code is None and progress.outcome is None:
            job.state = STOPPED
            job.message = (f"It ended at step {progress.step} while the app was closed; Resume continues from its "
                           "last checkpoint." if job.resume_run is not None else
                           "It ended before its first checkpoint while the app was closed; Resume starts it again.")
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

    def _export_exited(self, job: TrainingJob, code: int | None, child: Process) -> None:
        reason = f"exit code {code}"
        if code is None:  # adopted: the export moves its folder into place only once it is complete
            complete = job.model_folder is not None and (job.model_folder / CARD_NAME).is_file()
            code, reason = (0, "") if complete else (2, "it ended without writing the model")
        if code != 0:
            job.state, job.export_pending = FAILED, True
            job.message = f"Export failed: {child.error_line() or reason} (Resume exports again)."
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
