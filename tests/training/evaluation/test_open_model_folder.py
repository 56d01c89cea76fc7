"""`genart-train evaluate` opens the folder it is given: a sibling folder with the same model id is refused in one
line instead of being measured in its place (two exports of one run side by side in /tmp did exactly that)."""

from __future__ import annotations

import shutil

import pytest

from genart_desktop.core.errors import InputError
from genart_desktop.training.evaluation.card_metrics import open_model_folder
from tests.tiny_onnx import linear_generator, write_model_folder


def test_a_sibling_with_the_same_id_is_refused_not_measured(tmp_path):
    first = write_model_folder(tmp_path, "tiny-gan", "gan", {"generator": linear_generator()})
    second = tmp_path / "zz-second-export"
    shutil.copytree(first, second)
    _, entry, card = open_model_folder(first)
    assert entry.folder.resolve() == first.resolve() and card["id"] == "tiny-gan"
    with pytest.raises(InputError, match="has the id 'tiny-gan' of another model folder beside it \\(tiny-gan\\)"):
        open_model_folder(second)


def test_a_folder_alone_opens_by_its_id(tmp_path):
    folder = write_model_folder(tmp_path / "models", "tiny-gan", "gan", {"generator": linear_generator()})
    _, entry, _ = open_model_folder(folder)
    assert entry.id == "tiny-gan" and entry.ok
