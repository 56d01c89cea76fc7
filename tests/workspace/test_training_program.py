"""How ``genart-train`` is started: the ``training_python`` setting, this Python (never when frozen), then a
``genart-train`` on PATH; none at all fails a job in one line instead of starting something that cannot train."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from genart_desktop.core.settings import DEFAULTS, load_settings, save_settings
from genart_desktop.workspace import training_program, training_runs
from genart_desktop.workspace.training_program import (
    INSTALL_COMMAND,
    PYTHON_SETTING,
    TRAIN_MODULE,
    find_program,
    missing_training_message,
    python_can_train,
)
from genart_desktop.workspace.training_runs import FAILED, TrainingRuns
from tests.workspace.test_training_runs import spec

SCRIPT = "/opt/tools/bin/genart-train"


@pytest.fixture
def machine(monkeypatch):
    """A machine to describe: frozen or not, the extra here or not, genart-train on PATH or not, the setting's
    Python able to train or not."""
    state = {"frozen": False, "here": True, "on_path": True, "python_ok": True}

    def apply():
        if state["frozen"]:
            monkeypatch.setattr(sys, "frozen", True, raising=False)
        else:
            monkeypatch.delattr(sys, "frozen", raising=False)
        monkeypatch.setattr(training_program, "training_available", lambda: state["here"])
        monkeypatch.setattr(shutil, "which", lambda name: SCRIPT if state["on_path"] and name == "genart-train"
                            else None)
        monkeypatch.setattr(training_program, "python_can_train", lambda python: state["python_ok"])

    def describe(**changes):
        state.update(changes)
        apply()

    apply()
    return describe


def test_the_setting_then_this_python_then_genart_train_on_path(machine):
    chosen = {PYTHON_SETTING: "/envs/cuda/bin/python"}
    assert find_program(chosen) == ("/envs/cuda/bin/python", "-m", TRAIN_MODULE)
    machine(python_ok=False)  # a setting whose Python lacks the extra is passed over
    assert find_program(chosen) == (sys.executable, "-m", TRAIN_MODULE)
    assert find_program({PYTHON_SETTING: ""}) == (sys.executable, "-m", TRAIN_MODULE)
    machine(here=False)  # this Python lacks the extra or the training module
    assert find_program({}) == (SCRIPT,)
    machine(here=True, frozen=True)  # a packaged app: sys.executable is the app itself
    assert find_program({}) == (SCRIPT,)
    machine(on_path=False)
    assert find_program({}) is None
    machine(python_ok=True)
    assert find_program(chosen) == ("/envs/cuda/bin/python", "-m", TRAIN_MODULE)  # even when frozen


def test_the_setting_is_read_from_the_settings_file(machine):
    assert DEFAULTS[PYTHON_SETTING] == "" and load_settings()[PYTHON_SETTING] == ""
    save_settings({PYTHON_SETTING: "/envs/train/bin/python"})
    assert find_program() == ("/envs/train/bin/python", "-m", TRAIN_MODULE)


def test_a_python_is_asked_whether_it_can_train(tmp_path):
    assert python_can_train(sys.executable) == training_program.training_available()
    without = tmp_path / "python-without-torch"
    without.write_text("#!/bin/sh\nexit 1\n")
    without.chmod(0o755)
    assert not python_can_train(str(without))
    assert not python_can_train(str(tmp_path / "no-such-python"))


def test_without_a_program_a_job_fails_in_one_line_and_one_found_later_is_used(tmp_path, monkeypatch):
    found: list = [None]
    monkeypatch.setattr(training_runs, "default_program", lambda: found[0])
    runs = TrainingRuns(program=None, runs_dir=tmp_path / "runs", models_dir=tmp_path / "models")
    assert runs.program is None
    job = runs.submit(spec(tmp_path))
    assert job.state == FAILED and job.message == missing_training_message()
    assert INSTALL_COMMAND in job.message and not runs.busy
    found[0] = (sys.executable, str(Path(__file__).with_name("fake_trainer.py")))  # installed meanwhile
    runs.resume(job)
    assert runs.wait_idle(60) and job.state == "done"
