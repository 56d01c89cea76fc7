"""Background jobs: a request in, a stream of events out, on worker threads that never touch the GUI.

A request carries data (a frozen payload dataclass such as a diffusion job); the runner's ``execute(payload,
context)`` turns it into work. The workspace registers one executor per payload type; the plain runner (tests,
housekeeping) calls the payload itself. The work may return its result directly, or be a generator: every
``yield`` is a cancellation point, and what it yields is reported (a float or ``(fraction, message)`` becomes
Progress, an array becomes Preview, ``None`` is just a checkpoint); the generator's ``return`` value is the result.
Cancelling is cooperative between steps and, inside one long ONNX run, goes through onnxruntime's
``RunOptions.terminate`` (pass ``context.run_options`` to ``ModelSession.run``).

Listeners are called on the worker thread (or, for a job cancelled before it started, on the thread that cancelled
or replaced it); the Qt bridge in ``ui`` marshals them to the GUI thread.
"""

from __future__ import annotations

import atexit
import collections
import dataclasses
import inspect
import itertools
import logging
import threading
import weakref
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np
import onnxruntime as ort

from genart_desktop.core.errors import GenArtError, JobCancelled
from genart_desktop.engine.events import Cancelled, Error, JobEvent, Preview, Progress, Result
from genart_desktop.engine.job_limits import JobLimits, inline_limit

log = logging.getLogger(__name__)

Listener = Callable[[JobEvent], None]
REPLACED = "replaced by a newer request"


MAIN_LANE = "main"


@dataclass(frozen=True)
class JobRequest:
    """What to run. Requests sharing a ``coalesce_key`` replace each other while still waiting in the queue.

    ``payload`` is what the runner's ``execute`` receives (data; a callable for the plain runner). ``listed`` False
    marks housekeeping the user did not ask for (thumbnails): it runs and reports like any job, but a jobs list
    leaves it out (:meth:`JobRunner.is_listed`). ``lane`` picks the worker: interactive work (latent grids) runs
    in its own lane so it never waits behind a long diffusion batch.
    """

    payload: Any
    label: str = "Job"
    coalesce_key: Hashable | None = None
    listed: bool = True
    lane: str = MAIN_LANE
    time_limit: float | None = None  # seconds of wall clock before the job is stopped (job_limits.py)


Execute = Callable[[Any, "JobContext"], Any]


def call_payload(payload: Any, context: JobContext) -> Any:
    """The plain runner's executor: the payload is the work itself."""
    if not callable(payload):
        raise TypeError(f"this runner runs callables; got a {type(payload).__name__} (use the workspace's runner)")
    return payload(context)


def freeze(value: Any) -> Any:
    """Make numpy arrays (also inside tuples, lists, dicts and dataclasses) read-only before they leave the worker thread."""
    if isinstance(value, np.ndarray):
        value.flags.writeable = False
        return value
    if isinstance(value, (list, tuple)):
        for item in value:
            freeze(item)
    elif isinstance(value, dict):
        for item in value.values():
            freeze(item)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for item in dataclasses.fields(value):
            freeze(getattr(value, item.name, None))
    return value


class JobContext:
    """What a running job sees: cancellation, progress/preview reporting and its onnxruntime RunOptions."""

    def __init__(self, job_id: int, label: str, emit: Listener) -> None:
        self.job_id = job_id
        self.label = label
        self.run_options = ort.RunOptions()
        self._emit = emit
        self._cancelled = threading.Event()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def cancel(self) -> None:
        self._cancelled.set()
        self.run_options.terminate = True  # stops an ONNX run in progress between two nodes

    def check_cancelled(self) -> None:
        if self._cancelled.is_set():
            raise JobCancelled(f"{self.label} was cancelled.")

    def progress(self, fraction: float, message: str = "") -> None:
        self.check_cancelled()
        self._emit(Progress(self.job_id, min(1.0, max(0.0, float(fraction))), message))

    def preview(self, image: np.ndarray) -> None:
        """Report an intermediate image; a read-only copy is sent so the job may keep changing its own array."""
        self.check_cancelled()
        copy = np.array(image, copy=True)
        copy.flags.writeable = False
        self._emit(Preview(self.job_id, copy))


def _drive(work: Callable[[JobContext], Any], context: JobContext) -> Any:
    context.check_cancelled()
    outcome = work(context)
    if not inspect.isgenerator(outcome):
        return outcome
    while True:
        context.check_cancelled()
        try:
            item = next(outcome)
        except StopIteration as stop:
            return stop.value
        if item is None:
            continue
        if isinstance(item, np.ndarray):
            context.preview(item)
        elif isinstance(item, tuple) and len(item) == 2:
            context.progress(item[0], str(item[1]))
        elif isinstance(item, (int, float)):
            context.progress(item)
        else:
            outcome.close()
            raise TypeError(f"a job yielded {type(item).__name__}; yield a fraction, (fraction, message), an "
                            "array or None")


