"""`genart import-model PATH`: guesses, runs once, installs atomically; bad input is one line, exit 2, nothing written."""

from __future__ import annotations

import json

import pytest

from genart_desktop import cli
from genart_desktop.engine.registry import ModelRegistry
from tests.tiny_onnx import image_model, linear_generator, save_model, write_optimum_sd_folder


@pytest.fixture
def home(isolated_home, monkeypatch):
    monkeypatch.setenv("GENART_PROVIDER", "cpu")
    return isolated_home


def _user_models(home):
    folder = home / "models"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_a_style_network_with_foreign_names_is_installed(home, tmp_path, capsys):
    source = save_model(image_model("input1", "output1", scale=-1.0), tmp_path / "Mosaic Net.onnx")
    assert cli.run(["import-model", str(source), "--name", "Mosaic"]) == 0
    out = capsys.readouterr().out
    assert "style model 'mosaic-net' (Mosaic)" in out
    assert "content -> 'input1', stylized -> 'output1'" in out and "installed in" in out
    assert _user_models(home) == ["mosaic-net"]
    card = json.loads((home / "models" / "mosaic-net" / "model.json").read_text())
    assert card["io"]["stylizer"]["names"] == {"content": "input1", "stylized": "output1"}
    entry = ModelRegistry(roots=[(home / "models", "user")]).entries()[0]
    assert entry.ok and entry.family == "style"


def test_family_and_id_can_be_given(home, tmp_path, capsys):
    source = save_model(linear_generator(), tmp_path / "gen.onnx")
    assert cli.run(["import-model", str(source), "--family", "gan", "--id", "my-gan", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "gan model 'my-gan'" in out and "latent: [8]" in out and "nothing installed" in out
    assert _user_models(home) == []
    assert cli.run(["import-model", str(source), "--id", "my-gan"]) == 0
    assert _user_models(home) == ["my-gan"]


@pytest.mark.parametrize("make,args,message", [
    (lambda d: d / "missing.onnx", [], "does not exist"),
    (lambda d: (d / "notes.onnx").write_bytes(b"\x08\x07\x12garbage") and d / "notes.onnx", [], "notes.onnx"),
    (lambda d: save_model(linear_generator(), d / "gen.onnx"), ["--id", "Bad Id"], "must be lower-case"),
    (lambda d: save_model(linear_generator(), d / "gen.onnx"), ["--family", "style"], "style network"),
])
def test_bad_input_is_one_line_and_writes_nothing(home, tmp_path, capsys, make, args, message):
    source = make(tmp_path)
    assert cli.run(["import-model", str(source), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err and "Traceback" not in err
    assert _user_models(home) == []


def test_an_existing_model_is_not_overwritten(home, tmp_path, capsys):
    source = save_model(linear_generator(), tmp_path / "gen.onnx")
    assert cli.run(["import-model", str(source)]) == 0
    before = (home / "models" / "gen" / "model.json").read_bytes()
    assert cli.run(["import-model", str(source)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert (home / "models" / "gen" / "model.json").read_bytes() == before and _user_models(home) == ["gen"]


def test_an_optimum_folder_is_checked_and_copied_without_a_card(home, tmp_path, capsys):
    source = write_optimum_sd_folder(tmp_path, "Tiny SD")
    assert cli.run(["import-model", str(source)]) == 0
    assert "sd-onnx" in capsys.readouterr().out and _user_models(home) == ["tiny-sd"]
    entry = ModelRegistry(roots=[(home / "models", "user")]).entries()[0]
    assert entry.ok and entry.family == "sd-onnx" and not (home / "models" / "tiny-sd" / "model.json").exists()
    (source / "unet" / "model.onnx").write_bytes(b"\x08\x07\x12damaged")
    assert cli.run(["import-model", str(source), "--id", "other"]) == 2
    assert "the unet component cannot be used" in capsys.readouterr().err and _user_models(home) == ["tiny-sd"]
