"""Regional prompts survive a save and reopen as named masks with prompts; damaged ones are refused in one line."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest
from PIL import Image

from genart_desktop.core.errors import InputError
from genart_desktop.document import Document
from genart_desktop.document.io.ora import REGIONS_INDEX, load_ora, save_ora
from genart_desktop.document.regions import MAX_DOCUMENT_REGIONS


def two_regions() -> Document:
    doc = Document(40, 30)
    left = np.zeros((30, 40), np.uint8)
    left[:, :20] = 255
    soft = np.zeros((30, 40), np.uint8)
    soft[10:, 15:] = 128
    doc.regions.add(left, "green hills")
    doc.regions.add(soft, "a red sun", name="Sun \u2600")
    return doc


def test_regions_round_trip(tmp_path):
    doc = two_regions()
    assert doc.dirty
    save_ora(doc, tmp_path / "a.ora")
    back = load_ora(tmp_path / "a.ora")
    assert not back.dirty
    assert [(r.name, r.prompt) for r in back.regions] == [("Region 1", "green hills"), ("Sun \u2600", "a red sun")]
    for mine, theirs in zip(doc.regions, back.regions):
        np.testing.assert_array_equal(mine.mask, theirs.mask)
    back.regions.set_prompt(0, "blue sea")
    assert back.dirty and back.regions[0].prompt == "blue sea"


def test_documents_without_regions_write_no_index(tmp_path):
    save_ora(Document(8, 8), tmp_path / "plain.ora")
    with zipfile.ZipFile(tmp_path / "plain.ora") as archive:
        assert REGIONS_INDEX not in archive.namelist()
    assert len(load_ora(tmp_path / "plain.ora").regions) == 0


def rewrite(path, name, data):
    with zipfile.ZipFile(path) as old:
        members = {info.filename: old.read(info) for info in old.infolist()}
    members[name] = data
    with zipfile.ZipFile(path, "w") as new:
        for member, content in members.items():
            new.writestr(member, content)


def png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("member, data, reason", [
    (REGIONS_INDEX, b"{\"not\": \"a list\"}", "at most"),
    (REGIONS_INDEX, json.dumps([{"name": "a", "prompt": "b", "src": "genart/regions/region00.png"}]
                               * (MAX_DOCUMENT_REGIONS + 1)).encode(), "at most"),
    (REGIONS_INDEX, json.dumps([{"name": "a", "prompt": 3, "src": "x"}]).encode(), "all text"),
    (REGIONS_INDEX, json.dumps([{"name": "a", "prompt": "b", "src": "../x.png"}]).encode(), "outside"),
    ("genart/regions/region00.png", b"\x89PNG broken", "region mask"),
    ("genart/regions/region00.png", None, "not the canvas's 40x30"),
])
def test_damaged_regions_are_refused(tmp_path, member, data, reason):
    path = tmp_path / "a.ora"
    save_ora(two_regions(), path)
    rewrite(path, member, data if data is not None else png(np.full((5, 5), 255, np.uint8)))
    with pytest.raises(InputError, match=reason) as caught:
        load_ora(path)
    assert "a.ora" in str(caught.value) and "\n" not in str(caught.value)


def test_region_list_caps_and_checks():
    doc = Document(4, 4)
    with pytest.raises(InputError, match="empty"):
        doc.regions.add(np.zeros((4, 4), np.uint8))
    with pytest.raises(InputError, match="4x4"):
        doc.regions.add(np.full((3, 4), 255, np.uint8))
    for _ in range(MAX_DOCUMENT_REGIONS):
        doc.regions.add(np.full((4, 4), 255, np.uint8))
    with pytest.raises(InputError, match="at most"):
        doc.regions.add(np.full((4, 4), 255, np.uint8))
    doc.regions.remove(0)
    assert len(doc.regions) == MAX_DOCUMENT_REGIONS - 1
