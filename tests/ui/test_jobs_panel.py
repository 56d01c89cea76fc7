"""The Jobs dock on a real runner and bridge: queued, running with progress and live preview, cancel, errors."""

from __future__ import annotations

import threading
import types

import numpy as np
import pytest
from PySide6.QtCore import Qt, QTimer

from genart_desktop.core.errors import InputError
from genart_desktop.engine.jobs import JobRequest, call_payload
from genart_desktop.ui.job_bridge import JobBridge
from genart_desktop.ui.jobs_panel import CANCELLED, DONE, FAILED, QUEUED, RUNNING, JobsPanel, preview_rgba
from genart_desktop.workspace.workspace import Workspace

WAIT_MS = 10_000


@pytest.fixture
def workspace(qtbot):
    """A workspace whose events reach the GUI thread through a bridge, as in the app; these tests' jobs are plain
    functions and Steppers, registered as two request types."""
    bridge = JobBridge()
    workspace = Workspace(registry=object(), post=bridge.post, name="test-jobs-ui")
    bridge.event.connect(workspace.deliver)
    workspace.register(types.FunctionType, call_payload)
    workspace.register(Stepper, call_payload)
    workspace.bridge_ref = bridge
    yield workspace
    workspace.shutdown()


@pytest.fixture
def runner(workspace):
    return workspace.runner


@pytest.fixture
def panel(qtbot, workspace):
    widget = JobsPanel(workspace, keep_finished=3)
    qtbot.addWidget(widget)
    widget.resize(900, 300)
    widget.show()
    return widget


class Stepper:
    """A job that moves one step each time ``step`` is set: progress, then a preview, then its result."""

    def __init__(self, steps: int = 2) -> None:
        self.steps = steps
        self.go = threading.Event()
        self.started = threading.Event()

    def __call__(self, context):
        self.started.set()
        for index in range(self.steps):
            while not self.go.wait(0.01):
                context.check_cancelled()
            self.go.clear()
            image = np.zeros((20, 30, 3), np.uint8)
            image[..., 0] = 60 * (index + 1)
            yield image
            yield (index + 1) / self.steps, f"Step {index + 1} of {self.steps}"
        return "finished"


def blocker(runner, label="Blocker"):
    release, started = threading.Event(), threading.Event()

    def work(context):
        started.set()
        while not release.wait(0.01):
            context.check_cancelled()

    handle = runner.submit(JobRequest(work, label))
    assert started.wait(10)
    return handle, release


def test_running_job_shows_progress_and_a_live_preview_and_the_window_stays_responsive(qtbot, panel, runner):
    stepper = Stepper()
    handle = runner.submit(JobRequest(stepper, "Diffusion: 2 steps"))
    assert stepper.started.wait(10)
    qtbot.waitUntil(lambda: panel.states().get(handle.job_id) == RUNNING, timeout=WAIT_MS)
    row = panel.rows[handle.job_id]
    assert row.title.text() == "Diffusion: 2 steps" and row.cancel_button.isVisible()
    assert panel.summary.text() == "1 running" and panel.cancel_all_button.isEnabled()

    ticked = []
    QTimer.singleShot(20, lambda: ticked.append(True))  # the GUI thread keeps serving events during the job
    qtbot.waitUntil(lambda: bool(ticked), timeout=WAIT_MS)
    assert not handle.done

    stepper.go.set()
    qtbot.waitUntil(lambda: row.bar.value() == 500, timeout=WAIT_MS)
    assert row.has_preview() and row.detail.text() == "Step 1 of 2"
    stepper.go.set()
    qtbot.waitUntil(lambda: panel.states()[handle.job_id] == DONE, timeout=WAIT_MS)
    assert row.bar.value() == 1000 and not row.cancel_button.isVisible() and row.state_label.text() == "Done"
    assert panel.summary.text() == "Idle"


def test_queued_jobs_are_listed_and_one_can_be_cancelled(qtbot, panel, runner):
    first, release = blocker(runner)
    waiting = runner.submit(JobRequest(lambda context: 1, "Style: Wash"))
    other = runner.submit(JobRequest(lambda context: 2, "Latent grid"))
    qtbot.waitUntil(lambda: panel.states().get(other.job_id) == QUEUED, timeout=WAIT_MS)
    assert panel.states()[first.job_id] == RUNNING and panel.states()[waiting.job_id] == QUEUED
    assert panel.summary.text() == "1 running \u00b7 2 queued"
    assert panel.rows[waiting.job_id].bar.format() == "waiting"
    qtbot.mouseClick(panel.rows[waiting.job_id].cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.states()[waiting.job_id] == CANCELLED, timeout=WAIT_MS)
    assert "before it started" in panel.rows[waiting.job_id].detail.text()
    release.set()
    qtbot.waitUntil(lambda: panel.states()[other.job_id] == DONE, timeout=WAIT_MS)
    assert panel.states()[first.job_id] == DONE
    assert other.result(1) == 2


