"""JobRunner: progress/preview/result events, errors never lost, cancellation, coalescing, terminating a long run."""

from __future__ import annotations

import dataclasses
import threading
import time

import numpy as np
import pytest

from genart_desktop.core.errors import InputError, JobCancelled
from genart_desktop.engine.events import Cancelled, Error, Preview, Progress, Result, is_terminal
from genart_desktop.engine.jobs import REPLACED, JobRequest, JobRunner, run_inline
from genart_desktop.engine.session import ModelSession
from tests.tiny_onnx import save_model, slow_model

TIMEOUT = 30


class Recorder:
    def __init__(self):
        self.events = []
        self.threads = set()
        self.lock = threading.Lock()

    def __call__(self, event):
        with self.lock:
            self.events.append(event)
            self.threads.add(threading.current_thread().name)

    def of(self, job_id, kind=None):
        with self.lock:
            return [e for e in self.events if e.job_id == job_id and (kind is None or isinstance(e, kind))]


@pytest.fixture
def runner():
    runner = JobRunner()
    yield runner
    runner.shutdown()


def blocker(runner):
    """Submit a job that holds the single worker until the returned event is set."""
    release, started = threading.Event(), threading.Event()

    def work(context):
        started.set()
        while not release.wait(0.01):
            context.check_cancelled()
        return "unblocked"

    handle = runner.submit(JobRequest(work, "blocker"))
    assert started.wait(TIMEOUT)
    return handle, release


def test_generator_job_streams_progress_preview_and_a_frozen_result(runner):
    recorder = Recorder()
    source = np.zeros((4, 4, 3), np.uint8)

    def work(context):
        yield 0.25
        yield 0.5, "halfway"
        yield source
        source[:] = 9  # the preview already sent must not change
        context.progress(0.75, "almost")
        return np.ones((2, 2), np.float32)

    handle = runner.submit(JobRequest(work, "demo"), recorder)
    assert handle.wait(TIMEOUT) and handle.state == "done"
    events = recorder.of(handle.job_id)
    assert [type(e) for e in events] == [Progress, Progress, Progress, Preview, Progress, Result]
    assert [e.fraction for e in events if isinstance(e, Progress)] == [0.0, 0.25, 0.5, 0.75]
    assert events[2].message == "halfway"
    preview = events[3].image
    assert not preview.flags.writeable and preview.max() == 0
    result = events[-1].value
    assert not result.flags.writeable
    with pytest.raises(ValueError):
        result[0, 0] = 5
    assert handle.result() is result
    assert recorder.threads == {"genart-jobs-0"}


@dataclasses.dataclass
class Outcome:
    image: np.ndarray
    extras: tuple


def test_plain_callable_and_nested_results_are_frozen(runner):
    handle = runner.submit(JobRequest(lambda context: {"images": [np.zeros(3)], "n": 1}))
    value = handle.result(TIMEOUT)
    assert value["n"] == 1 and not value["images"][0].flags.writeable
    outcome = runner.submit(JobRequest(lambda context: Outcome(np.zeros(2), (np.ones(2),)))).result(TIMEOUT)
    assert not outcome.image.flags.writeable and not outcome.extras[0].flags.writeable


def test_exceptions_become_error_events_and_the_worker_survives(runner):
    recorder = Recorder()
    runner.add_listener(recorder)

    def crash(context):
        raise ZeroDivisionError("boom")

    def bad_input(context):
        raise InputError("The canvas is empty.")

    first = runner.submit(JobRequest(crash, "crasher"))
    second = runner.submit(JobRequest(bad_input, "checker"))
    third = runner.submit(JobRequest(lambda context: 42))
    assert third.result(TIMEOUT) == 42
    (error,) = recorder.of(first.job_id, Error)
    assert error.message == "crasher failed: ZeroDivisionError: boom"
    assert isinstance(error.exception, ZeroDivisionError)
    assert recorder.of(second.job_id, Error)[0].message == "The canvas is empty."
    with pytest.raises(InputError):
        second.result()
    assert first.state == "failed"


def test_a_failing_listener_does_not_hide_events_from_others(runner):
    recorder = Recorder()

    def broken(event):
        raise RuntimeError("listener bug")

    runner.add_listener(broken)
    runner.add_listener(recorder)
    handle = runner.submit(JobRequest(lambda context: "ok"))
    assert handle.result(TIMEOUT) == "ok"
    assert isinstance(recorder.of(handle.job_id)[-1], Result)


def test_yielding_something_odd_is_an_error(runner):
    def work(context):
        yield "not a progress value"

    handle = runner.submit(JobRequest(work, "odd"))
    handle.wait(TIMEOUT)
    assert isinstance(handle.outcome, Error) and "yielded str" in handle.outcome.message


