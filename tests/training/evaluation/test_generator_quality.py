"""GAN measures on exported generators: a diverse generator, one that reproduces its training set, bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

torch = pytest.importorskip("torch")

from genart_desktop.core.errors import InputError, ModelError
from genart_desktop.training.cli import main as train_main
from genart_desktop.training.data.cached import ImageDataset
from genart_desktop.training.data.store import write_dataset
from genart_desktop.training.evaluation.generator_quality import evaluate_generator, load_generator
from tests.tiny_onnx import decoder, encoder, linear_generator, write_model_folder

pytestmark = pytest.mark.train
SIZE = 8


def dataset_of(folder, images: np.ndarray) -> ImageDataset:
    items = [{"source": f"{i}.png"} for i in range(len(images))]
    write_dataset(folder, images, items, {})
    return ImageDataset.load(folder)


def random_images(count: int, seed: int = 5) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (count, SIZE, SIZE, 3), dtype=np.uint8)


@pytest.fixture()
def gan_folder(tmp_path):
    return write_model_folder(tmp_path / "models", "tiny-gan", "gan", {"generator": linear_generator(size=SIZE)},
                              config={"truncation": 0.8})


def test_a_diverse_generator_is_far_from_its_training_set(gan_folder, tmp_path):
    space, psi = load_generator(gan_folder)
    assert psi == 0.8
    quality, images = evaluate_generator(space, dataset_of(tmp_path / "data", random_images(64)), count=96,
                                         truncation=psi)
    assert images.shape == (96, 3, SIZE, SIZE) and quality.samples == 96
    assert quality.diversity_ratio > 0.3
    assert quality.nearest_train_distance > 0.2 * quality.real_holdout_nearest_distance > 0


def test_a_generator_that_reproduces_its_training_set_is_caught(gan_folder, tmp_path):
    space, _ = load_generator(gan_folder)
    copies = space.decode(space.sample(0, 48))  # the very images evaluation will draw with seed 0
    quality, _ = evaluate_generator(space, dataset_of(tmp_path / "data", copies), count=48, seed=0)
    assert quality.nearest_train_distance < 0.05 * quality.real_holdout_nearest_distance
    assert quality.diversity_ratio == pytest.approx(1.0, abs=0.05)  # diversity alone would not notice


def test_cli_writes_the_card_and_the_grid(gan_folder, tmp_path, capsys):
    data = tmp_path / "data"
    dataset_of(data, random_images(32))
    grid = tmp_path / "grid.png"
    onnx_before = (gan_folder / "generator.onnx").read_bytes()
    assert train_main(["evaluate", str(gan_folder), "--data", str(data), "--samples", "20", "--grid", str(grid),
                       "--grid-scale", "2", "--write-card"]) == 0
    printed = json.loads(capsys.readouterr().out)
    card = json.loads((gan_folder / "model.json").read_text())
    assert card["metrics"]["quality"] == printed and printed["samples"] == 20 and printed["truncation"] == 0.8
    assert Image.open(grid).size == (8 * (2 * SIZE + 2) + 2, 3 * (2 * SIZE + 2) + 2)  # 20 images, 8 a row, 2x
    assert (gan_folder / "generator.onnx").read_bytes() == onnx_before


def test_bad_input_is_refused_with_a_message(gan_folder, tmp_path, capsys):
    data = tmp_path / "data"
    dataset_of(data, random_images(16))
    space, _ = load_generator(gan_folder)
    with pytest.raises(InputError, match="two samples"):
        evaluate_generator(space, ImageDataset.load(data), count=1)
    other = dataset_of(tmp_path / "big", np.zeros((8, 16, 16, 3), np.uint8))
    with pytest.raises(InputError, match="8x8 images"):
        evaluate_generator(space, other, count=4)
    vae = write_model_folder(tmp_path / "models", "tiny-vae", "vae", {"encoder": encoder(), "decoder": decoder()})
    with pytest.raises(ModelError, match="GAN"):
        load_generator(vae)
    card_before = (gan_folder / "model.json").read_text()
    assert train_main(["evaluate", str(gan_folder), "--data", str(data), "--truncation", "1.5",
                       "--write-card"]) == 2
    assert "truncation" in capsys.readouterr().err
    assert (gan_folder / "model.json").read_text() == card_before
    assert train_main(["evaluate", str(tmp_path / "nowhere"), "--data", str(data)]) == 2