def test_cancel_all_stops_the_running_job_and_empties_the_queue(qtbot, panel, runner):
    running, _release = blocker(runner)
    queued = [runner.submit(JobRequest(lambda context: None, f"Job {i}")) for i in range(2)]
    qtbot.waitUntil(lambda: all(panel.states().get(h.job_id) == QUEUED for h in queued), timeout=WAIT_MS)
    qtbot.mouseClick(panel.cancel_all_button, Qt.MouseButton.LeftButton)
    ids = [running.job_id] + [h.job_id for h in queued]
    qtbot.waitUntil(lambda: all(panel.states().get(i) == CANCELLED for i in ids), timeout=WAIT_MS)
    assert running.done and all(h.done for h in queued)
    assert panel.rows[running.job_id].detail.text() == "Blocker was cancelled."
    assert not panel.cancel_all_button.isEnabled() and panel.summary.text() == "Idle"


def test_errors_are_shown_in_words(qtbot, panel, runner):
    def broken(context):
        raise InputError("The style network needs a 3-channel image; this layer has 1.")

    def crash(context):
        return {}["missing"]

    handle = runner.submit(JobRequest(broken, "Style: Broken"))
    other = runner.submit(JobRequest(crash, "Crashing job"))
    qtbot.waitUntil(lambda: panel.states().get(other.job_id) == FAILED, timeout=WAIT_MS)
    assert panel.states()[handle.job_id] == FAILED
    row = panel.rows[handle.job_id]
    assert row.detail.text() == "The style network needs a 3-channel image; this layer has 1."
    assert "#f28b82" in row.detail.styleSheet() and row.state_label.text() == "Failed"
    assert panel.rows[other.job_id].detail.text() == "Crashing job failed: KeyError: 'missing'"


def test_replaced_requests_vanish_and_finished_jobs_are_pruned_and_cleared(qtbot, panel, runner):
    _running, release = blocker(runner)
    old = runner.submit(JobRequest(lambda context: "old", "Style preview", coalesce_key="preview"))
    qtbot.waitUntil(lambda: old.job_id in panel.states(), timeout=WAIT_MS)
    new = runner.submit(JobRequest(lambda context: "new", "Style preview", coalesce_key="preview"))
    release.set()
    qtbot.waitUntil(lambda: panel.states().get(new.job_id) == DONE, timeout=WAIT_MS)
    assert old.job_id not in panel.states()

    handles = [runner.submit(JobRequest(lambda context: np.full((8, 8, 4), 200, np.uint8), f"Image {i}"))
               for i in range(4)]
    qtbot.waitUntil(lambda: panel.states().get(handles[-1].job_id) == DONE, timeout=WAIT_MS)
    assert len(panel.states()) == 3  # keep_finished
    assert panel.rows[handles[-1].job_id].has_preview()  # an image result is shown as the job's picture
    qtbot.mouseClick(panel.clear_button, Qt.MouseButton.LeftButton)
    assert panel.states() == {} and panel.empty_label.isVisible() and not panel.clear_button.isEnabled()


def test_housekeeping_jobs_run_but_are_not_listed(qtbot, panel, runner):
    _running, release = blocker(runner)
    seen = []
    hidden = runner.submit(JobRequest(Stepper(steps=1), "Style thumbnail: x", listed=False), listener=seen.append)
    hidden.request.payload.go.set()
    shown = runner.submit(JobRequest(lambda context: "mine", "Style: x"))
    qtbot.wait(2 * 250)  # two polls of the queue while both wait
    assert hidden.job_id not in panel.states() and shown.job_id in panel.states()
    release.set()
    qtbot.waitUntil(lambda: panel.states().get(shown.job_id) == DONE, timeout=WAIT_MS)
    assert hidden.result(10) == "finished" and seen  # it ran and reported to its own listener
    assert hidden.job_id not in panel.states() and hidden.job_id not in panel.rows
    assert not runner.is_listed(hidden.job_id) and runner.is_listed(shown.job_id)


def test_preview_conversion_handles_images_and_tensors():
    rgb = np.full((4, 6, 3), 9, np.uint8)
    out = preview_rgba(rgb)
    assert out.shape == (4, 6, 4) and out[0, 0].tolist() == [9, 9, 9, 255]
    tensor = np.full((1, 3, 5, 7), -1.0, np.float32)
    tensor[0, 0] = 1.0
    assert preview_rgba(tensor)[0, 0].tolist() == [255, 0, 0, 255]
    assert preview_rgba(np.full((5, 5), 0.5, np.float32))[0, 0].tolist() == [128, 128, 128, 255]
    assert preview_rgba(np.zeros((3,), np.uint8)) is None
    assert preview_rgba(np.zeros((2, 2, 7), np.uint8)) is None
