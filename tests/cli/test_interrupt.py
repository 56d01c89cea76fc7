"""Ctrl+C and the wall-clock limit stop a command-line job through the job's terminate path, even while the main
thread is inside an onnxruntime run that would otherwise never return (a Loop of 2**62 iterations)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# A `genart spin` subcommand whose job runs a never-ending Loop graph directly in onnxruntime (the registry would
# refuse the graph; here the point is the run, not the check).
SCRIPT = textwrap.dedent("""
    import sys, types
    import numpy as np
    import onnxruntime as ort
    from genart_desktop import cli
    from genart_desktop.engine.jobs import JobRequest, run_inline
    from genart_desktop.engine.session import ModelSession
    from tests.hardening.corpus_models import loop_model_bytes

    def run(args):
        raw = ort.InferenceSession(loop_model_bytes(), providers=["CPUExecutionProvider"])
        session = ModelSession(raw, None, "Spin model")
        def work(context):
            print("running", flush=True)
            return session.run({"content": np.zeros((1, 3, 2, 2), np.float32)}, context.run_options)
        limit = float(sys.argv[1]) if len(sys.argv) > 1 else None
        return run_inline(JobRequest(work, "Spin", time_limit=limit)) and 0

    spin = types.SimpleNamespace(NAME="spin", HELP="spin", add_arguments=lambda parser: None, run=run)
    cli._subcommands = lambda: {"spin": spin}
    sys.exit(cli.run(["spin"]))
""")


def _start(tmp_path: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "GENART_HOME": str(tmp_path / "home"), "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", SCRIPT, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, cwd=ROOT)


def test_ctrl_c_stops_a_job_stuck_in_an_onnx_run(tmp_path):
    process = _start(tmp_path)
    try:
        assert process.stdout.readline().strip() == "running"
        time.sleep(0.5)  # well inside session.run by now
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130
    assert err.strip() == "genart: interrupted"


def test_wall_clock_limit_stops_the_job_with_one_line(tmp_path):
    process = _start(tmp_path, "1.5")
    try:
        _, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 2
    assert err.strip() == "genart: Spin took longer than 1.5 s and was stopped."
    log = (tmp_path / "home" / "logs" / "genart.log").read_text()
    assert "took longer than 1.5 s" in log
