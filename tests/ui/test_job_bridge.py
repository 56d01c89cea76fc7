"""JobBridge carries job events to the GUI thread, where the workspace hands them to the job's owner;
ProviderStatusLabel summarises the registry."""

from __future__ import annotations

import threading
import types

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QThread  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from genart_desktop.core.errors import InputError  # noqa: E402
from genart_desktop.engine.events import Cancelled, Error, Preview, Progress, Result  # noqa: E402
from genart_desktop.engine.jobs import call_payload  # noqa: E402
from genart_desktop.engine.registry import ModelRegistry  # noqa: E402
from genart_desktop.ui.job_bridge import JobBridge  # noqa: E402
from genart_desktop.ui.provider_status import ProviderStatusLabel  # noqa: E402
from genart_desktop.workspace.workspace import Workspace  # noqa: E402
from tests.tiny_onnx import image_model, linear_generator, write_model_folder  # noqa: E402


@pytest.fixture
def bridge(qtbot):
    return JobBridge()


@pytest.fixture
def workspace(bridge):
    """As in the app: the runner posts to the bridge, the bridge delivers to the workspace on the GUI thread."""
    workspace = Workspace(registry=object(), post=bridge.post)
    bridge.event.connect(workspace.deliver)
    workspace.register(types.FunctionType, call_payload)
    yield workspace
    workspace.shutdown()


def on_gui_thread():
    return QThread.currentThread() is QApplication.instance().thread()


class Owner:
    """A controller stand-in: records the events of its own jobs and the thread they arrive on."""

    def __init__(self):
        self.seen, self.threads = [], []

    def _record(self, event):
        self.seen.append(event)
        self.threads.append(on_gui_thread())

    on_progress = on_preview = on_result = on_error = on_cancelled = _record


def test_events_reach_their_owner_on_the_gui_thread_in_order(qtbot, bridge, workspace):
    owner, others = Owner(), []
    workspace.event.connect(others.append)

    def work(context):
        yield 0.5, "half"
        yield np.full((2, 2, 3), 7, np.uint8)
        return "result"

    handle = workspace.submit(work, "demo", owner)
    qtbot.waitUntil(lambda: bool(owner.seen) and isinstance(owner.seen[-1], Result), timeout=10_000)
    assert [type(e) for e in owner.seen] == [Progress, Progress, Preview, Result]
    assert all(e.job_id == handle.job_id for e in owner.seen) and owner.seen[-1].value == "result"
    assert owner.seen[2].image.shape == (2, 2, 3) and not owner.seen[2].image.flags.writeable
    assert all(owner.threads)
    assert others == owner.seen  # the jobs list sees the same stream, after the owner


def test_failures_and_cancellation_reach_the_owner(qtbot, bridge, workspace):
    def bad(context):
        raise InputError("The selection is empty.")

    owner = Owner()
    handle = workspace.submit(bad, "bad", owner)
    qtbot.waitUntil(lambda: bool(owner.seen) and isinstance(owner.seen[-1], Error), timeout=10_000)
    assert owner.seen[-1].message == "The selection is empty." and owner.seen[-1].job_id == handle.job_id

    started, gate = threading.Event(), threading.Event()

    def wait_for_cancel(context):
        started.set()
        while not gate.wait(0.01):
            context.check_cancelled()

    owner = Owner()
    job = workspace.submit(wait_for_cancel, "waits", owner)
    assert started.wait(10)
    job.cancel()
    qtbot.waitUntil(lambda: bool(owner.seen) and isinstance(owner.seen[-1], Cancelled), timeout=10_000)
    gate.set()
    assert owner.seen[-1].job_id == job.job_id and all(owner.threads)


def test_unregistered_requests_fail_with_a_clear_message(qtbot, bridge, workspace):
    owner = Owner()
    workspace.submit(object(), "mystery", owner)
    qtbot.waitUntil(lambda: bool(owner.seen) and isinstance(owner.seen[-1], Error), timeout=10_000)
    assert "No executor is registered for object requests" in owner.seen[-1].message


def test_provider_status_label_counts_models_and_lists_rejections(qtbot, tmp_path):
    write_model_folder(tmp_path, "good-gan", "gan", {"generator": linear_generator()})
    broken = write_model_folder(tmp_path, "broken", "style", {"stylizer": image_model()})
    (broken / "stylizer.onnx").write_bytes(b"")
    registry = ModelRegistry([(tmp_path, "user")], {"execution_provider": "cpu"})
    label = ProviderStatusLabel(registry)
    qtbot.addWidget(label)
    assert label.text() == "CPU · 1 model · 1 rejected"
    assert "broken" in label.toolTip() and "sha256" in label.toolTip()
    write_model_folder(tmp_path, "second", "style", {"stylizer": image_model()})
    registry.rescan()
    label.refresh()
    assert label.text() == "CPU · 2 models · 1 rejected"
