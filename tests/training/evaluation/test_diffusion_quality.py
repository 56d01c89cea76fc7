"""Prompt adherence, diversity and memorisation measures, checked with oracle "models" whose answers are known."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from genart_desktop.engine.pipelines.diffusion import DiffusionResult
from genart_desktop.training.cli import main as train_main
from genart_desktop.training.data.cached import ImageDataset
from genart_desktop.training.data.store import caption_vocabulary, write_dataset
from genart_desktop.training.evaluation.diffusion_quality import (
    choose_prompts,
    dataset_labels,
    evaluate_diffusion,
    paired_adherence,
    record_in_card,
)
from genart_desktop.training.evaluation.label_classifier import (
    split_indices,
    train_label_classifier,
)

pytestmark = pytest.mark.train
RES = 16
COLOURS = {"red": (220, 40, 40), "blue": (40, 60, 220), "green": (40, 180, 60)}


def shapes(folder: Path, count: int = 48) -> Path:
    """Squares and circles of three colours at varied sizes and offsets, labelled by shape."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:RES, 0:RES]
    images, items = [], []
    for i in range(count):
        colour, shape = list(COLOURS)[i % 3], ("square", "circle")[i % 2]
        image = np.full((RES, RES, 3), 255, np.uint8)
        cx, cy = RES / 2 + rng.uniform(-2, 2, 2)
        radius = RES * rng.uniform(0.22, 0.36)
        inside = ((np.abs(xx - cx) < radius * 0.85) & (np.abs(yy - cy) < radius * 0.85) if shape == "square"
                  else (xx - cx) ** 2 + (yy - cy) ** 2 < radius ** 2)
        image[inside] = COLOURS[colour]
        images.append(image)
        items.append({"source": f"{i}.png", "label": shape, "caption": f"{colour} {shape} {i % 5}"})
    write_dataset(folder, np.stack(images), items, {"labels": ["circle", "square"],
                                                    "vocabulary": caption_vocabulary([i["caption"] for i in items])})
    return folder


class Oracle:
    """Answers a prompt with a dataset image of the category named in it (or of the other one when ``wrong``)."""

    default_guidance, default_steps = 2.0, 10

    def __init__(self, dataset: ImageDataset, wrong: bool = False, noise: float = 0.0, one_picture: bool = False,
                 wrong_on: str = ""):
        self.dataset, self.wrong, self.noise, self.one_picture = dataset, wrong, noise, one_picture
        self.wrong_on = wrong_on  # answer prompts of this shape with the other shape
        self.prompts: list[str] = []

    def generate(self, prompt: str, seed: int = 0, **_options) -> DiffusionResult:
        self.prompts.append(prompt)
        shape = prompt.split()[1]
        if self.wrong or shape == self.wrong_on:
            shape = "circle" if shape == "square" else "square"
        rows = [i for i, item in enumerate(self.dataset.meta["items"]) if item["label"] == shape]
        pick = sum(map(ord, prompt)) if self.one_picture else seed  # one_picture: the seed changes nothing
        image = self.dataset.batch(torch.tensor([rows[pick % len(rows)]]))[0].numpy()
        image = image + self.noise * np.random.default_rng(seed).standard_normal(image.shape).astype(np.float32)
        return DiffusionResult(np.clip(image, -1, 1)[None].astype(np.float32), [seed])


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> ImageDataset:
    return ImageDataset.load(shapes(tmp_path_factory.mktemp("shapes") / "data"))


@pytest.fixture(scope="module")
def judge(dataset):
    labels, names = dataset_labels(dataset)
    torch.manual_seed(0)
    return train_label_classifier(dataset.batch(torch.arange(len(dataset))), labels, names, steps=100,
                                  batch_size=32, holdout=0.25, seed=0)


def test_split_is_stratified_and_disjoint():
    labels = torch.tensor([0] * 20 + [1] * 8 + [2])
    train, test = split_indices(labels, 0.25, seed=3)
    assert set(train.tolist()).isdisjoint(test.tolist()) and len(train) + len(test) == len(labels)
    assert sorted(labels[test].tolist()) == [0] * 5 + [1] * 2  # a single-image label stays in training


def test_the_judge_learns_the_categories(judge):
    assert judge.label_names == ["circle", "square"]
    assert judge.holdout_count == 12
    assert judge.holdout_accuracy >= 0.9


def test_adherence_is_high_for_a_faithful_model_and_low_for_a_contrary_one(dataset, judge):
    faithful, _, rows = evaluate_diffusion(Oracle(dataset, noise=0.05), dataset, per_label=6, classifier=judge,
                                           log=lambda _: None)
    contrary, _, _ = evaluate_diffusion(Oracle(dataset, wrong=True), dataset, per_label=6, classifier=judge,
                                        log=lambda _: None)
    assert rows == ["circle"] * 6 + ["square"] * 6
    assert faithful.samples == 12 and faithful.chance == 0.5
    assert faithful.prompt_adherence >= 0.9 and contrary.prompt_adherence <= 0.1
    p = faithful.prompt_adherence
    assert faithful.prompt_adherence_stderr == pytest.approx((p * (1 - p) / 12) ** 0.5)
    assert set(faithful.per_label) == {"circle", "square"}
    assert (faithful.guidance, faithful.steps) == (2.0, 10)  # the model's defaults when none are given


