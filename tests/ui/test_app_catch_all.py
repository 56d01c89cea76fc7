"""App start-up turns any exception into one line on stderr (traceback in the user log): exit code 2 when the
window cannot be made, and the app stays open when opening the file named on the command line fails."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import errno, sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
import genart_desktop.ui.app as app_module

real_create = app_module.create_main_window

def broken_window(registry=None):
    raise ValueError("no window today\\nsecond line")

def window_that_cannot_open(registry=None):
    window = real_create(registry)
    def refuse(path):
        raise OSError(errno.ENAMETOOLONG, "File name too long", path)
    window.open_file = refuse
    QTimer.singleShot(300, QApplication.instance().quit)
    return window

app_module.create_main_window = broken_window if sys.argv[1] == "window" else window_that_cannot_open
print("EXIT", app_module.run_app(["--no-recovery", "x" * 20 + "\\x1b[2J.ora"]))
"""


def _run(tmp_path: Path, mode: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", GENART_MODELS_DIR=str(tmp_path / "no-models"),
               GENART_HOME=str(tmp_path / "home"), PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-c", SCRIPT, mode], env=env, capture_output=True, text=True,
                          timeout=120, cwd=ROOT)


def test_a_failing_start_is_one_line_and_exit_code_2(tmp_path):
    done = _run(tmp_path, "window")
    assert "EXIT 2" in done.stdout, done.stdout + done.stderr
    assert done.stderr == "genart: ValueError: no window today\n"
    assert "Traceback" in (tmp_path / "home" / "logs" / "genart.log").read_text()


def test_a_file_that_cannot_be_opened_is_one_escaped_line_and_the_app_stays(tmp_path):
    done = _run(tmp_path, "open")
    assert "EXIT 0" in done.stdout, done.stdout + done.stderr
    lines = [line for line in done.stderr.splitlines() if "propagateSizeHints" not in line]  # Qt's offscreen note
    assert lines == ["genart: Cannot use xxxxxxxxxxxxxxxxxxxx\\x1b[2J.ora: File name too long."]
