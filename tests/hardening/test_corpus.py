"""Every case of the bad-input corpus gets a clear message and changes nothing (files, document, registry)."""

from __future__ import annotations

import numpy as np
import pytest

from genart_desktop.core.errors import InputError, ModelError
from genart_desktop.document.io.raster import load_image_pixels, open_document
from genart_desktop.engine.registry import ModelRegistry
from genart_desktop.engine.session import ModelSession
from genart_desktop.workspace.recipe_png import read_recipe
from tests.hardening.corpus import Case, cases
from tests.hardening.helpers import (
    SETTINGS, assert_clear_message, document_state, open_as_layer, sample_document, tree_digest,
)
from tests.tiny_onnx import image_model, write_model_folder

CORPUS_FLOOR = 150


def params(kind: str) -> list:
    return [pytest.param(c, id=c.name, marks=[pytest.mark.xfail(strict=True, reason=c.xfail)] if c.xfail else [])
            for c in cases(kind)]


def test_corpus_size():
    count = len(cases())
    print(f"hardening corpus: {count} cases")
    assert count >= CORPUS_FLOOR
    assert len({c.name for c in cases()}) == count, "case names must be unique"


@pytest.mark.parametrize("case", params("image") + params("ora"))
def test_files_opened_as_documents_and_layers(case: Case, tmp_path):
    folder = tmp_path / "input"
    folder.mkdir()
    path = case.build(folder)
    before = tree_digest(folder)
    doc = sample_document()
    state = document_state(doc)
    if case.expect == "refuse":
        with pytest.raises(InputError) as opened:
            open_document(path)
        assert_clear_message(str(opened.value), [path.name], case.reason)
        with pytest.raises(InputError) as as_layer:
            open_as_layer(doc, path)
        assert_clear_message(str(as_layer.value), [path.name], case.reason)
        assert document_state(doc) == state
    else:
        opened = open_document(path)
        if case.kind == "image":
            pixels = load_image_pixels(path)
            case.check(pixels)
            assert np.array_equal(opened.layers[0].pixels, pixels) and not opened.dirty
        else:
            case.check(opened)
        layer = open_as_layer(doc, path)
        assert layer in doc.layers and doc.history.undo_count == state[4] + 1
        doc.undo()
        assert document_state(doc)[:4] == state[:4]
    assert tree_digest(folder) == before, "opening a file must never change files on disk"


@pytest.mark.parametrize("case", params("onnx") + params("card"))
def test_model_folders_are_rejected_with_a_reason_and_others_still_load(case: Case, tmp_path):
    root = tmp_path / "models"
    root.mkdir()
    folder = case.build(root)
    write_model_folder(root, "zz-good", "style", {"stylizer": image_model(scale=2.0)})
    before = tree_digest(tmp_path)
    registry = ModelRegistry([(root, "user")], SETTINGS)
    entry = next(e for e in registry.entries() if e.folder == folder)
    assert not entry.ok
    names = [folder.name] + [p.name for p in folder.glob("*.onnx")] + ["model.json"]
    assert_clear_message(entry.reason, names, case.reason)
    good = registry.get("zz-good")
    assert good.ok and "zz-good" in [e.id for e in registry.models()]
    assert folder not in [e.folder for e in registry.models()]
    out = registry.session("zz-good", "stylizer").run({"content": np.ones((1, 3, 2, 2), np.float32)})
    assert np.allclose(out["stylized"], 2.0)
    if entry.id not in [e.id for e in registry.models()]:
        with pytest.raises(ModelError) as used:
            registry.session(entry.id, "stylizer")
        assert entry.reason in str(used.value)
    for onnx_file in folder.glob("*.onnx"):
        try:
            ModelSession.load(onnx_file, SETTINGS)
        except ModelError as exc:  # unloadable graphs say which file; loadable ones failed on their card
            assert_clear_message(str(exc), [onnx_file.name], "")
    registry.release_all()
    assert tree_digest(tmp_path) == before, "scanning models must never change files on disk"


@pytest.mark.parametrize("case", params("recipe"))
def test_recipes_with_garbage_are_refused(case: Case, tmp_path):
    path = case.build(tmp_path)
    before = tree_digest(tmp_path)
    with pytest.raises(InputError) as read:
        read_recipe(path)
    assert_clear_message(str(read.value), [path.name], case.reason)
    assert tree_digest(tmp_path) == before
