"""Per-job wall-clock limits and the Ctrl+C hook of inline jobs (the subprocess tests in tests/cli/test_interrupt.py
send the real signal)."""

from __future__ import annotations

import signal
import threading
import time

import pytest

from genart_desktop.core.errors import JobCancelled
from genart_desktop.core.settings import save_settings
from genart_desktop.engine.events import Error, Result
from genart_desktop.engine.job_limits import DEFAULT_INLINE_LIMIT_S, Interrupted, JobLimits, TookTooLong, inline_limit
from genart_desktop.engine.jobs import JobContext, JobRequest, JobRunner, run_inline


def _stalls(context):
    """Waits between checkpoints until cancelled (as a sampling loop would)."""
    while True:
        yield None
        time.sleep(0.01)


def test_an_inline_job_past_its_limit_fails_with_one_line():
    began = time.monotonic()
    with pytest.raises(TookTooLong, match=r"^Stall took longer than 0.2 s and was stopped\.$"):
        run_inline(JobRequest(_stalls, "Stall", time_limit=0.2))
    assert time.monotonic() - began < 5


def test_a_queued_job_past_its_limit_ends_with_an_error_event():
    runner = JobRunner(1, name="limits")
    try:
        handle = runner.submit(JobRequest(_stalls, "Stall", time_limit=0.2))
        assert handle.wait(10)
        assert isinstance(handle.outcome, Error) and isinstance(handle.outcome.exception, TookTooLong)
        assert handle.outcome.message == "Stall took longer than 0.2 s and was stopped."
        quick = runner.submit(JobRequest(lambda context: 7, "Quick", time_limit=5))
        assert quick.result(10) == 7 and isinstance(quick.outcome, Result)
    finally:
        runner.shutdown()


def test_a_job_within_its_limit_is_not_cancelled_afterwards():
    context = JobContext(0, "Quick", lambda event: None)
    with JobLimits(context, 0.1):
        pass
    time.sleep(0.3)
    assert not context.cancelled


def test_inline_jobs_restore_the_signal_handler_and_wakeup_fd():
    before = signal.getsignal(signal.SIGINT)
    assert run_inline(JobRequest(lambda context: signal.getsignal(signal.SIGINT), "Peek")) is not before
    assert signal.getsignal(signal.SIGINT) is before
    assert signal.set_wakeup_fd(-1) == -1  # nothing left installed


def test_ctrl_c_cancels_an_inline_job_through_its_context():
    def interrupt_then_stall(context):
        signal.raise_signal(signal.SIGINT)
        yield from _stalls(context)

    with pytest.raises(Interrupted):
        run_inline(JobRequest(interrupt_then_stall, "Stall"))
    assert issubclass(Interrupted, JobCancelled)


def test_off_the_main_thread_no_handler_is_installed():
    seen = []
    thread = threading.Thread(target=lambda: seen.append(run_inline(JobRequest(
        lambda context: signal.getsignal(signal.SIGINT), "Peek"))))
    thread.start()
    thread.join(10)
    assert seen == [signal.getsignal(signal.SIGINT)]


def test_inline_limit_comes_from_the_request_then_the_setting():
    assert inline_limit(2.5) == 2.5
    assert inline_limit(None) == DEFAULT_INLINE_LIMIT_S
    save_settings({"job_time_limit_s": 90})
    assert inline_limit(None) == 90
    save_settings({"job_time_limit_s": 0})
    assert inline_limit(None) is None
    save_settings({"job_time_limit_s": "soon"})
    assert inline_limit(None) == DEFAULT_INLINE_LIMIT_S
