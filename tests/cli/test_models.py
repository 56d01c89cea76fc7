"""`genart models [--json]`: lists ok and rejected models with reasons and providers, without a display or Qt."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from genart_desktop import cli
from tests.tiny_onnx import image_model, linear_generator, write_model_folder

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def models(tmp_path, monkeypatch, isolated_home):
    shipped = tmp_path / "shipped"
    write_model_folder(shipped, "tiny-gan", "gan", {"generator": linear_generator()})
    broken = write_model_folder(shipped, "broken-style", "style", {"stylizer": image_model()})
    (broken / "stylizer.onnx").write_bytes(b"truncated")
    write_model_folder(isolated_home / "models", "my-style", "style", {"stylizer": image_model()})
    monkeypatch.setenv("GENART_MODELS_DIR", str(shipped))
    monkeypatch.setenv("GENART_PROVIDER", "cpu")
    return shipped


def test_json_listing(models, capsys):
    assert cli.run(["models", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    rows = {row["id"]: row for row in payload["models"]}
    assert set(rows) == {"tiny-gan", "broken-style", "my-style"}
    assert rows["tiny-gan"] | {"folder": None} == {
        "id": "tiny-gan", "name": "Tiny Gan", "family": "gan", "status": "ok", "reason": None,
        "source": "builtin", "folder": None, "roles": ["generator"], "provider": "CPU"}
    assert rows["my-style"]["source"] == "user" and rows["my-style"]["status"] == "ok"
    assert rows["broken-style"]["status"] == "rejected" and rows["broken-style"]["provider"] is None
    assert "sha256" in rows["broken-style"]["reason"]
    assert payload["provider"]["label"] == "CPU" and payload["provider"]["requested"] == "cpu"


def test_table_listing(models, capsys):
    assert cli.run(["models"]) == 0
    out = capsys.readouterr().out
    assert "Execution provider: CPU" in out
    assert "tiny-gan" in out and "my-style" in out
    assert "broken-style: broken-style: stylizer.onnx does not match its sha256" in out
    assert "2 models ready, 1 rejected." in out


def test_runs_without_a_display_and_without_qt(models):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    code = ("import sys; from genart_desktop.launcher import main; rc = main(['models', '--json']); "
            "assert 'PySide6' not in sys.modules and 'torch' not in sys.modules; sys.exit(rc)")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert {row["id"] for row in json.loads(result.stdout)["models"]} == {"tiny-gan", "broken-style", "my-style"}
