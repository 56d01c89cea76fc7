"""``genart self-test``: passes on a folder with one tiny model of every family, and fails with a clear line on a
broken one. Runs in a child process so that "torch was never imported" is about the command, not the test run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from genart_desktop.cli import selftest
from tests.packaging.tiny_models import FAMILY_IDS, nan_generator, write_all_families
from tests.tiny_onnx import write_model_folder

ROOT = Path(__file__).resolve().parents[2]


def run_selftest(models: Path, *extra: str, entry: tuple[str, ...] = ("self-test",)) -> subprocess.CompletedProcess:
    env = dict(os.environ, GENART_MODELS_DIR=str(models), OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-m", "genart_desktop", *entry, *extra], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=180)


def lines(result: subprocess.CompletedProcess) -> list[str]:
    return result.stdout.splitlines()


def line_for(result: subprocess.CompletedProcess, name: str) -> str:
    found = [line for line in lines(result) if f"  {name}" in line]
    assert len(found) == 1, f"expected one line for {name!r}:\n{result.stdout}\n{result.stderr}"
    return found[0]


@pytest.fixture(scope="module")
def all_families(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("models")
    write_all_families(root)
    return root


def test_every_family_runs_and_the_window_builds(all_families, tmp_path):
    shot = tmp_path / "window.png"
    result = run_selftest(all_families, "--screenshot", str(shot))
    assert result.returncode == 0, result.stdout + result.stderr
    for family, model_id in FAMILY_IDS.items():
        assert line_for(result, f"model {model_id} ({family})").startswith("PASS")
    assert "2 sampler steps" in line_for(result, "model tiny-diffusion")
    assert "1 step at 64x64" in line_for(result, "model tiny-sd")
    assert line_for(result, "window:").startswith("PASS")
    assert line_for(result, "no torch:").startswith("PASS")
    assert lines(result)[-1] == "self-test: 9 checks passed, 0 failed, 0 skipped"
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_damaged_model_file_fails_with_the_registry_reason(all_families, tmp_path):
    models = tmp_path / "models"
    write_all_families(models)
    with open(models / FAMILY_IDS["gan"] / "generator.onnx", "r+b") as handle:
        handle.seek(40)
        handle.write(b"\x00garbage\x00")
    result = run_selftest(models, "--no-window")
    assert result.returncode == 1
    gan = line_for(result, "model tiny-gan (gan)")
    assert gan.startswith("FAIL") and "rejected" in gan and "sha256" in gan
    assert line_for(result, "model tiny-vae (vae)").startswith("PASS")  # one broken model does not hide the others
    assert lines(result)[-1].startswith("self-test: ") and ", 1 failed," in lines(result)[-1]


def test_model_that_loads_but_computes_nan_fails(tmp_path):
    write_model_folder(tmp_path, "nan-gan", "gan", {"generator": nan_generator()})
    result = run_selftest(tmp_path, "--no-window")
    assert result.returncode == 1
    assert line_for(result, "model nan-gan (gan)") == "FAIL  model nan-gan (gan): The generated image holds NaN or infinite values."


def test_upscaler_runs(tmp_path):
    from tests.engine.tiny_upscaler import write_upscaler_folder

    write_upscaler_folder(tmp_path, scale=2)
    result = run_selftest(tmp_path, "--no-window")
    assert result.returncode == 0, result.stdout
    assert line_for(result, "model tiny-upscaler (upscaler)").startswith(
        "PASS  model tiny-upscaler (upscaler): enlarged a 64x64 image 2x in ")


def test_card_that_disagrees_with_its_graph_fails(tmp_path):
    from tests.tiny_onnx import image_model, io_from_graph

    wrong_io = {"stylizer": io_from_graph(image_model())}
    wrong_io["stylizer"]["outputs"] = {"styled": wrong_io["stylizer"]["outputs"]["stylized"]}
    write_model_folder(tmp_path, "bad-card", "style", {"stylizer": image_model()}, io=wrong_io)
    result = run_selftest(tmp_path, "--no-window")
    assert result.returncode == 1
    line = line_for(result, "model bad-card")
    assert line.startswith("FAIL") and "rejected" in line


def test_no_models_fails_unless_allowed(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    refused = run_selftest(empty, "--no-window")
    assert refused.returncode == 1
    assert line_for(refused, "models:").startswith("FAIL") and "--allow-empty" in line_for(refused, "models:")
    allowed = run_selftest(empty, "--no-window", "--allow-empty")
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
    assert line_for(allowed, "models:").startswith("SKIP")
    assert line_for(allowed, "window:").startswith("SKIP")


def test_launcher_flag_runs_the_self_test(tmp_path):
    result = run_selftest(tmp_path, "--no-window", "--allow-empty", entry=("--self-test",))
    assert result.returncode == 0, result.stdout + result.stderr
    assert lines(result)[-1].startswith("self-test: ")


def test_torch_in_sys_modules_is_reported(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", sys.modules["os"])
    check = selftest.check_no_forbidden_imports()
    assert not check.ok and check.line().startswith("FAIL  no torch: torch")


@pytest.fixture
def torch_check_passes(monkeypatch):
    """This test process may have imported torch for other tests; the import check has tests of its own."""
    monkeypatch.setattr(selftest, "check_no_forbidden_imports", lambda: selftest.Check("no torch", True, "not checked"))


def test_window_failure_is_a_line_not_a_crash(tmp_path, capsys, torch_check_passes):
    def broken_window(_registry, _screenshot):
        raise RuntimeError("no display at all")

    code = selftest.main(["--models-dir", str(tmp_path), "--allow-empty"], window_check=broken_window)
    out = capsys.readouterr().out
    assert code == 1
    assert "FAIL  window: cannot build the main window: RuntimeError: no display at all" in out


def test_window_check_is_skipped_without_the_launcher(tmp_path, capsys, torch_check_passes):
    assert selftest.main(["--models-dir", str(tmp_path), "--allow-empty"]) == 0
    assert "window: not built (run through the genart launcher" in capsys.readouterr().out


def test_missing_qt_platform_plugin_is_a_line_not_an_abort(monkeypatch, tmp_path):
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtWidgets import QApplication

    if QApplication.instance() is not None:
        pytest.skip("a QApplication already exists in this test process")
    from genart_desktop.ui.selfcheck import check_window

    monkeypatch.setattr(QCoreApplication, "libraryPaths", staticmethod(lambda: [str(tmp_path)]))
    ok, detail = check_window(None)
    assert not ok and "offscreen platform plugin is missing" in detail and str(tmp_path) in detail
