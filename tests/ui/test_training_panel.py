"""The Training dock with a fake ``genart-train`` child: the live curve, the newest sample, Stop and Resume, the
close question, and the Tools menu entry that opens the Train dialog."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

import pytest
from PySide6.QtWidgets import QDialog

import genart_desktop
from genart_desktop.core.paths import builtin_models_dir
from genart_desktop.engine.registry import ModelRegistry
from genart_desktop.ui import training_panel
from genart_desktop.ui.training_panel import TrainingPanel
from genart_desktop.ui.training_text import MEASURING, duration_text, speed_text
from genart_desktop.workspace.training_program import training_available
from genart_desktop.workspace.training_runs import (
    DONE,
    FAILED,
    RUNNING,
    STOPPED,
    TrainingJob,
    TrainingRuns,
)
from genart_desktop.workspace.training_spec import TrainingSpec, runs_folder
from tests.fixtures import noise_image_file

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the fake trainer stops on SIGINT")

FAKE = str(Path(__file__).resolve().parents[1] / "workspace" / "fake_trainer.py")


def spec(tmp_path, steps: int = 6, name: str = "Starry") -> TrainingSpec:
    return TrainingSpec(family="style", data=tmp_path, model_id="style-starry", name=name, steps=steps,
                        style_image=tmp_path / "p.png")


@pytest.fixture
def runs(tmp_path):
    registry = ModelRegistry(roots=[(tmp_path / "models", "user")], settings={})
    queue = TrainingRuns(registry, program=(sys.executable, FAKE), runs_dir=tmp_path / "runs",
                         models_dir=tmp_path / "models")
    yield queue
    queue.close(stop=True)


@pytest.fixture
def panel(qtbot, runs):
    widget = TrainingPanel(runs)
    qtbot.addWidget(widget)
    widget.resize(1000, 300)
    widget.show()
    return widget


def test_the_curve_sample_and_step_follow_the_run_until_the_model_is_ready(qtbot, panel, runs, tmp_path):
    added = []
    runs.model_added.connect(added.append)
    job = runs.submit(spec(tmp_path))
    assert panel.selected() is job and MEASURING in panel.eta_label.text()  # no step measured yet
    assert panel.stop_button.isEnabled() and not panel.resume_button.isEnabled()
    qtbot.waitUntil(lambda: job.state == DONE, timeout=60_000)
    assert added == [job]
    assert panel.curve.points == job.progress.losses and len(panel.curve.points) == 6
    assert set(panel.curve.series()) == {"loss", "style"}
    assert panel.sample.pixmap() is not None and not panel.sample.pixmap().isNull()
    assert panel.sample.toolTip().endswith("step-0000003.png")
    assert panel.step_label.text() == "Step 6 / 6"
    assert "Ready" in panel.message.text() and not panel.stop_button.isEnabled()
    assert panel.queue.currentItem().text().startswith("Starry \u2014 done")


def test_stop_and_resume_buttons(qtbot, panel, runs, tmp_path, monkeypatch):
    gate = tmp_path / "gate"
    monkeypatch.setenv("FAKE_WAIT_FILE", str(gate))
    job = runs.submit(spec(tmp_path, steps=12))
    qtbot.waitUntil(lambda: job.progress.step >= 2, timeout=30_000)
    assert "steps/s" in panel.eta_label.text() and "measured" in panel.eta_label.text()
    panel.stop_button.click()
    qtbot.waitUntil(lambda: job.state == STOPPED, timeout=30_000)
    assert panel.resume_button.isEnabled() and not panel.stop_button.isEnabled()
    points = len(panel.curve.points)
    gate.touch()
    panel.resume_button.click()
    qtbot.waitUntil(lambda: job.state == DONE, timeout=60_000)
    assert len(panel.curve.points) == 12 > points  # the same curve, continued
    panel.remove_button.click()
    assert panel.queue.count() == 0 and panel.empty.isVisibleTo(panel)


def test_closing_asks_and_cancel_keeps_the_app_open(qtbot, panel, runs, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_WAIT_FILE", str(tmp_path / "never"))
    job = runs.submit(spec(tmp_path))
    qtbot.waitUntil(lambda: job.progress.step >= 1, timeout=30_000)
    child = runs._stage.child
    asked = []
    monkeypatch.setattr(training_panel, "ask_close_training",
                        lambda parent, name, detail: asked.append((name, detail)) or asked_answer.pop(0))
    asked_answer = ["cancel", "stop"]
    assert panel.confirm_close() is False and child.returncode() is None
    assert asked[0][0] == "Starry" and "genart-train export" in asked[0][1]
    assert panel.confirm_close() is True
    assert child.process.wait(30) == 130  # Stop: the child saved a checkpoint and ended


def test_speed_and_duration_words():
    job = TrainingJob(1, TrainingSpec("style", data=None, model_id="m", name="M", steps=100), order=1)
    assert speed_text(job) == f"Time left: {MEASURING}"
    job.progress.steps_per_s, job.progress.eta_s = 0.5, 190.0
    assert speed_text(job) == "Time left: 3 min 10 s (2.0 s/step, measured)"
    assert [duration_text(s) for s in (4.4, 75, 1500, 7380)] == ["4 s", "1 min 15 s", "25 min", "2 h 03 min"]


def test_tools_menu_opens_the_dialog_queues_into_the_training_dock_and_announces_the_model(qtbot, window,
                                                                                           monkeypatch, tmp_path):
    from genart_desktop.ui import train_dialog
    from genart_desktop.workspace import training_runs

    wanted = spec(tmp_path, name="From menu")

    def accepted(dialog):
        dialog.result_spec = wanted
        return train_dialog.TrainDialog.DialogCode.Accepted

    monkeypatch.setattr(train_dialog.TrainDialog, "exec", accepted)
    monkeypatch.setattr(training_runs, "default_program", lambda: (sys.executable, FAKE))
    assert window.actions["train_model"].text() == "&Train a Model\u2026"
    window.actions["train_model"].trigger()
    panel = window.training_panel
    assert "Training" in window.docks and window.docks["Training"].widget() is panel
    job = panel.selected()
    assert job.spec == wanted
    qtbot.waitUntil(lambda: job.state == DONE, timeout=60_000)
    assert window.services.registry.get("style-starry").name == "From menu"  # registered in the user models
    assert "style-starry" in window.statusBar().currentMessage()


def test_closing_the_window_while_training_can_keep_the_child_running(qtbot, window, monkeypatch, tmp_path):

    from genart_desktop.ui import train_dialog
    from genart_desktop.workspace import training_runs

    monkeypatch.setenv("FAKE_WAIT_FILE", str(tmp_path / "never"))
    monkeypatch.setattr(training_runs, "default_program", lambda: (sys.executable, FAKE))
    monkeypatch.setattr(train_dialog.TrainDialog, "exec",
                        lambda dialog: setattr(dialog, "result_spec", spec(tmp_path)) or QDialog.DialogCode.Accepted)
    job = window.train_model()
    qtbot.waitUntil(lambda: job.progress.step >= 1, timeout=30_000)
    child = window.training_panel.runs._stage.child
    questions = []
    monkeypatch.setattr(training_panel, "ask_close_training",
                        lambda parent, name, detail: questions.append(name) or "keep")
    try:
        window.document.mark_clean()
        assert window.close() and questions == ["Starry"]
        time.sleep(0.3)
        assert child.returncode() is None  # it trains on without the app
    finally:
        if child.returncode() is None:
            os.kill(child.pid, signal.SIGKILL)
            child.process.wait(10)


def leave_a_run_training(tmp_path, runs_dir, models_dir):
    """An earlier session: a job trains (held at its last step until the gate file exists), the app closes and
    keeps it running. Returns the job and its child."""
    earlier = TrainingRuns(None, program=(sys.executable, FAKE), runs_dir=runs_dir, models_dir=models_dir)
    job = earlier.submit(spec(tmp_path))
    deadline = time.monotonic() + 30
    while job.progress.step < 5:
        assert time.monotonic() < deadline
        earlier.deliver()
        time.sleep(0.02)
    child = earlier._stage.child
    earlier.close(stop=False)
    return job, child


def test_the_dock_shows_a_run_kept_running_by_the_last_session_and_stops_it(qtbot, tmp_path, monkeypatch,
                                                                            kill_children):
    monkeypatch.setenv("FAKE_WAIT_FILE", str(tmp_path / "gate"))
    kept, child = leave_a_run_training(tmp_path, tmp_path / "runs", tmp_path / "models")
    kill_children(child)
    registry = ModelRegistry(roots=[(tmp_path / "models", "user")], settings={})
    runs = TrainingRuns(registry, program=(sys.executable, FAKE), runs_dir=tmp_path / "runs",
                        models_dir=tmp_path / "models")
    [job] = runs.adopt_kept()
    panel = TrainingPanel(runs)
    qtbot.addWidget(panel)
    panel.show()
    assert panel.selected() is job and job.state == RUNNING
    assert panel.queue.currentItem().text().startswith("Starry \u2014 running")
    assert "Left running when the app closed" in panel.message.text()
    qtbot.waitUntil(lambda: len(panel.curve.points) == 5, timeout=30_000)  # the curve from its log
    assert panel.step_label.text() == "Step 5 / 6" and panel.stop_button.isEnabled()
    panel.stop_button.click()
    assert child.process.wait(30) == 130  # SIGINT reached the adopted process group
    qtbot.waitUntil(lambda: job.state == STOPPED, timeout=30_000)
    assert panel.resume_button.isEnabled() and job.resume_run == kept.progress.run_dir


def test_the_window_adopts_a_kept_run_at_start_and_makes_it_a_model(qtbot, window, tmp_path, monkeypatch,
                                                                    kill_children):
    from genart_desktop.core.paths import user_models_dir
    from genart_desktop.workspace import training_runs

    monkeypatch.setattr(training_runs, "default_program", lambda: (sys.executable, FAKE))
    gate = tmp_path / "gate"
    monkeypatch.setenv("FAKE_WAIT_FILE", str(gate))
    assert "Training" not in window.docks
    window.restore_preferences()
    assert "Training" not in window.docks  # nothing kept: the start builds nothing
    _kept, child = leave_a_run_training(tmp_path, runs_folder(), user_models_dir())
    kill_children(child)
    window.restore_preferences()  # the next start
    panel = window.training_panel
    assert window.docks["Training"].isVisible()
    [job] = panel.runs.jobs
    assert job.state == RUNNING and panel.selected() is job
    gate.touch()
    qtbot.waitUntil(lambda: job.state == DONE, timeout=60_000)
    assert window.services.registry.get("style-starry").name == "Starry"
    assert "style-starry" in window.statusBar().currentMessage()


SQUEEZENET = (Path(genart_desktop.__file__).resolve().parents[2] / "shared" / "data" / "weights"
              / "squeezenet_weights_tf_dim_ordering_tf_kernels_notop.h5")


@pytest.mark.slow
@pytest.mark.train
def test_a_tiny_real_run_goes_through_the_subprocess_to_a_registered_style(qtbot, tmp_path):
    """The real ``genart-train style --progress json`` (fine-tuning a shipped style at 64 px for 3 steps), then
    the real export with its parity check, into a registry the panel's queue rescans."""
    if not training_available():
        pytest.skip("the training extra (torch) is not installed")
    if not SQUEEZENET.is_file():
        pytest.skip(f"the SqueezeNet loss weights are not in {SQUEEZENET.parent}")
    photos = tmp_path / "photos"
    photos.mkdir()
    for number in range(4):
        noise_image_file(photos / f"photo{number}.png", (80 + 8 * number, 72))
    painting = tmp_path / "painting.png"
    noise_image_file(painting, (96, 96))
    shipped = builtin_models_dir() / "style-starry-night"
    registry = ModelRegistry(roots=[(tmp_path / "models", "user")], settings={})
    runs = TrainingRuns(registry, runs_dir=tmp_path / "runs", models_dir=tmp_path / "models")
    panel = TrainingPanel(runs)
    qtbot.addWidget(panel)
    job = runs.submit(TrainingSpec("style", photos, "style-tiny-real", "Tiny real", steps=3, style_image=painting,
                                   init_from=shipped if shipped.is_dir() else None, resolution=64, threads=1))
    try:
        qtbot.waitUntil(lambda: job.state in (DONE, FAILED), timeout=540_000)
    finally:
        runs.close(stop=True)
    assert job.state == DONE, job.message
    assert [step for step, _ in panel.curve.points] == [1, 2, 3] and "style" in panel.curve.series()
    assert not panel.sample.pixmap().isNull() and job.progress.sample.is_file()
    entry = registry.get("style-tiny-real")
    assert entry.family == "style" and entry.name == "Tiny real"
    card = json.loads((entry.folder / "model.json").read_text())
    assert card["metrics"]["parity_max_abs_diff"]["stylizer"] < 1e-3
