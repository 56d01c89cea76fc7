"""Tools > Train a Model...: a style from the active layer or a file, fine-tuning a registry model on a folder,
the one-line problems, the time estimate measured by an earlier run, and the install command when no
genart-train can be found."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtWidgets import QDialog

from genart_desktop.core.images import open_image_rgba
from genart_desktop.ui.train_dialog import FINE_TUNE_STEPS, SCRATCH_STEPS, TrainDialog
from genart_desktop.workspace import training_runs
from genart_desktop.workspace.training_program import (
    INSTALL_COMMAND,
    missing_training_message,
)
from genart_desktop.workspace.training_runs import TrainingRuns
from tests.fixtures import latent_registry, painted_document, style_registry

FAKE = str(Path(__file__).resolve().parents[1] / "workspace" / "fake_trainer.py")


def make_dialog(qtbot, registry, document=None, tmp_path=None, program=(sys.executable, FAKE)) -> TrainDialog:
    runs = TrainingRuns(registry, program=program, runs_dir=tmp_path / "runs" if tmp_path else None,
                        models_dir=tmp_path / "models" if tmp_path else None)
    dialog = TrainDialog(runs, document)
    qtbot.addWidget(dialog)
    return dialog


def test_a_style_from_the_active_layer_fine_tunes_a_shipped_style(qtbot, tmp_path):
    document = painted_document()
    photos = tmp_path / "photos"
    photos.mkdir()
    dialog = make_dialog(qtbot, style_registry(tmp_path), document)
    assert dialog.from_layer.isChecked() and dialog.name_edit.text() == f"Style of {document.active_layer.name}"
    assert dialog.start_from.currentText().startswith("Tiny Invert") and dialog.steps.value() == FINE_TUNE_STEPS
    dialog.photos.edit.setText(str(photos))
    dialog.strength.setValue(4.5)
    dialog.size.setCurrentIndex(0)
    dialog.threads.setValue(1)
    dialog.name_edit.setText("My Painting")
    dialog.accept()
    assert dialog.result() == QDialog.DialogCode.Accepted
    spec = dialog.result_spec
    assert (spec.family, spec.data, spec.model_id, spec.name) == ("style", photos, "style-my-painting", "My Painting")
    assert (spec.resolution, spec.style_weight, spec.threads, spec.steps) == (64, 4.5, 1, FINE_TUNE_STEPS)
    assert spec.init_from == tmp_path / "models" / "tiny-invert"
    saved = open_image_rgba(spec.style_image)  # the layer, as the PNG the child reads
    assert np.array_equal(saved[..., :3], document.active_layer.pixels[..., :3])


def test_from_scratch_takes_more_steps_and_a_picture_file_names_the_style(qtbot, tmp_path):
    from tests.fixtures import noise_image_file

    picture = tmp_path / "van_gogh_starry_night.png"
    noise_image_file(picture)
    dialog = make_dialog(qtbot, style_registry(tmp_path), None)
    assert not dialog.from_layer.isEnabled() and dialog.from_file.isChecked()
    dialog.picture.edit.setText(str(picture))
    assert dialog.name_edit.text() == "Style of van gogh starry night"
    dialog.start_from.setCurrentIndex(dialog.start_from.count() - 1)
    assert dialog.steps.value() == SCRATCH_STEPS
    dialog.photos.edit.setText(str(tmp_path))
    dialog.accept()
    assert dialog.result_spec.init_from is None and dialog.result_spec.style_image == picture


def test_fine_tuning_a_generator_on_a_folder(qtbot, tmp_path):
    pictures = tmp_path / "mine"
    pictures.mkdir()
    dialog = make_dialog(qtbot, latent_registry(tmp_path))
    dialog.tune_mode.setChecked(True)
    assert dialog.pages.currentIndex() == 1
    assert [dialog.model.itemData(i) for i in range(dialog.model.count())] == ["tiny-gan", "tiny-vae"]
    dialog.model.setCurrentIndex(1)
    assert dialog.name_edit.text().endswith("(mine)")
    dialog.folder.edit.setText(str(pictures))
    dialog.accept()
    spec = dialog.result_spec
    assert spec.family == "vae" and spec.data == pictures and spec.init_from.name == "tiny-vae"
    assert spec.style_image is None and spec.resolution == 0  # the model keeps its own size


@pytest.mark.parametrize("setup, problem", [
    (lambda d, tmp: None, "Choose a folder of pictures"),
    (lambda d, tmp: (d.photos.edit.setText(str(tmp)), d.from_file.setChecked(True)), "Choose the picture"),
    (lambda d, tmp: d.photos.edit.setText(str(tmp / "missing")), "Choose a folder of pictures"),
])
def test_a_missing_choice_is_one_line_and_the_dialog_stays_open(qtbot, tmp_path, setup, problem):
    dialog = make_dialog(qtbot, style_registry(tmp_path), painted_document())
    setup(dialog, tmp_path)
    dialog.accept()
    assert dialog.result_spec is None and dialog.error.text().startswith(problem)


def test_without_a_genart_train_to_start_the_dialog_shows_the_install_command(qtbot, tmp_path, monkeypatch):
    monkeypatch.setattr(training_runs, "default_program", lambda: None)  # e.g. a packaged app, none on PATH
    dialog = make_dialog(qtbot, style_registry(tmp_path), painted_document(), program=None)
    dialog.show()
    assert dialog.missing.isVisible() and INSTALL_COMMAND in dialog.missing.text()
    assert INSTALL_COMMAND == 'pip install "genart-desktop[train]"'
    assert "cannot find" in dialog.missing.text() and "PATH" in dialog.missing.text()
    assert not dialog.train_button.isEnabled()
    dialog.photos.edit.setText(str(tmp_path))
    dialog.accept()
    assert dialog.result_spec is None and dialog.error.text() == missing_training_message()


def test_with_a_genart_train_found_the_dialog_trains(qtbot, tmp_path, monkeypatch):
    monkeypatch.setattr(training_runs, "default_program", lambda: ("/opt/tools/bin/genart-train",))
    dialog = make_dialog(qtbot, style_registry(tmp_path), program=None)
    dialog.show()
    assert not dialog.missing.isVisible() and dialog.train_button.isEnabled()


def test_the_estimate_is_measured_by_an_earlier_run_with_the_same_settings(qtbot, tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    dialog = make_dialog(qtbot, style_registry(tmp_path), painted_document(), tmp_path)
    assert "first steps" in dialog.estimate.text()
    dialog.photos.edit.setText(str(photos))
    dialog.steps.setValue(20)  # the number of steps does not change the speed
    dialog.accept()
    runs = dialog.runs
    runs.submit(dialog.result_spec)
    assert runs.wait_idle(60)
    again = TrainDialog(runs, painted_document())
    qtbot.addWidget(again)
    again.start_from.setCurrentIndex(again.start_from.findData(str(dialog.result_spec.init_from)))
    again.steps.setValue(20)
    assert again.estimate.text().startswith("About ") and "measured on this machine" in again.estimate.text()
    again.size.setCurrentIndex(0)  # another size: not measured yet
    assert "first steps" in again.estimate.text()