def _terminal_event(job_id: int, label: str, context: JobContext, work: Callable[[JobContext], Any]) -> JobEvent:
    try:
        value = _drive(work, context)
    except JobCancelled as exc:
        return Cancelled(job_id, str(exc))
    except BaseException as exc:  # noqa: BLE001 - every failure must reach the caller as an event
        if context.cancelled:
            return Cancelled(job_id, f"{label} was cancelled.")
        if isinstance(exc, GenArtError):
            return Error(job_id, str(exc), exc)
        log.error("%s failed", label, exc_info=exc)
        return Error(job_id, f"{label} failed: {type(exc).__name__}: {exc}", exc)
    if context.cancelled:
        return Cancelled(job_id, f"{label} was cancelled.")
    return Result(job_id, freeze(value))


def _work_of(request: JobRequest, execute: Execute) -> Callable[[JobContext], Any]:
    return lambda context: execute(request.payload, context)


def run_inline(request: JobRequest, listener: Listener | None = None, execute: Execute = call_payload) -> Any:
    """Run a job on the calling thread (command line, tests): returns its result or raises its error."""
    context = JobContext(0, request.label, listener or (lambda event: None))
    with JobLimits(context, inline_limit(request.time_limit), sigint=True) as limits:  # Ctrl+C cancels the job
        event = limits.verdict(_terminal_event(0, request.label, context, _work_of(request, execute)))
    if listener is not None:
        listener(event)
    if isinstance(event, Result):
        return event.value
    if isinstance(event, Cancelled):
        raise limits.cancelled(event.reason or f"{request.label} was cancelled.")
    if event.exception is not None:
        raise event.exception
    raise GenArtError(event.message)


