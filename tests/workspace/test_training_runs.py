"""The training queue with a fake ``genart-train`` child (tests/workspace/fake_trainer.py): order, Stop and
Resume through SIGINT, error lines, malformed output, the export step and registration."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from genart_desktop.engine.registry import ModelRegistry
from genart_desktop.workspace.training_runs import (
    CANCELLED,
    DONE,
    FAILED,
    RUNNING,
    STOPPED,
    WAITING,
    TrainingRuns,
)
from genart_desktop.workspace.training_spec import TrainingSpec, train_arguments

FAKE = Path(__file__).with_name("fake_trainer.py")
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the fake trainer stops on SIGINT")


def spec(tmp_path: Path, name: str = "Starry", steps: int = 6, **extra) -> TrainingSpec:
    return TrainingSpec(family="style", data=tmp_path / "photos", model_id=f"style-{name.lower()}", name=name,
                        steps=steps, style_image=tmp_path / "painting.png", **extra)


def make_runs(tmp_path: Path, registry=None, program=None) -> TrainingRuns:
    return TrainingRuns(registry, program=program or (sys.executable, str(FAKE)), runs_dir=tmp_path / "runs",
                        models_dir=tmp_path / "models")


def deliver_until(runs: TrainingRuns, condition, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "the fake trainer did not get there in time"
        runs.deliver()
        time.sleep(0.02)


def test_jobs_run_one_at_a_time_in_the_order_they_were_queued(tmp_path):
    runs = make_runs(tmp_path)
    started: list[str] = []
    runs.changed.connect(lambda job: started.append(job.spec.name) if job.state == RUNNING and
                         job.spec.name not in started else None)
    first, second, third = (runs.submit(spec(tmp_path, name)) for name in ("One", "Two", "Three"))
    assert (first.state, second.state, third.state) == (RUNNING, WAITING, WAITING)
    runs.stop(third)  # a waiting job just leaves the queue
    assert third.state == CANCELLED
    assert runs.wait_idle(60)
    assert started == ["One", "Two"]
    assert (first.state, second.state) == (DONE, DONE)
    assert [job.model_id for job in (first, second)] == ["style-one", "style-two"]
    argv = json.loads((first.progress.run_dir / "argv.json").read_text())
    assert argv == train_arguments(first.spec, tmp_path / "runs")[1:]
    assert argv[argv.index("--progress") + 1] == "json"


def test_updates_arrive_on_the_delivering_thread_with_losses_sample_and_speed(tmp_path):
    import threading

    runs = make_runs(tmp_path)
    threads = set()
    runs.changed.connect(lambda job: threads.add(threading.current_thread()))
    job = runs.submit(spec(tmp_path, steps=8))
    assert runs.wait_idle(60)
    assert threads == {threading.current_thread()}
    assert [step for step, _ in job.progress.losses] == list(range(1, 9))
    assert job.progress.losses[-1][1] == {"loss": 10.0 / 8, "style": 5.0 / 8}
    assert job.progress.sample.name == "step-0000004.png" and job.progress.sample.is_file()
    assert job.progress.steps_per_s > 0 and job.fraction == 1.0
    assert runs.estimate_s(spec(tmp_path, steps=80)) == pytest.approx(80 / job.progress.steps_per_s)
    assert runs.estimate_s(spec(tmp_path, steps=80, threads=3)) is None  # other settings: not measured
    later = make_runs(tmp_path)  # the next session reads the speed measured by this one
    assert later.estimate_s(spec(tmp_path, steps=80)) == pytest.approx(80 / job.progress.steps_per_s)


def test_stop_checkpoints_through_sigint_and_resume_continues_the_same_run(tmp_path, monkeypatch):
    gate = tmp_path / "let-it-finish"
    monkeypatch.setenv("FAKE_WAIT_FILE", str(gate))
    runs = make_runs(tmp_path)
    job = runs.submit(spec(tmp_path, steps=20))
    later = runs.submit(spec(tmp_path, "Later", steps=2))
    deliver_until(runs, lambda: job.progress.step >= 3)
    runs.stop(job)
    deliver_until(runs, lambda: job.state == STOPPED)
    stopped_at, run = job.progress.step, job.progress.run_dir
    assert 3 <= stopped_at < 20 and job.resume_run == run and "Resume" in job.message
    assert job.progress.checkpoint.name == f"step-{stopped_at:07d}.safetensors"
    gate.touch()
    deliver_until(runs, lambda: later.state == DONE)  # the queue moved on to the next job
    runs.resume(job)
    assert runs.wait_idle(60) and job.state == DONE
    assert job.progress.run_dir == run  # the same run folder, continued from its checkpoint
    steps = [step for step, _ in job.progress.losses]
    assert steps == list(range(1, 21))  # one curve across the stop


def test_an_error_line_fails_the_job_with_its_message_and_the_queue_goes_on(tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_FAIL_AT", "3")
    runs = make_runs(tmp_path)
    job = runs.submit(spec(tmp_path))
    assert runs.wait_idle(60)
    assert job.state == FAILED
    assert job.message == "Training diverged at step 3 (loss is not a number)"
    assert job.can_resume and job.resume_run is None  # no checkpoint yet: Resume starts again


def test_malformed_lines_are_ignored_with_one_log_line_each(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("FAKE_GARBAGE", "1")
    runs = make_runs(tmp_path)
    with caplog.at_level(logging.WARNING, logger="genart_desktop.workspace.training_progress"):
        job = runs.submit(spec(tmp_path, steps=3))
        assert runs.wait_idle(60)
    assert job.state == DONE and job.progress.step == 3
    assert len([r for r in caplog.records if "Ignored a progress line" in r.getMessage()]) == 3 * 3


def test_a_child_that_dies_without_a_line_shows_its_last_stderr_line(tmp_path):
    script = "import sys; sys.stderr.write('Traceback...\\ngenart-train: no photos in /x\\n'); sys.exit(2)"
    runs = make_runs(tmp_path, program=(sys.executable, "-c", script))
    job = runs.submit(spec(tmp_path))
    assert runs.wait_idle(30)
    assert job.state == FAILED and job.message == "genart-train: no photos in /x"


def test_a_program_that_cannot_start_fails_in_one_line(tmp_path):
    runs = make_runs(tmp_path, program=(str(tmp_path / "no-such-python"),))
    job = runs.submit(spec(tmp_path))
    second = runs.submit(spec(tmp_path, "Two"))
    assert job.state == FAILED and job.message.startswith("Cannot start genart-train")
    assert second.state == FAILED and not runs.busy


def test_a_finished_run_is_exported_registered_and_announced(tmp_path):
    registry = ModelRegistry(roots=[(tmp_path / "models", "user")], settings={})
    runs = make_runs(tmp_path, registry)
    added = []
    runs.model_added.connect(added.append)
    (tmp_path / "models" / "style-starry").mkdir(parents=True)  # taken: the export picks the next free id
    job = runs.submit(spec(tmp_path))
    assert runs.wait_idle(60)
    assert job.state == DONE and added == [job]
    assert job.model_id == "style-starry-2" and job.model_folder == tmp_path / "models" / "style-starry-2"
    entry = registry.get("style-starry-2")
    assert entry.family == "style" and entry.name == "Starry"


def test_a_failed_export_says_why_and_resume_exports_again(tmp_path, monkeypatch):
    registry = ModelRegistry(roots=[(tmp_path / "models", "user")], settings={})
    runs = make_runs(tmp_path, registry)
    monkeypatch.setenv("FAKE_EXPORT_FAIL", "1")
    job = runs.submit(spec(tmp_path))
    assert runs.wait_idle(60)
    assert job.state == FAILED and job.export_pending
    assert "parity check failed" in job.message and not (tmp_path / "models" / "style-starry").exists()
    monkeypatch.delenv("FAKE_EXPORT_FAIL")
    runs.resume(job)
    assert runs.wait_idle(60) and job.state == DONE
    assert registry.get("style-starry").ok
    assert len(list((tmp_path / "runs").glob("0*"))) == 1  # exported again, not trained again


def test_closing_the_app_keeps_or_stops_the_running_child(tmp_path, monkeypatch):
    gate = tmp_path / "gate"
    monkeypatch.setenv("FAKE_WAIT_FILE", str(gate))
    runs = make_runs(tmp_path)
    job = runs.submit(spec(tmp_path, steps=5))
    waiting = runs.submit(spec(tmp_path, "Queued"))
    deliver_until(runs, lambda: job.progress.run_dir is not None)
    child = runs._stage.child
    try:
        notes = runs.close(stop=False)
        assert waiting.state == CANCELLED and not runs.busy
        assert len(notes) == 1 and "keeps training" in notes[0] and str(job.progress.run_dir) in notes[0]
        time.sleep(0.3)
        assert child.returncode() is None  # still training on its own
        child.interrupt()  # the detached child still checkpoints on SIGINT and writes to its own file
        assert child.process.wait(30) == 130
        lines = child.stdout_path.read_text().splitlines()
        assert json.loads(lines[-1])["event"] == "stopped"
    finally:
        if child.returncode() is None:
            os.kill(child.pid, signal.SIGKILL)
            child.process.wait(10)


def test_close_with_stop_interrupts_the_child_and_says_how_to_resume(tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_WAIT_FILE", str(tmp_path / "never"))
    runs = make_runs(tmp_path)
    job = runs.submit(spec(tmp_path, steps=5))
    deliver_until(runs, lambda: job.progress.step >= 1)
    child = runs._stage.child
    notes = runs.close(stop=True)
    assert child.process.wait(30) == 130
    assert len(notes) == 1 and f"--resume {job.progress.run_dir}" in notes[0]
