"""Issue 22, item 3 (Qt-free): the Diffusion dock's unaccepted results and history are saved in the document's .ora
file and come back on open; a damaged store is left out without stopping the document from opening."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest

from genart_desktop.core.errors import InputError
from genart_desktop.document.geometry import Rect
from genart_desktop.engine.pipelines.recipe import Recipe
from genart_desktop.workspace.diffusion import DiffusionController
from genart_desktop.workspace.diffusion_placement import Placement
from genart_desktop.workspace.diffusion_store import INDEX, DiffusionKeeper, dump, load
from genart_desktop.workspace.files import FileController
from genart_desktop.workspace.workspace import Workspace


@pytest.fixture
def controller(tmp_path):
    from genart_desktop.engine.registry import ModelRegistry

    workspace = Workspace(ModelRegistry(roots=[(tmp_path / "none", "user")]), name="test-store")
    yield DiffusionController(workspace)
    workspace.shutdown()


def staged_pair(controller, seed: int) -> None:
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, (16, 24, 3), dtype=np.uint8)
    mask = rng.integers(0, 256, (10, 12), dtype=np.uint8)
    placement = Placement(Rect(3, 4, 12, 10), mask, "fill", strength=0.6, feather=2, cutout=True)
    recipe = Recipe("tiny", seed=seed, prompt=f"a fox {seed}", width=24, height=16)
    controller.adopt([*[(e.recipe, e.placement, e.label, e.pixels) for e in controller.unaccepted],
                      (recipe, placement, f"seed {seed}", pixels)],
                     [(h.recipe, h.thumbnail) for h in controller.history])
    controller.remember(recipe, pixels)


def test_results_and_history_round_trip_through_the_store(controller):
    for seed in (1, 2, 3):
        staged_pair(controller, seed)
    stash = load(dump(controller.staged, controller.history))
    assert [r.seed for r, *_ in stash.staged] == [1, 2, 3] and [r.seed for r, _ in stash.history] == [3, 2, 1]
    for (recipe, placement, label, pixels), entry in zip(stash.staged, controller.staged):
        assert recipe == entry.recipe and label == entry.label
        np.testing.assert_array_equal(pixels, entry.pixels)
        np.testing.assert_array_equal(placement.mask, entry.placement.mask)
        assert (placement.rect, placement.fit, placement.strength, placement.feather, placement.cutout) == (
            entry.placement.rect, "fill", 0.6, 2, True)
    np.testing.assert_array_equal(stash.history[0][1], controller.history[0].thumbnail)
    assert dump([], []) == {} and load({}) is None


@pytest.mark.parametrize("damage", [b"{", b'{"format": 9}', b'{"format": 1, "staged": [{"recipe": {}}]}',
                                    b'{"format": 1, "history": [{"recipe": {"model_id": "m"}, "image": '
                                    b'{"name": "../x.png", "channels": 3}}]}'])
def test_a_damaged_store_is_refused_in_one_line(damage):
    with pytest.raises(InputError):
        load({INDEX: damage})


def test_the_ora_file_keeps_the_results_and_the_close_question_knows(controller, tmp_path):
    files = FileController()
    keeper = DiffusionKeeper(controller)
    files.keepers.append(keeper)
    files.new(40, 30)
    staged_pair(controller, 7)
    assert "1 generated result is waiting" in files.unsaved_work()[0]
    path = files.save_as(tmp_path / "fox.ora")
    assert files.unsaved_work() == []  # saved with the document: nothing to lose
    with zipfile.ZipFile(path) as archive:
        assert "genart/extras/" + INDEX in archive.namelist()
    controller.adopt([], [])
    assert controller.unaccepted == [] and controller.history == []
    files.open(path)
    assert [e.recipe.seed for e in controller.unaccepted] == [7] and controller.history[0].recipe.seed == 7
    assert files.unsaved_work() == [] and files.recent[0] == path.absolute()


def test_a_damaged_store_does_not_stop_the_document_opening(controller, tmp_path):
    files = FileController()
    files.keepers.append(DiffusionKeeper(controller))
    files.new(40, 30)
    staged_pair(controller, 5)
    path = files.save_as(tmp_path / "broken.ora")
    broken = tmp_path / "broken2.ora"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(broken, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            target.writestr(info, b"{" if info.filename.endswith("index.json") else data)
    controller.adopt([], [])
    files.open(broken)
    assert files.document.width == 40 and controller.unaccepted == []


def test_recent_files_and_the_start_folder(tmp_path):
    files = FileController()
    for name in ("a.ora", "b.png", "a.ora"):
        files.remember(tmp_path / name)
    assert files.recent == [(tmp_path / "a.ora").absolute(), (tmp_path / "b.png").absolute()]
    assert files.start_folder("/nowhere") == tmp_path
    files.set_recent([tmp_path / "x.ora", tmp_path / "notes.txt", tmp_path / "x.ora"])
    assert files.recent == [tmp_path / "x.ora"]
    files.last_folder = tmp_path / "gone"
    assert files.start_folder(tmp_path / "Pictures") == tmp_path / "Pictures"
