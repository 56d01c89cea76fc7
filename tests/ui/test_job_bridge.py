"""JobBridge delivers engine events as Qt signals on the GUI thread; ProviderStatusLabel summarises the registry."""

from __future__ import annotations

import threading

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QThread  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from genart_desktop.core.errors import InputError  # noqa: E402
from genart_desktop.engine.jobs import JobRequest, JobRunner  # noqa: E402
from genart_desktop.engine.registry import ModelRegistry  # noqa: E402
from genart_desktop.ui.job_bridge import JobBridge  # noqa: E402
from genart_desktop.ui.provider_status import ProviderStatusLabel  # noqa: E402
from tests.tiny_onnx import image_model, linear_generator, write_model_folder  # noqa: E402


@pytest.fixture
def runner():
    runner = JobRunner()
    yield runner
    runner.shutdown()


@pytest.fixture
def bridge(qtbot, runner):
    bridge = JobBridge(runner)
    yield bridge
    bridge.detach()


def on_gui_thread():
    return QThread.currentThread() is QApplication.instance().thread()


def test_events_arrive_as_signals_on_the_gui_thread(qtbot, runner, bridge):
    seen = {"progress": [], "preview": [], "gui": []}
    bridge.progress.connect(lambda job, f, m: (seen["progress"].append((job, f, m)), seen["gui"].append(on_gui_thread())))
    bridge.preview.connect(lambda job, image: (seen["preview"].append(image), seen["gui"].append(on_gui_thread())))

    def work(context):
        yield 0.5, "half"
        yield np.full((2, 2, 3), 7, np.uint8)
        return "result"

    with qtbot.waitSignal(bridge.finished, timeout=10_000) as finished:
        handle = runner.submit(JobRequest(work, "demo"))
    assert finished.args == [handle.job_id, "result"]
    assert (handle.job_id, 0.5, "half") in seen["progress"]
    assert seen["preview"][0].shape == (2, 2, 3) and not seen["preview"][0].flags.writeable
    assert seen["gui"] and all(seen["gui"])


def test_failures_and_cancellation_become_signals(qtbot, runner, bridge):
    def bad(context):
        raise InputError("The selection is empty.")

    with qtbot.waitSignal(bridge.failed, timeout=10_000) as failed:
        handle = runner.submit(JobRequest(bad))
    assert failed.args == [handle.job_id, "The selection is empty."]

    started, gate = threading.Event(), threading.Event()

    def wait_for_cancel(context):
        started.set()
        while not gate.wait(0.01):
            context.check_cancelled()

    job = runner.submit(JobRequest(wait_for_cancel))
    assert started.wait(10)
    with qtbot.waitSignal(bridge.cancelled, timeout=10_000) as cancelled:
        job.cancel()
    assert cancelled.args == [job.job_id]
    gate.set()


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
