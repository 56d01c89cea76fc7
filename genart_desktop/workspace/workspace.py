"""The one door from a front end (a dock or a CLI command) to the engine.

A :class:`Workspace` owns the model registry, the single job runner and the routing of job events. Each model
family's controller registers an executor for its request type (a frozen dataclass: data, not a closure) and
submits requests through :meth:`Workspace.submit`; the events of a job come back to the controller that submitted
it through :func:`genart_desktop.engine.events.dispatch` (``on_progress``, ``on_preview``, ``on_result``,
``on_error``, ``on_cancelled``), on the thread that calls :meth:`Workspace.deliver`.

Delivery: by default events are delivered on the worker thread as they happen (CLI, tests). The app passes
``post``, a thread-safe function that hands each event to the GUI thread, which then calls :meth:`deliver`.
:meth:`Workspace.run` runs a request on the calling thread with the same executor and the same dispatch, so a CLI
command and a dock produce the same pixels from the same request.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any

from genart_desktop.core.errors import GenArtError
from genart_desktop.core.observable import Signal
from genart_desktop.engine.events import JobEvent, dispatch, is_terminal
from genart_desktop.engine.jobs import MAIN_LANE, JobContext, JobHandle, JobRequest, JobRunner, run_inline

INTERACTIVE_LANE = "interactive"  # latent grids and sliders: never queued behind a long diffusion batch

Executor = Callable[[Any, JobContext], Any]


class Workspace:
    """Registry, runner and event routing shared by every controller of one window (or one CLI command)."""

    def __init__(self, registry: Any = None, *, post: Callable[[JobEvent], None] | None = None,
                 workers: int = 1, name: str = "genart-jobs") -> None:
        if registry is None:
            from genart_desktop.engine.registry import ModelRegistry

            registry = ModelRegistry()
        self.registry = registry
        self._executors: dict[type, Executor] = {}
        self._owners: dict[int, Any] = {}
        self._lock = threading.RLock()  # submit may deliver a replaced job's Cancelled on this thread
        self.event = Signal()  # every delivered event, after its owner has seen it (the jobs list listens)
        self.runner = JobRunner(workers, name, execute=self.execute, lanes=(INTERACTIVE_LANE,))
        self.runner.add_listener(post if post is not None else self.deliver)

    # -- families ------------------------------------------------------------------------------------------------
    def register(self, request_type: type, executor: Executor) -> None:
        """Run requests of ``request_type`` with ``executor(request, context)`` (one executor per type)."""
        existing = self._executors.get(request_type)
        if existing is not None and existing != executor:
            raise ValueError(f"{request_type.__name__} already has an executor")
        self._executors[request_type] = executor

    def execute(self, request: Any, context: JobContext) -> Any:
        """The runner's executor: looks the request's type up (called on a worker thread)."""
        executor = self._executors.get(type(request))
        if executor is None:
            raise GenArtError(f"No executor is registered for {type(request).__name__} requests.")
        return executor(request, context)

    # -- running ---------------------------------------------------------------------------------------------------
    def submit(self, request: Any, label: str, owner: Any = None, *, coalesce_key: Hashable | None = None,
               listed: bool = True, lane: str = MAIN_LANE) -> JobHandle:
        """Queue ``request``; ``owner`` (usually the submitting controller) receives its events."""
        job = JobRequest(request, label, coalesce_key, listed, lane)
        with self._lock:  # deliver() waits on the lock, so the owner is known before its first event
            handle = self.runner.submit(job)
            if owner is not None:
                self._owners[handle.job_id] = owner
        return handle

    def run(self, request: Any, label: str, owner: Any = None) -> Any:
        """Run ``request`` now on the calling thread (the CLI): same executor and events; returns the result or
        raises the error (JobCancelled when interrupted)."""
        listener = (lambda event: dispatch(event, owner)) if owner is not None else None
        return run_inline(JobRequest(request, label), listener, self.execute)

    def deliver(self, event: JobEvent) -> None:
        """Hand ``event`` to the owner of its job, then to :attr:`event` listeners (call on one thread)."""
        with self._lock:
            owner = self._owners.pop(event.job_id, None) if is_terminal(event) else self._owners.get(event.job_id)
        if owner is not None:
            dispatch(event, owner)
        self.event.emit(event)

    def cancel(self, job_id: int) -> bool:
        return self.runner.cancel(job_id)

    def shutdown(self) -> None:
        self.runner.cancel_all()
        self.runner.shutdown(wait=True, timeout=10.0)