def test_cancel_a_running_job_between_steps(runner):
    recorder = Recorder()
    steps = []
    running = threading.Event()

    def work(context):
        for step in range(10_000):
            steps.append(step)
            running.set()
            time.sleep(0.005)
            yield step / 10_000
        return "finished"

    handle = runner.submit(JobRequest(work, "loop"), recorder)
    assert running.wait(TIMEOUT)
    assert handle.cancel()
    assert handle.wait(TIMEOUT) and handle.state == "cancelled"
    assert len(steps) < 10_000
    events = recorder.of(handle.job_id)
    assert isinstance(events[-1], Cancelled) and not recorder.of(handle.job_id, Result)
    assert sum(is_terminal(e) for e in events) == 1
    with pytest.raises(JobCancelled):
        handle.result()
    assert not handle.cancel()  # already over


def test_cancel_pending_and_cancel_all(runner):
    recorder = Recorder()
    first, release = blocker(runner)
    waiting = [runner.submit(JobRequest(lambda context: "never"), recorder) for _ in range(3)]
    assert runner.cancel(waiting[0].job_id)
    assert waiting[0].done and "before it started" in waiting[0].outcome.reason
    runner.cancel_all()
    assert all(job.state == "cancelled" for job in waiting)
    assert first.wait(TIMEOUT) and first.state == "cancelled"
    assert not recorder.of(waiting[1].job_id, Progress)  # never started
    assert runner.pending_count() == 0 and not runner.busy()
    release.set()


def test_newer_request_replaces_a_pending_one_with_the_same_key(runner):
    recorder = Recorder()
    runner.add_listener(recorder)
    first, release = blocker(runner)
    a = runner.submit(JobRequest(lambda context: "a", coalesce_key="preview"))
    other = runner.submit(JobRequest(lambda context: "other", coalesce_key="thumbnail"))
    b = runner.submit(JobRequest(lambda context: "b", coalesce_key="preview"))
    assert a.done and a.state == "cancelled" and a.outcome.reason == REPLACED
    release.set()
    assert b.result(TIMEOUT) == "b" and other.result(TIMEOUT) == "other"
    assert first.result(TIMEOUT) == "unblocked"
    assert not recorder.of(a.job_id, Progress)
    # a running job is never replaced: only waiting ones coalesce
    running = threading.Event()
    gate = threading.Event()

    def slow(context):
        running.set()
        gate.wait(TIMEOUT)
        return "kept"

    c = runner.submit(JobRequest(slow, coalesce_key="preview"))
    assert running.wait(TIMEOUT)
    d = runner.submit(JobRequest(lambda context: "d", coalesce_key="preview"))
    gate.set()
    assert c.result(TIMEOUT) == "kept" and d.result(TIMEOUT) == "d"


def test_cancel_terminates_a_long_single_onnx_run(runner, tmp_path):
    session = ModelSession.load(save_model(slow_model(steps=400, width=384), tmp_path / "slow.onnx"),
                                {"execution_provider": "cpu", "intra_op_threads": 1})
    x = np.ones((4096, 384), np.float32)  # one run takes many seconds on one thread
    in_run = threading.Event()
    stopped_inside_run = []

    def work(context):
        context.progress(0.1, "running the model")
        in_run.set()
        try:
            return session.run({"x": x}, context.run_options)
        except JobCancelled:
            stopped_inside_run.append(True)
            raise

    handle = runner.submit(JobRequest(work, "long run"))
    assert in_run.wait(TIMEOUT)
    time.sleep(0.2)
    runner.cancel(handle.job_id)
    assert handle.wait(TIMEOUT)
    assert handle.state == "cancelled"
    assert stopped_inside_run == [True]  # onnxruntime stopped the run itself, not a later checkpoint


def test_run_inline_returns_or_raises():
    events = []

    def work(context):
        yield 0.5
        return "done"

    assert run_inline(JobRequest(work), events.append) == "done"
    assert [type(e) for e in events] == [Progress, Result]
    with pytest.raises(InputError):
        run_inline(JobRequest(lambda context: (_ for _ in ()).throw(InputError("bad"))))


def test_shutdown_refuses_new_work():
    runner = JobRunner(workers=2)
    runner.shutdown()
    with pytest.raises(RuntimeError):
        runner.submit(JobRequest(lambda context: 1))
    with pytest.raises(ValueError):
        JobRunner(workers=0)


def test_the_plain_runner_refuses_a_payload_it_cannot_call():
    from genart_desktop.engine.jobs import run_inline

    with pytest.raises(TypeError, match="runs callables; got a dict"):
        run_inline(JobRequest({"model": "x"}, "data"))
