"""File > Import Model...: the guessed card is shown and editable, the preview renders, Save installs; errors are
one line in the dialog and nothing is written."""

from __future__ import annotations

import json

import pytest
from PySide6.QtWidgets import QDialog

from genart_desktop.ui.import_model_dialog import ImportModelDialog
from genart_desktop.workspace.model_import import propose
from tests.tiny_onnx import linear_generator, save_model


@pytest.fixture
def proposal(tmp_path, monkeypatch):
    monkeypatch.setenv("GENART_PROVIDER", "cpu")
    return propose(save_model(linear_generator(), tmp_path / "src" / "walker.onnx"))


def test_edit_preview_and_save(qtbot, proposal, tmp_path):
    dialog = ImportModelDialog(proposal, models_dir=tmp_path / "models")
    qtbot.addWidget(dialog)
    assert dialog.id_edit.text() == "walker" and list(dialog.range_boxes) == ["generator.image"]
    assert dialog.range_boxes["generator.image"].currentData() == (-1.0, 1.0)
    assert dialog.render_preview().shape == (8, 8, 3) and not dialog.preview_label.pixmap().isNull()
    dialog.id_edit.setText("my-walker")
    dialog.range_boxes["generator.image"].setCurrentIndex(1)  # 0 to 1
    dialog.save()
    assert dialog.result() == QDialog.DialogCode.Accepted and dialog.installed == tmp_path / "models" / "my-walker"
    card = json.loads((dialog.installed / "model.json").read_text())
    assert card["io"]["generator"]["outputs"]["image"]["range"] == [0.0, 1.0]


def test_a_bad_id_is_one_line_in_the_dialog_and_nothing_is_written(qtbot, proposal, tmp_path):
    dialog = ImportModelDialog(proposal, models_dir=tmp_path / "models")
    qtbot.addWidget(dialog)
    dialog.id_edit.setText("Not An Id")
    dialog.save()
    assert "must be lower-case" in dialog.status.text() and dialog.installed is None
    assert not (tmp_path / "models").exists() or not any((tmp_path / "models").iterdir())


def test_the_file_menu_offers_it_and_reports_unreadable_files(window, answers, tmp_path):
    assert window.actions["import_model"].text() == "&Import Model\u2026"
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"\x08\x07\x12garbage")
    answers.open_paths.append(broken)
    assert window.import_model() is None
    assert answers.errors and answers.errors[0][0] == "Import Model" and "broken.onnx" in answers.errors[0][1]
