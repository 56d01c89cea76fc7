"""The workspace is the one door to the engine: requests as data, one executor per type, events back to their owner."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import pytest

from genart_desktop.core.errors import GenArtError, JobCancelled
from genart_desktop.engine.events import Cancelled, Error, Preview, Progress, Result
from genart_desktop.workspace.workspace import INTERACTIVE_LANE, Workspace

TIMEOUT = 10


@dataclass(frozen=True)
class Square:
    value: int


@dataclass(frozen=True)
class Wait:
    started: threading.Event
    release: threading.Event


class Owner:
    def __init__(self):
        self.seen = []
        self.done = threading.Event()

    def _record(self, event):
        self.seen.append(event)
        if isinstance(event, (Result, Error, Cancelled)):
            self.done.set()

    on_progress = on_preview = on_result = on_error = on_cancelled = _record


def run_square(request: Square, context):
    yield 0.5, "halfway"
    yield np.full((2, 2, 3), request.value, np.uint8)
    return request.value**2


def run_wait(request: Wait, context):
    request.started.set()
    while not request.release.wait(0.01):
        yield None  # a cancellation point


@pytest.fixture
def workspace():
    workspace = Workspace(registry=object())
    workspace.register(Square, run_square)
    workspace.register(Wait, run_wait)
    yield workspace
    workspace.shutdown()


def test_a_request_runs_through_its_registered_executor_and_its_owner_gets_every_event(workspace):
    owner, everyone = Owner(), []
    workspace.event.connect(everyone.append)
    handle = workspace.submit(Square(7), "square", owner)
    assert owner.done.wait(TIMEOUT)
    assert [type(e) for e in owner.seen] == [Progress, Progress, Preview, Result]
    assert owner.seen[-1].value == 49 and all(e.job_id == handle.job_id for e in owner.seen)
    assert everyone == owner.seen


def test_run_inline_uses_the_same_executor_and_dispatch(workspace):
    owner = Owner()
    assert workspace.run(Square(3), "square", owner) == 9
    assert [type(e) for e in owner.seen] == [Progress, Preview, Result]


def test_unregistered_types_and_double_registration_are_refused(workspace):
    with pytest.raises(GenArtError, match="No executor is registered for int requests"):
        workspace.run(5, "five")
    with pytest.raises(ValueError, match="already has an executor"):
        workspace.register(Square, run_wait)
    workspace.register(Square, run_square)  # the same executor again is harmless


def test_the_interactive_lane_does_not_wait_behind_a_long_main_job(workspace):
    started, release = threading.Event(), threading.Event()
    long_job = workspace.submit(Wait(started, release), "long diffusion", Owner())
    assert started.wait(TIMEOUT)
    owner = Owner()
    workspace.submit(Square(2), "latent grid", owner, lane=INTERACTIVE_LANE)
    assert owner.done.wait(TIMEOUT) and owner.seen[-1].value == 4
    assert not long_job.done
    release.set()
    assert long_job.wait(TIMEOUT)


def test_a_cancelled_job_reports_to_its_owner_and_unknown_lanes_are_refused(workspace):
    started, release = threading.Event(), threading.Event()
    owner = Owner()
    handle = workspace.submit(Wait(started, release), "waits", owner)
    assert started.wait(TIMEOUT)
    assert workspace.cancel(handle.job_id)
    assert owner.done.wait(TIMEOUT) and isinstance(owner.seen[-1], Cancelled)
    with pytest.raises(JobCancelled):
        handle.result(TIMEOUT)
    with pytest.raises(ValueError, match="no lane 'gpu'"):
        workspace.submit(Square(1), "x", lane="gpu")


def test_a_replaced_request_tells_its_owner(workspace):
    started, release = threading.Event(), threading.Event()
    workspace.submit(Wait(started, release), "blocker")
    assert started.wait(TIMEOUT)
    old, new = Owner(), Owner()
    workspace.submit(Square(1), "preview", old, coalesce_key="preview")
    workspace.submit(Square(2), "preview", new, coalesce_key="preview")
    assert old.done.wait(TIMEOUT) and isinstance(old.seen[-1], Cancelled)
    release.set()
    assert new.done.wait(TIMEOUT) and new.seen[-1].value == 4
