import json

import numpy as np
import pytest

from genart_desktop.core.errors import InputError
from genart_desktop.engine.latent.bookmarks import (
    METADATA_KEY,
    Bookmark,
    BookmarkLibrary,
    metadata_value,
    read_metadata,
)


def test_bookmark_json_round_trip_is_exact():
    z = np.random.default_rng(0).standard_normal(16).astype(np.float32)
    mark = Bookmark("sunset", "tiny-gan", z, seed=12)
    back = Bookmark.from_dict(json.loads(json.dumps(mark.to_dict())))
    assert back.name == "sunset" and back.seed == 12 and back.bookmark_id == mark.bookmark_id
    np.testing.assert_array_equal(back.latent, z)


@pytest.mark.parametrize("entry", [
    [], {"name": "x"}, {"name": "x", "model_id": "m", "latent": "abc"},
    {"name": "x", "model_id": "m", "latent": [1, None]}, {"name": "x", "model_id": "m", "latent": []},
    {"name": "x", "model_id": "m", "latent": [1.0], "seed": "7"},
])
def test_invalid_entries_are_refused(entry):
    with pytest.raises(InputError):
        Bookmark.from_dict(entry)


def test_document_metadata_round_trip_skips_bad_entries():
    marks = [Bookmark("a", "m", np.ones(3)), Bookmark("b", "m", np.zeros(3))]
    metadata = {METADATA_KEY: metadata_value(marks) + [{"junk": True}]}
    metadata = json.loads(json.dumps(metadata))
    assert [b.name for b in read_metadata(metadata)] == ["a", "b"]
    assert read_metadata({}) == []


def test_library_persists_and_filters_by_model(tmp_path):
    lib = BookmarkLibrary(tmp_path / "lib.json")
    a = Bookmark("a", "gan-1", np.ones(3))
    lib.add(a)
    lib.add(Bookmark("b", "vae-1", np.zeros(4)))
    again = BookmarkLibrary(tmp_path / "lib.json")
    assert [b.name for b in again.for_model("gan-1")] == ["a"]
    again.rename(a.bookmark_id, "renamed")
    again.remove(next(b.bookmark_id for b in again.all() if b.name == "b"))
    assert [b.name for b in BookmarkLibrary(tmp_path / "lib.json").all()] == ["renamed"]
    assert not list(tmp_path.glob("*.part"))


def test_corrupt_library_is_reported_not_overwritten(tmp_path):
    path = tmp_path / "lib.json"
    path.write_text("[1, 2")
    lib = BookmarkLibrary(path)
    with pytest.raises(InputError, match="left as it is"):
        lib.add(Bookmark("a", "m", np.ones(2)))
    assert path.read_text() == "[1, 2"


def test_default_library_lives_in_user_data(isolated_home):
    lib = BookmarkLibrary()
    lib.add(Bookmark("a", "m", np.ones(2)))
    assert lib.path.is_file() and str(lib.path).startswith(str(isolated_home))
