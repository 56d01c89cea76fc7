"""How the app starts ``genart-train``, or why it cannot.

In a normal install the app's own Python runs the training module, the same installation as the app. A packaged
app (PyInstaller: ``sys.frozen``) has no Python to spare and no torch inside, and a normal install may lack the
training extra; then a ``genart-train`` on PATH is used, so installing the extra anywhere on the machine is enough.
The ``training_python`` setting names a Python that has the extra and comes first: a person who set it meant it.
"""

from __future__ import annotations

import importlib.util
import logging
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from genart_desktop.core.settings import load_settings
from genart_desktop.core.text import shown

log = logging.getLogger(__name__)

TRAIN_MODULE = "genart_desktop.training.cli"
TRAIN_SCRIPT = "genart-train"
PYTHON_SETTING = "training_python"
INSTALL_COMMAND = 'pip install "genart-desktop[train]"'
MISSING_TRAINING = "Training needs the training extra (PyTorch), and this app cannot find it. Install it with:"
MISSING_HINT = (f"The app then starts the {TRAIN_SCRIPT} on your PATH, or the Python named as "
                f"\u201c{PYTHON_SETTING}\u201d in its settings.json.")
PROBE_TIMEOUT_S = 30.0
# Looked up, never imported: importing torch takes seconds.
_PROBE = ("import importlib.util as u, sys; "
          f"sys.exit(0 if u.find_spec('torch') and u.find_spec('{TRAIN_MODULE}') else 3)")

Program = tuple[str, ...]


def training_available() -> bool:
    """Whether this Python has the training extra and the training module (looked up, never imported)."""
    try:
        return importlib.util.find_spec("torch") is not None and importlib.util.find_spec(TRAIN_MODULE) is not None
    except (ImportError, ValueError):
        return False


def missing_training_message() -> str:
    return f"{MISSING_TRAINING} {INSTALL_COMMAND}"


def find_program(settings: Mapping[str, Any] | None = None) -> Program | None:
    """The command that starts ``genart-train``: the ``training_python`` setting's Python when it has the extra,
    else this Python (not when frozen), else ``genart-train`` on PATH; None when there is none."""
    values = load_settings() if settings is None else settings
    python = str(values.get(PYTHON_SETTING) or "").strip()
    if python and python_can_train(python):
        return (python, "-m", TRAIN_MODULE)
    if not getattr(sys, "frozen", False) and training_available():
        return (sys.executable, "-m", TRAIN_MODULE)
    script = shutil.which(TRAIN_SCRIPT)
    return (script,) if script else None


def python_can_train(python: str) -> bool:
    """Whether the Python at ``python`` has the training extra (it is asked, in a child, in well under a second)."""
    path = Path(python).expanduser()
    try:
        result = subprocess.run([str(path), "-c", _PROBE], stdin=subprocess.DEVNULL, capture_output=True,
                                timeout=PROBE_TIMEOUT_S, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        log.warning("The %s setting %s cannot be started: %s", PYTHON_SETTING, shown(path), exc)
        return False
    if result.returncode != 0:
        log.warning("The %s setting %s has no training extra (torch); ignored", PYTHON_SETTING, shown(path))
    return result.returncode == 0
