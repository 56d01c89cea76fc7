"""``--progress json`` through a real ``genart-train`` child process: the lines a program reads, Ctrl+C, errors."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")

from genart_desktop.training.checkpoint import list_checkpoints  # noqa: E402
from genart_desktop.training.progress import JsonProgress, emit_error  # noqa: E402
from tests.training._fixtures import build_tiny_dataset  # noqa: E402
from tests.training.test_gan import TINY  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "genart_desktop.training.cli", *args]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}


def _events(stdout: str) -> list[dict]:
    lines = stdout.splitlines()
    assert lines, "nothing on stdout"
    return [json.loads(line) for line in lines]  # every line is one JSON object


@pytest.mark.slow
def test_json_lines_of_a_tiny_run(tmp_path):
    data = build_tiny_dataset(tmp_path)
    args = ["gan", "--data", str(data), "--runs-dir", str(tmp_path / "runs"), *TINY, "--steps", "5",
            "--log-every", "2", "--sample-every", "3", "--checkpoint-every", "4", "--progress", "json"]
    done = subprocess.run(_command(*args), capture_output=True, text=True, check=False, env=_env(), timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    events = _events(done.stdout)
    run = tmp_path / "runs" / "0001-gan"
    assert events[0] == {"event": "start", "run": str(run), "family": "gan", "step": 0, "total": 5}
    assert events[-1] == {"event": "done", "step": 5, "run": str(run)}
    steps = [e for e in events if e["event"] == "step"]
    assert [e["step"] for e in steps] == [2, 4, 5]
    assert all(e["total"] == 5 and e["steps_per_s"] > 0 and e["eta_s"] >= 0 for e in steps)
    assert set(steps[0]["losses"]) == {"d_loss", "g_loss"} and steps[-1]["eta_s"] == 0
    assert steps[0]["elapsed_s"] <= steps[1]["elapsed_s"] <= steps[2]["elapsed_s"]
    files = [(e["event"], e["step"]) for e in events if e["event"] in ("sample", "checkpoint")]
    assert files == [("sample", 3), ("checkpoint", 4), ("sample", 5), ("checkpoint", 5)]
    for event in events:
        if "path" in event:
            assert Path(event["path"]).is_file() and Path(event["path"]).parent.parent == run


@pytest.mark.slow
def test_sigint_saves_a_checkpoint_says_stopped_and_resumes(tmp_path):
    data = build_tiny_dataset(tmp_path)
    args = ["gan", "--data", str(data), "--runs-dir", str(tmp_path / "runs"), *TINY, "--steps", "100000",
            "--checkpoint-every", "100000", "--sample-every", "100000", "--progress", "json"]
    child = subprocess.Popen(_command(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(),
                             cwd=ROOT)
    try:
        first = [json.loads(child.stdout.readline()) for _ in range(2)]
        assert [e["event"] for e in first] == ["start", "step"]
        child.send_signal(signal.SIGINT)
        rest, err = child.communicate(timeout=120)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    events = _events(rest)
    assert child.returncode == 130, err
    assert [e["event"] for e in events][-2:] == ["checkpoint", "stopped"]
    stopped = events[-1]["step"]
    run = Path(first[0]["run"])
    assert events[-1] == {"event": "stopped", "step": stopped, "run": str(run)}
    assert [s for s, _ in list_checkpoints(run / "checkpoints")] == [stopped]

    resumed = subprocess.run(_command("gan", "--resume", str(run), "--steps", str(stopped + 2), "--progress", "json"),
                             capture_output=True, text=True, check=False, env=_env(), timeout=300, cwd=ROOT)
    assert resumed.returncode == 0, resumed.stderr
    again = _events(resumed.stdout)
    assert again[0]["step"] == stopped and again[0]["total"] == stopped + 2
    assert again[-1] == {"event": "done", "step": stopped + 2, "run": str(run)}


@pytest.mark.slow
def test_a_bad_option_is_one_error_line_and_exit_2(tmp_path):
    args = ["gan", "--data", str(tmp_path / "missing"), "--runs-dir", str(tmp_path / "runs"), "--steps", "1",
            "--progress", "json"]
    done = subprocess.run(_command(*args), capture_output=True, text=True, check=False, env=_env(), timeout=120, cwd=ROOT)
    assert done.returncode == 2
    assert _events(done.stdout) == [{"event": "error", "message": f"The training data {tmp_path / 'missing'} "
                                                                  "does not exist."}]
    assert "does not exist" in done.stderr


def test_json_lines_fold_what_json_cannot_say():
    stream = io.StringIO()
    JsonProgress(stream).step(3, 10, {"loss": float("nan"), "kl": 0.5}, 2.0, 1.5)
    emit_error(stream, "two\nlines")
    step, error = (json.loads(line) for line in stream.getvalue().splitlines())
    assert step["losses"] == {"loss": None, "kl": 0.5} and step["eta_s"] == pytest.approx(4.7)
    assert error == {"event": "error", "message": "two lines"}
