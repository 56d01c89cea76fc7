"""The style contact sheet: rows of photos, the original then each style, rendered by the app's style pipeline."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("torch")
pytest.importorskip("onnx")

from genart_desktop.training.cli import main as train_main
from genart_desktop.training.evaluation.contact_sheet import LABEL_HEIGHT
from tests.tiny_onnx import image_model, write_model_folder

pytestmark = pytest.mark.train


def photo(path, size, colour):
    Image.new("RGB", size, colour).save(path)
    return path


def test_sheet_shows_the_photo_then_each_style(tmp_path):
    models = tmp_path / "models"
    write_model_folder(models, "invert", "style", {"stylizer": image_model(scale=-1.0)})
    write_model_folder(models, "same", "style", {"stylizer": image_model()})
    photos = [photo(tmp_path / "a.png", (120, 80), (200, 50, 50)), photo(tmp_path / "b.jpg", (60, 90), (20, 200, 90))]
    out = tmp_path / "sheet.png"
    assert train_main(["contact-sheet", str(out), "--models", "invert", "same", "--photos", *map(str, photos),
                       "--models-dir", str(models), "--cell", "40"]) == 0
    sheet = np.asarray(Image.open(out).convert("RGB")).astype(int)
    assert sheet.shape[0] == LABEL_HEIGHT + 2 * 40
    row = sheet[LABEL_HEIGHT + 20]
    width = 60  # 120x80 shown 40 high
    original, inverted, same = row[width // 2], row[width + width // 2], row[2 * width + width // 2]
    assert np.abs(original - (200, 50, 50)).max() <= 2
    assert np.abs(inverted - (55, 205, 205)).max() <= 3  # the app's pipeline ran the model: -x in [-1, 1]
    assert np.abs(same - original).max() <= 2


def test_missing_photo_or_model_writes_nothing(tmp_path, capsys):
    models = tmp_path / "models"
    write_model_folder(models, "same", "style", {"stylizer": image_model()})
    out = tmp_path / "sheet.png"
    assert train_main(["contact-sheet", str(out), "--models", "same", "--photos", str(tmp_path / "no.png"),
                       "--models-dir", str(models)]) == 2
    assert "no.png" in capsys.readouterr().err
    good = photo(tmp_path / "a.png", (32, 32), (1, 2, 3))
    assert train_main(["contact-sheet", str(out), "--models", "nope", "--photos", str(good),
                       "--models-dir", str(models)]) == 2
    assert "nope" in capsys.readouterr().err and not out.exists()
