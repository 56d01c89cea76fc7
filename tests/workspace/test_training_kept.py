"""Trainings left running when the app closed: written down on close, adopted by the next start with a real fake
``genart-train`` child (tests/workspace/fake_trainer.py): followed and exported, exported when done meanwhile,
stopped with Resume when they died, stoppable through their process group; a reused pid is never taken for them."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from genart_desktop.engine.registry import ModelRegistry
from genart_desktop.workspace.training_kept import (
    EXPORT,
    TRAIN,
    KeptRun,
    load_kept,
    save_kept,
)
from genart_desktop.workspace.training_pids import process_identity, same_process
from genart_desktop.workspace.training_runs import (
    DONE,
    EXPORTING,
    FAILED,
    RUNNING,
    STOPPED,
    TrainingRuns,
)
from tests.workspace.test_training_runs import deliver_until, make_runs, spec

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="process identity is read from /proc or ps")


@pytest.fixture
def gate(tmp_path, monkeypatch) -> Path:
    """The fake trainer holds its last step until this file exists."""
    path = tmp_path / "gate"
    monkeypatch.setenv("FAKE_WAIT_FILE", str(path))
    return path


def leave_running(tmp_path: Path, steps: int = 5, stop: bool = False):
    """A first session: one job trains, the app closes (keep running, or stop); returns the job and its child."""
    first = make_runs(tmp_path)
    job = first.submit(spec(tmp_path, steps=steps))
    deliver_until(first, lambda: job.progress.step >= steps - 1)  # held at the last step by the gate
    child = first._stage.child
    notes = first.close(stop=stop)
    assert len(notes) == 1
    return job, child


def next_session(tmp_path: Path) -> tuple[TrainingRuns, ModelRegistry]:
    registry = ModelRegistry(roots=[(tmp_path / "models", "user")], settings={})
    return make_runs(tmp_path, registry), registry


def test_a_run_kept_running_is_adopted_followed_and_exported_when_it_ends(tmp_path, gate, kill_children):
    kept, child = leave_running(tmp_path)
    kill_children(child)
    [record] = load_kept(tmp_path / "runs" / "kept.json")
    assert (record.kind, record.pid, record.run_dir) == (TRAIN, child.pid, kept.progress.run_dir)
    assert record.identity == process_identity(child.pid) and record.stdout == child.stdout_path
    assert record.spec == kept.spec

    runs, registry = next_session(tmp_path)
    added = []
    runs.model_added.connect(added.append)
    [job] = runs.adopt_kept()
    assert not runs.kept_path.exists()  # taken in: a crash now does not adopt it twice
    assert job.state == RUNNING and runs.current is job and job.can_stop
    deliver_until(runs, lambda: job.progress.step == 4)  # the log read from its start: the whole curve
    assert [step for step, _ in job.progress.losses] == [1, 2, 3, 4] and job.progress.run_dir == record.run_dir
    time.sleep(0.3)
    runs.deliver()
    assert job.state == RUNNING  # still training on its own
    gate.touch()
    assert runs.wait_idle(60)
    assert job.state == DONE and added == [job] and job.model_id == "style-starry"
    assert registry.get("style-starry").name == "Starry"
    assert [step for step, _ in job.progress.losses] == [1, 2, 3, 4, 5]


def test_a_kept_run_that_finished_while_the_app_was_closed_is_exported_at_start(tmp_path, gate, kill_children):
    kept, child = leave_running(tmp_path)
    kill_children(child)
    gate.touch()
    assert child.process.wait(30) == 0
    runs, registry = next_session(tmp_path)
    [job] = runs.adopt_kept()
    assert runs.wait_idle(60)
    assert job.state == DONE and registry.get("style-starry").ok
    assert job.progress.step == 5 and job.progress.run_dir == kept.progress.run_dir
    assert len(list((tmp_path / "runs").glob("0*"))) == 1  # exported, not trained again


def test_a_kept_run_that_died_unfinished_is_stopped_and_resume_trains_it(tmp_path, gate, kill_children):
    _kept, child = leave_running(tmp_path)
    kill_children(child)
    os.kill(child.pid, signal.SIGKILL)  # no checkpoint, no last line
    child.process.wait(10)
    runs, _registry = next_session(tmp_path)
    [job] = runs.adopt_kept()
    assert runs.wait_idle(30)
    assert job.state == STOPPED and job.can_resume and "before its first checkpoint" in job.message
    gate.touch()
    runs.resume(job)
    assert runs.wait_idle(60) and job.state == DONE


def test_stop_reaches_an_adopted_run_through_its_process_group_and_resume_continues_it(tmp_path, gate,
                                                                                       kill_children):
    kept, child = leave_running(tmp_path, steps=8)
    kill_children(child)
    runs, _registry = next_session(tmp_path)
    [job] = runs.adopt_kept()
    deliver_until(runs, lambda: job.progress.step == 7)
    runs.stop(job)
    assert child.process.wait(30) == 130  # the trainer got SIGINT: checkpoint, "stopped"
    deliver_until(runs, lambda: job.state == STOPPED)
    assert job.resume_run == kept.progress.run_dir and "Resume" in job.message
    gate.touch()
    runs.resume(job)
    assert runs.wait_idle(60) and job.state == DONE
    assert [step for step, _ in job.progress.losses] == list(range(1, 9))  # one curve across the two sessions


def test_closing_again_keeps_an_adopted_run_for_the_start_after(tmp_path, gate, kill_children):
    _kept, child = leave_running(tmp_path)
    kill_children(child)
    second, _registry = next_session(tmp_path)
    [job] = second.adopt_kept()
    notes = second.close(stop=False)
    assert len(notes) == 1 and f"process {child.pid}" in notes[0]
    third, _registry = next_session(tmp_path)
    [again] = third.adopt_kept()
    assert again.state == RUNNING and again.spec == job.spec
    gate.touch()
    assert third.wait_idle(60) and again.state == DONE


def finished_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait(30)
    return process.pid


def write_log(path: Path, *events: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(event) + "\n" for event in events))
    return path


def test_a_reused_pid_is_not_taken_for_the_kept_run_and_is_never_signalled(tmp_path):
    me = os.getpid()
    assert same_process(me, process_identity(me)) and not same_process(me, "another start")
    run = tmp_path / "runs" / "0001-style"
    log_file = write_log(tmp_path / "runs" / "logs" / "a.out.jsonl",
                         {"event": "start", "run": str(run), "family": "style", "step": 0, "total": 6},
                         {"event": "step", "step": 2, "total": 6, "losses": {"loss": 1.0}},
                         {"event": "checkpoint", "step": 2, "path": str(run / "checkpoints" / "step-2")})
    record = KeptRun(TRAIN, me, "another start", log_file, tmp_path / "none.err.log", spec(tmp_path), run)
    save_kept(tmp_path / "runs" / "kept.json", [record])
    runs = make_runs(tmp_path)
    [job] = runs.adopt_kept()
    runs.stop(job)  # a stranger with our pid: not signalled (this test process is still here to assert)
    assert runs.wait_idle(30)
    assert job.state == STOPPED and job.resume_run == run and job.progress.step == 2
    assert "step 2 while the app was closed" in job.message


def closed_while_exporting(tmp_path, stop):
    """A 3-step run trained to the end, the app closed while its export child runs (which it then finishes)."""
    first = make_runs(tmp_path)
    trained = first.submit(spec(tmp_path, steps=3))
    deliver_until(first, lambda: trained.state == EXPORTING)
    first._stage.child.wait(30)
    first.close(stop=stop)
    return first


def test_an_export_cut_short_while_the_app_was_closed_is_exported_again(tmp_path):
    first = closed_while_exporting(tmp_path, stop=False)
    first_export = load_kept(first.kept_path)
    assert [record.kind for record in first_export] == [EXPORT]
    (tmp_path / "models" / "style-starry" / "model.json").unlink()  # as if it had died before moving it in place
    runs, registry = next_session(tmp_path)
    [job] = runs.adopt_kept()
    assert job.state == EXPORTING
    assert runs.wait_idle(30)
    assert job.state == FAILED and job.export_pending and "without writing the model" in job.message
    runs.resume(job)
    assert runs.wait_idle(60) and job.state == DONE and registry.get(job.model_id).ok


def test_an_export_that_finished_while_the_app_was_closed_is_registered(tmp_path):
    closed_while_exporting(tmp_path, stop=True)
    runs, registry = next_session(tmp_path)
    added = []
    runs.model_added.connect(added.append)
    [job] = runs.adopt_kept()
    assert runs.wait_idle(30)
    assert job.state == DONE and added == [job] and registry.get("style-starry").ok


def test_the_record_file_round_trips_and_damage_is_skipped_with_one_line(tmp_path, caplog):
    path = tmp_path / "kept.json"
    good = KeptRun(EXPORT, 41, "12345", tmp_path / "o", tmp_path / "e", spec(tmp_path, init_from=tmp_path / "m",
                                                                              threads=2, style_weight=2.5),
                   tmp_path / "run", "style-x-2", tmp_path / "models" / "style-x-2")
    save_kept(path, [good])
    assert load_kept(path) == [good]
    saved = json.loads(path.read_text())
    damaged = [{**saved["runs"][0], "pid": "41"}, {**saved["runs"][0], "kind": "export", "model_folder": None},
               {**saved["runs"][0], "spec": {**saved["runs"][0]["spec"], "family": "export"}}, [1]]
    path.write_text(json.dumps({"version": 1, "runs": [*damaged, saved["runs"][0]]}))
    with caplog.at_level(logging.WARNING, logger="genart_desktop.workspace.training_kept"):
        assert load_kept(path) == [good]
    assert len(caplog.records) == len(damaged)
    path.write_text("{not json")
    assert load_kept(path) == []
    save_kept(path, [])
    assert not path.exists() and load_kept(path) == []


def test_a_finished_process_is_not_alive_for_any_identity():
    pid = finished_pid()
    assert process_identity(pid) is None and not same_process(pid, "")


def test_a_kept_run_whose_log_is_gone_ends_as_stopped_with_one_log_line(tmp_path, caplog):
    record = KeptRun(TRAIN, finished_pid(), "12345", tmp_path / "gone.out.jsonl", tmp_path / "gone.err.log",
                     spec(tmp_path))
    (tmp_path / "runs").mkdir()
    save_kept(tmp_path / "runs" / "kept.json", [record])
    runs = make_runs(tmp_path)
    with caplog.at_level(logging.WARNING, logger="genart_desktop.workspace.training_process"):
        [job] = runs.adopt_kept()
        assert runs.wait_idle(30)
    assert job.state == STOPPED and job.resume_run is None
    assert ["Cannot follow" in record.getMessage() for record in caplog.records] == [True]
