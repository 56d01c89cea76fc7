"""The ``sd``, ``special``, ``root`` and ``cli`` cases of corpus_models.py, each within the per-case budget: handled
within 10 s, one line naming the file (escaped), nothing written, and (for commands, run in a subprocess) under
2 GB of memory."""

from __future__ import annotations

import hashlib
import os
import re
import resource
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from genart_desktop.core.errors import ModelError
from genart_desktop.engine.registry import ModelRegistry
from genart_desktop.engine.sd.folder import SDFolder
from genart_desktop.engine.sd.tokenizer import CLIPTokenizer
from tests.hardening.corpus import Case, cases
from tests.hardening.corpus_models import SECRET
from tests.hardening.helpers import SETTINGS, assert_clear_message

BUDGET_S = 10.0
BUDGET_RSS_MB = 2048
ROOT = Path(__file__).resolve().parents[2]
SD_FILES = ["model_index.json", "merges.txt", "vocab.json", "scheduler_config.json", "config.json", "model.onnx"]


def params(kind: str) -> list:
    return [pytest.param(c, id=c.name) for c in cases(kind)]


def digest(folder: Path) -> dict[str, str]:
    """Like helpers.tree_digest, but never opens a named pipe, and leaves out the log folder a command may write."""
    found: dict[str, str] = {}
    for root, dirs, files in os.walk(folder, followlinks=False):
        for name in dirs + files:
            path = Path(root) / name
            key = str(path.relative_to(folder))
            mode = os.lstat(path).st_mode
            if key.split(os.sep)[:2] == ["home", "logs"]:
                continue
            if stat.S_ISLNK(mode):
                found[key] = "link->" + os.readlink(path)
            elif stat.S_ISREG(mode):
                found[key] = hashlib.sha256(path.read_bytes()).hexdigest()
            else:
                found[key] = stat.filemode(mode)
    return found


def within_budget(call):
    """``call()`` on a helper thread; fails the test when it takes longer than the budget (a hang on a pipe)."""
    outcome: dict[str, object] = {}

    def target() -> None:
        try:
            outcome["value"] = call()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            outcome["error"] = exc

    began = time.monotonic()
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(BUDGET_S)
    assert not thread.is_alive(), f"still running after {BUDGET_S} s"
    assert time.monotonic() - began < BUDGET_S
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome.get("value")


def assert_one_safe_line(message: str) -> None:
    assert "\n" not in message and "\r" not in message and "\x1b" not in message, repr(message)
    assert SECRET not in message and "PATH=" not in message


def _load_sd(folder: Path) -> None:
    SDFolder.open(folder)
    CLIPTokenizer.from_folder(folder / "tokenizer")


@pytest.mark.parametrize("case", params("sd"))
def test_stable_diffusion_folders(case: Case, tmp_path):
    root = tmp_path / "models"
    root.mkdir()
    folder = case.build(root)
    before = digest(tmp_path)
    with pytest.raises(ModelError) as refused:
        within_budget(lambda: _load_sd(folder))
    message = str(refused.value)
    assert_clear_message(message, [folder.name, *SD_FILES], case.reason)
    assert_one_safe_line(message)
    entries = within_budget(lambda: ModelRegistry([(root, "user")], SETTINGS).entries())
    entry = next(e for e in entries if e.folder == folder)
    if not entry.ok:  # the registry checks the layout; tokenizer contents are checked when the model loads
        assert_clear_message(entry.reason, [folder.name, *SD_FILES], "")
        assert_one_safe_line(entry.reason)
    assert digest(tmp_path) == before


@pytest.mark.parametrize("case", params("special"))
def test_special_files_in_model_folders(case: Case, tmp_path):
    root = tmp_path / "models"
    root.mkdir()
    folder = case.build(root)
    before = digest(tmp_path)
    entries = within_budget(lambda: ModelRegistry([(root, "user")], SETTINGS).entries())
    entry = next(e for e in entries if e.folder == folder)
    if case.expect == "refuse":
        assert not entry.ok
        assert_clear_message(entry.reason, [folder.name, "model.json", *SD_FILES], case.reason)
        assert_one_safe_line(entry.reason)
        if entry.family == "sd-onnx" or (folder / "tokenizer").exists():
            with pytest.raises(ModelError):
                within_budget(lambda: _load_sd(folder))
    else:
        assert entry.ok, entry.reason
    assert digest(tmp_path) == before


def _genart(args: list[str], home: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    empty = tmp_path / "no-shipped-models"
    empty.mkdir(exist_ok=True)
    env = {**os.environ, "GENART_HOME": str(home), "GENART_MODELS_DIR": str(empty), "GENART_PROVIDER": "cpu",
           "PYTHONPATH": str(ROOT)}
    began = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "genart_desktop", *args], capture_output=True, text=True,
                          errors="backslashreplace", env=env, timeout=BUDGET_S * 3, cwd=ROOT)
    # Starting Python and importing numpy and onnxruntime takes a few seconds of the budget on a busy machine.
    assert time.monotonic() - began < BUDGET_S * 2
    assert resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024 < BUDGET_RSS_MB
    assert "Traceback" not in done.stdout + done.stderr
    return done


@pytest.mark.parametrize("case", params("root"))
def test_hostile_models_roots(case: Case, tmp_path):
    home = case.build(tmp_path)
    before = digest(home)
    done = _genart(["models"], home, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stdout and not done.stderr
    lines = done.stdout.splitlines()
    assert not any(line.lstrip().startswith("forged-model") for line in lines)
    if case.expect == "refuse":
        assert any(re.search(case.reason, line) for line in lines), done.stdout
    else:
        assert "1 model ready" in done.stdout
    assert {k: v for k, v in digest(home).items() if not k.startswith("logs")} == before


@pytest.mark.parametrize("case", params("cli"))
def test_commands_fail_with_one_line(case: Case, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    args = case.build(work)
    home = work / "home" if (work / "home").exists() else tmp_path / "home"
    before = digest(work)
    done = _genart(args, home, tmp_path)
    assert done.returncode == 2, (done.returncode, done.stderr)
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("genart: "), done.stderr
    assert_one_safe_line(done.stderr.rstrip("\n"))
    assert re.search(case.reason, lines[0]), lines[0]
    assert digest(work) == before
