"""The user's style library: pictures from files and layers, stored small, persisting, and hostile files refused
with one line and nothing written."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image

from genart_desktop.core.errors import InputError
from genart_desktop.core.images import open_image_rgba
from genart_desktop.workspace.style_library import STORED_SIDE, StyleLibrary, clean_name
from tests.fixtures_arbitrary_style import painting


def folder_files(library):
    return sorted(p.name for p in library.folder.iterdir())


def test_a_style_from_an_image_file_is_stored_small_and_persists(tmp_path, isolated_home):
    source = tmp_path / "Sunset Study.jpg"
    Image.fromarray(np.kron(painting(3, 48), np.ones((22, 15, 1), np.uint8))).save(source)  # 720 x 1056
    library = StyleLibrary()
    changes = []
    library.changed.connect(lambda: changes.append(1))
    style = library.add_image(source)
    assert style.name == "Sunset Study" and style.choice == f"user:{style.id}" and changes == [1]
    assert library.folder == isolated_home / "styles"
    assert folder_files(library) == [f"{style.id}.json", f"{style.id}.png"]
    stored = open_image_rgba(library.folder / f"{style.id}.png")
    assert max(stored.shape[:2]) == STORED_SIDE and stored.shape[:2] == (STORED_SIDE, round(720 * 512 / 1056))
    again = StyleLibrary()  # a restart reads the same folder
    assert [(s.id, s.name) for s in again.styles()] == [(style.id, "Sunset Study")]
    np.testing.assert_array_equal(again.pixels(style.id), stored)


def test_layer_pixels_rename_and_remove(isolated_home):
    library = StyleLibrary()
    pixels = np.dstack([painting(4, 40), np.full((40, 40), 255, np.uint8)])
    first = library.add_pixels(pixels, "Layer 1")
    second = library.add_pixels(pixels, "Sky\x1b[31m  layer\n")
    assert second.name == "Sky [31m layer" and library.pixels(first.id).shape == (40, 40, 4)  # small ones kept as is
    assert [s.id for s in library.styles()] == [first.id, second.id]
    assert library.rename(first.id, "Warm").name == "Warm"
    library.remove(second.id)
    assert [(s.id, s.name) for s in StyleLibrary().styles()] == [(first.id, "Warm")]
    with pytest.raises(InputError, match="no user style"):
        library.remove(second.id)
    with pytest.raises(InputError, match="empty"):
        library.add_pixels(np.zeros((8, 8, 4), np.uint8), "Nothing")
    with pytest.raises(InputError, match="name"):
        clean_name(" \n ")


@pytest.mark.parametrize("kind", ["text", "truncated", "huge", "folder", "fifo", "missing"])
def test_hostile_files_are_refused_with_one_line_and_nothing_written(tmp_path, kind):
    path = tmp_path / "style.png"
    if kind == "text":
        path.write_text("not an image")
    elif kind == "truncated":
        Image.fromarray(painting(1, 64)).save(path)
        path.write_bytes(path.read_bytes()[:200])
    elif kind == "huge":
        Image.new("1", (9000, 8000)).save(path)  # 72 million pixels, a tiny file
    elif kind == "folder":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)
    library = StyleLibrary(tmp_path / "styles")
    with pytest.raises(InputError) as caught:
        library.add_image(path)
    message = str(caught.value)
    assert "\n" not in message and "style.png" in message
    assert folder_files(library) == []


def test_damaged_entries_are_skipped_when_listing(isolated_home):
    library = StyleLibrary()
    good = library.add_pixels(painting(2, 16), "Good")
    (library.folder / "aaaaaaaaaaaa.json").write_text("{nope")
    (library.folder / "bbbbbbbbbbbb.json").write_text('{"format": "genart-user-style/1", "id": "bbbbbbbbbbbb"}')
    (library.folder / "../escape.json").write_text("{}")
    assert [s.id for s in library.styles()] == [good.id]
    with pytest.raises(InputError, match="no user style"):
        library.get("../../etc")
