"""Item 5 of issue 22: after a cancel, neither the dock nor the window's status bar keeps "Working on 1 image ·
Step 179 of 1000"."""

from __future__ import annotations

import threading

import pytest

from PySide6.QtCore import Qt

from genart_desktop.engine.events import Progress
from genart_desktop.engine.jobs import JobRequest
from genart_desktop.ui.diffusion_panel import install_diffusion_panel
from genart_desktop.ui.services import services_for
from tests.ui.test_diffusion_panel import WAIT_MS, choose, model_root


@pytest.mark.parametrize("where", ["dock", "jobs"])
def test_the_status_bar_forgets_the_last_step_after_a_cancel(qtbot, window, tmp_path, monkeypatch, where):
    monkeypatch.setenv("GENART_MODELS_DIR", str(model_root(tmp_path)))
    install_diffusion_panel(window)
    panel = window.diffusion_panel
    choose(panel, "tiny-diffusion")
    gate = threading.Event()
    runner = services_for(window).runner
    runner.submit(JobRequest(lambda context: gate.wait(10), "blocker"))  # keeps the image queued
    assert panel.generate()
    entry = panel.controller.staged[0]
    panel.controller.on_progress(Progress(entry.job_id, 0.179, "Step 179 of 1000"))  # as a running job reports
    assert "Step 179 of 1000" in window.statusBar().currentMessage()
    if where == "dock":
        qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    else:  # the Jobs dock cancels through the workspace
        services_for(window).workspace.cancel(entry.job_id)
    gate.set()
    qtbot.waitUntil(lambda: not panel.controller.staged, timeout=WAIT_MS)
    for text in (panel.status.text(), window.statusBar().currentMessage()):
        assert "Working on" not in text and "Cancelling" not in text and "Step 179" not in text