def test_a_paired_comparison_counts_the_images_only_one_model_got_right(dataset, judge):
    def measure(**options):
        return evaluate_diffusion(Oracle(dataset, **options), dataset, per_label=6, classifier=judge,
                                  log=lambda _: None, within_seeds=0)[0]

    faithful, half = measure(), measure(wrong_on="circle")
    assert faithful.judged_correct == [1] * 12
    assert half.judged_correct == [0] * 6 + [1] * 6  # circles come first
    paired = paired_adherence(faithful, half, "half")
    assert (paired.only_this_model_right, paired.only_against_right, paired.samples) == (6, 0, 12)
    assert (paired.prompt_adherence, paired.against_adherence, paired.difference) == (1.0, 0.5, 0.5)
    assert paired.difference_stderr == pytest.approx(np.std([1] * 6 + [0] * 6, ddof=1) / 12 ** 0.5)
    reverse = paired_adherence(half, faithful, "faithful")
    assert (reverse.difference, reverse.only_this_model_right, reverse.only_against_right) == (-0.5, 0, 6)
    assert paired_adherence(faithful, measure(), "same").difference_stderr == 0.0
    fewer = evaluate_diffusion(Oracle(dataset), dataset, per_label=3, classifier=judge, log=lambda _: None,
                               within_seeds=0)[0]
    with pytest.raises(Exception, match="different prompts"):
        paired_adherence(faithful, fewer, "fewer")


def test_copies_of_the_training_data_are_flagged_as_memorised(dataset, judge):
    copies, _, _ = evaluate_diffusion(Oracle(dataset), dataset, per_label=6, classifier=judge, log=lambda _: None)
    noisy, _, _ = evaluate_diffusion(Oracle(dataset, noise=0.3), dataset, per_label=6, classifier=judge,
                                     log=lambda _: None)
    assert copies.nearest_train_distance < 0.005  # float error of the distance only
    assert noisy.nearest_train_distance > 0.05
    assert copies.real_holdout_nearest_distance > 0.05  # the yardstick: real images are not duplicates


def test_within_prompt_diversity_tells_one_picture_per_prompt_from_variety(dataset, judge):
    varied, _, _ = evaluate_diffusion(Oracle(dataset), dataset, per_label=2, classifier=judge, log=lambda _: None,
                                      within_seeds=6)
    stuck, _, _ = evaluate_diffusion(Oracle(dataset, one_picture=True), dataset, per_label=2, classifier=judge,
                                     log=lambda _: None, within_seeds=6)
    assert varied.within_prompt_seeds == stuck.within_prompt_seeds == 6
    assert varied.within_prompt_diversity_ratio > 0.5
    assert stuck.within_prompt_diversity_ratio < 0.01
    assert stuck.diversity_ratio > 0.5  # across prompts the stuck model still looks varied: why this figure exists


def test_prompts_come_from_each_categorys_own_captions(dataset):
    _, names = dataset_labels(dataset)
    prompts = choose_prompts(dataset, names, 4, seed=1)
    assert all(len(texts) == 4 and all(name in text for text in texts) for name, texts in prompts.items())
    assert prompts == choose_prompts(dataset, names, 4, seed=1)


def test_the_result_is_recorded_in_the_card_without_touching_the_model(tmp_path, dataset, judge):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "unet.onnx").write_bytes(b"weights")
    (folder / "model.json").write_text(json.dumps({"id": "m", "metrics": {"parity": 1e-6}}))
    quality, _, _ = evaluate_diffusion(Oracle(dataset), dataset, per_label=2, classifier=judge, log=lambda _: None)
    record_in_card(folder, quality, paired_adherence(quality, quality, "itself"))
    card = json.loads((folder / "model.json").read_text())
    assert card["metrics"]["parity"] == 1e-6
    assert card["metrics"]["quality"]["prompt_adherence"] == quality.prompt_adherence
    assert card["metrics"]["quality"]["paired"]["against"] == "itself"
    assert "prompts" not in card["metrics"]["quality"] and "judged_correct" not in card["metrics"]["quality"]
    assert (folder / "unet.onnx").read_bytes() == b"weights"


def test_bad_inputs_exit_with_a_reason(tmp_path, capsys, dataset):
    assert train_main(["evaluate", str(tmp_path / "missing"), "--data", str(dataset.folder)]) == 2
    assert "model.json" in capsys.readouterr().err
    unlabelled = tmp_path / "unlabelled"
    write_dataset(unlabelled, np.zeros((2, RES, RES, 3), np.uint8), [{"source": "a"}, {"source": "b"}], {})
    with pytest.raises(Exception, match="category label"):
        dataset_labels(ImageDataset.load(unlabelled))


def test_a_within_prompt_figure_needs_two_seeds(tmp_path, capsys, dataset):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "model.json").write_text(json.dumps({"id": "m", "family": "diffusion"}))
    assert train_main(["evaluate", str(folder), "--data", str(dataset.folder), "--within-seeds", "1"]) == 2
    assert "--within-seeds must be 0 or at least 2" in capsys.readouterr().err


def test_against_is_refused_for_a_model_without_prompt_adherence(tmp_path, capsys, dataset):
    folder = tmp_path / "gan"
    folder.mkdir()
    (folder / "model.json").write_text(json.dumps({"id": "g", "family": "gan"}))
    assert train_main(["evaluate", str(folder), "--data", str(dataset.folder), "--against", str(folder)]) == 2
    assert "--against compares the prompt adherence" in capsys.readouterr().err


def test_prompt_sheet_has_a_labelled_row_per_prompt(dataset):
    from genart_desktop.training.evaluation.diffusion_quality import prompt_sheet

    oracle = Oracle(dataset)
    sheet = prompt_sheet(oracle, ["red square 1", "blue circle 2"], columns=3, scale=2)
    assert sheet.size == (150 + 3 * 2 * RES, 2 * 2 * RES)
    assert oracle.prompts == ["red square 1"] * 3 + ["blue circle 2"] * 3
    pixels = np.asarray(sheet)
    assert pixels[:, :150].min() < 128  # the label was drawn