class JobHandle:
    """The caller's view of one submitted job."""

    def __init__(self, job_id: int, request: JobRequest, listener: Listener | None, runner: JobRunner) -> None:
        self.job_id = job_id
        self.request = request
        self.listener = listener
        self.state = "pending"  # pending -> running -> done | failed | cancelled
        self.outcome: JobEvent | None = None
        self._runner = runner
        self._done = threading.Event()
        self.context = JobContext(job_id, request.label, self._emit)

    @property
    def label(self) -> str:
        return self.request.label

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def cancel(self) -> bool:
        return self._runner.cancel(self.job_id)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job has ended (never call this on the GUI thread); False on timeout."""
        return self._done.wait(timeout)

    def result(self, timeout: float | None = None) -> Any:
        if not self.wait(timeout):
            raise TimeoutError(f"{self.label} is still running.")
        if isinstance(self.outcome, Result):
            return self.outcome.value
        if isinstance(self.outcome, Cancelled):
            raise JobCancelled(self.outcome.reason or f"{self.label} was cancelled.")
        assert isinstance(self.outcome, Error)
        raise self.outcome.exception if self.outcome.exception is not None else GenArtError(self.outcome.message)

    def _emit(self, event: JobEvent) -> None:
        self._runner._deliver(self, event)

    def _finish(self, event: JobEvent) -> None:
        self.outcome = event
        self.state = {Result: "done", Error: "failed", Cancelled: "cancelled"}[type(event)]
        self._runner._deliver(self, event)
        self._done.set()


def preload_job_modules() -> None:
    """Import, on the calling (GUI) thread, the extension modules that jobs load lazily.

    A first-time import of an extension module inside a worker thread was seen to hang for good while a Qt event
    loop ran in the main thread, so everything jobs need is loaded before the first worker starts.
    """
    import numpy.random  # noqa: F401 - default_rng in samplers and latent code
    import onnxruntime  # noqa: F401
    from PIL import Image

    Image.init()  # all of Pillow's format plugins


_live_runners: weakref.WeakSet[JobRunner] = weakref.WeakSet()


@atexit.register
def _shutdown_live_runners() -> None:
    """Stop every runner's work before the interpreter tears down: a worker still inside an onnxruntime run at exit
    makes the process abort ("terminate called without an active exception")."""
    for runner in list(_live_runners):
        runner.shutdown(wait=True, timeout=5.0)


class JobRunner:
    """A queue served by ``workers`` threads for the main lane (one by default: sessions are already multi-threaded
    inside) and one thread for each extra lane in ``lanes``; ``execute(payload, context)`` runs each request."""

    def __init__(self, workers: int = 1, name: str = "genart-jobs", *, execute: Execute = call_payload,
                 lanes: tuple[str, ...] = ()) -> None:
        if workers < 1:
            raise ValueError("a JobRunner needs at least one worker")
        preload_job_modules()
        self._execute = execute
        self._lanes = (MAIN_LANE, *[lane for lane in lanes if lane != MAIN_LANE])
        self._pending: collections.deque[JobHandle] = collections.deque()
        self._running: dict[int, JobHandle] = {}
        self._listeners: list[Listener] = []
        self._unlisted: set[int] = set()  # ids of housekeeping jobs (one int each, kept for late events)
        self._cond = threading.Condition()
        self._ids = itertools.count(1)
        self._closed = False
        served = [(MAIN_LANE, f"{name}-{i}") for i in range(workers)] + [(lane, f"{name}-{lane}")
                                                                          for lane in self._lanes[1:]]
        self._threads = [threading.Thread(target=self._serve, args=(lane,), name=thread_name, daemon=True)
                         for lane, thread_name in served]
        for thread in self._threads:
            thread.start()
        _live_runners.add(self)

    # --- public API --------------------------------------------------------------------------------------------

    def add_listener(self, listener: Listener) -> None:
        """Called with every event of every job, on the worker thread."""
        with self._cond:
            self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        with self._cond:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def submit(self, request: JobRequest, listener: Listener | None = None) -> JobHandle:
        if request.lane not in self._lanes:
            raise ValueError(f"this runner has no lane {request.lane!r} (it has {', '.join(self._lanes)})")
        with self._cond:
            if self._closed:
                raise RuntimeError("the job runner has been shut down")
            handle = JobHandle(next(self._ids), request, listener, self)
            if not request.listed:
                self._unlisted.add(handle.job_id)
            replaced = []
            if request.coalesce_key is not None:
                replaced = [job for job in self._pending if job.request.coalesce_key == request.coalesce_key]
                for job in replaced:
                    self._pending.remove(job)
            self._pending.append(handle)
            self._cond.notify_all()  # workers of other lanes wake, see nothing for them and wait again
        for job in replaced:
            job._finish(Cancelled(job.job_id, REPLACED))
        return handle

    def is_listed(self, job_id: int) -> bool:
        """False for a job submitted with ``listed=False`` (also after it ended, when its events arrive late)."""
        with self._cond:
            return job_id not in self._unlisted

    def cancel(self, job_id: int) -> bool:
        """Cancel a waiting or running job; False when there is no such job or it already ended."""
        with self._cond:
            pending = next((job for job in self._pending if job.job_id == job_id), None)
            if pending is not None:
                self._pending.remove(pending)
            running = self._running.get(job_id)
            if running is not None:
                running.context.cancel()
        if pending is not None:
            pending._finish(Cancelled(job_id, f"{pending.label} was cancelled before it started."))
            return True
        return running is not None

    def cancel_all(self) -> None:
        with self._cond:
            pending = list(self._pending)
            self._pending.clear()
            for job in self._running.values():
                job.context.cancel()
        for job in pending:
            job._finish(Cancelled(job.job_id, f"{job.label} was cancelled before it started."))

    def jobs(self) -> list[JobHandle]:
        """Running then waiting jobs (a snapshot, for the jobs panel)."""
        with self._cond:
            return list(self._running.values()) + list(self._pending)

    def pending_count(self) -> int:
        with self._cond:
            return len(self._pending)

    def busy(self) -> bool:
        with self._cond:
            return bool(self._pending or self._running)

    def shutdown(self, wait: bool = True, timeout: float | None = 10.0) -> None:
        """Cancel everything and stop the workers."""
        self.cancel_all()
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if wait:
            for thread in self._threads:
                thread.join(timeout)

    # --- worker ------------------------------------------------------------------------------------------------

    def _next_in(self, lane: str) -> JobHandle | None:
        return next((job for job in self._pending if job.request.lane == lane), None)

    def _serve(self, lane: str) -> None:
        while True:
            with self._cond:
                while self._next_in(lane) is None and not self._closed:
                    self._cond.wait()
                job = self._next_in(lane)
                if job is None:  # closed and nothing left for this lane
                    return
                self._pending.remove(job)
                job.state = "running"
                self._running[job.job_id] = job
            try:
                job._emit(Progress(job.job_id, 0.0, f"{job.label}: started"))
                with JobLimits(job.context, job.request.time_limit) as limits:
                    event = limits.verdict(_terminal_event(job.job_id, job.label, job.context,
                                                           _work_of(job.request, self._execute)))
            finally:
                with self._cond:
                    self._running.pop(job.job_id, None)
            job._finish(event)

    def _deliver(self, job: JobHandle, event: JobEvent) -> None:
        with self._cond:
            listeners = list(self._listeners)
        if job.listener is not None:
            listeners.insert(0, job.listener)
        for listener in listeners:
            try:
                listener(event)
            except Exception:  # noqa: BLE001 - a broken listener must not kill the worker or hide other events
                log.exception("A job listener failed on %s", type(event).__name__)
