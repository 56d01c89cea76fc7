import numpy as np
import pytest

from genart_desktop.core.errors import InputError
from genart_desktop.document import Document
from genart_desktop.document.autosave import AutosaveStore


def test_write_list_recover_discard(tmp_path, isolated_home):
    store = AutosaveStore()
    assert store.directory.is_relative_to(isolated_home)
    doc = Document(20, 10)
    doc.add_layer("Sketch")
    doc.active_layer.pixels[2, 3] = (1, 2, 3, 4)
    doc.path = tmp_path / "work.ora"
    entry = store.write(doc, "doc-1")
    assert doc.dirty and doc.path == tmp_path / "work.ora"  # autosave is not a save
    pending = store.pending()
    assert [e.doc_id for e in pending] == ["doc-1"]
    assert pending[0].original_path == tmp_path / "work.ora" and pending[0].display_name == "work.ora"
    recovered = store.recover(pending[0])
    assert recovered.dirty and recovered.path == tmp_path / "work.ora"
    assert [layer.name for layer in recovered.layers] == ["Background", "Sketch"]
    assert np.array_equal(recovered.layers[1].pixels, doc.layers[1].pixels)
    store.discard(entry)
    assert store.pending() == []
    store.discard("doc-1")  # discarding twice is harmless


def test_untitled_entries_newest_first_and_broken_notes_skipped(tmp_path):
    store = AutosaveStore(tmp_path)
    store.write(Document(4, 4), "a")
    store.write(Document(4, 4), "b")
    (tmp_path / "c.json").write_text("{broken")
    (tmp_path / "c.ora").write_bytes(b"x")
    (tmp_path / "d.json").write_text("{}")  # no snapshot beside it
    entries = store.pending()
    assert [e.doc_id for e in entries] == ["b", "a"]
    assert entries[0].original_path is None and entries[0].display_name == "Untitled"


def test_ids_cannot_escape_the_folder(tmp_path):
    store = AutosaveStore(tmp_path)
    with pytest.raises(InputError):
        store.write(Document(4, 4), "../x")
