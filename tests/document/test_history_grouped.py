"""One user action that makes several edits is one undo step; a failing one leaves nothing behind."""

from __future__ import annotations

import numpy as np
import pytest

from genart_desktop.core.errors import InputError
from genart_desktop.document import Document


def test_edits_in_a_group_undo_and_redo_as_one_step():
    doc = Document(8, 6)
    with doc.history.grouped("Restore Recipe"):
        doc.regions.add(np.full((6, 8), 255, np.uint8), "sky")
        doc.add_layer("Control")
    assert doc.history.undo_count == 1 and doc.history.undo_text == "Restore Recipe"
    doc.undo()
    assert len(doc.regions) == 0 and [layer.name for layer in doc.layers] == ["Background"]
    doc.redo()
    assert len(doc.regions) == 1 and doc.layers[-1].name == "Control"
    with doc.history.grouped("Single"):
        doc.regions.set_prompt(0, "sea")
    assert doc.history.undo_count == 2 and doc.history.undo_text == "Region Prompt"  # one edit keeps its name


def test_a_failing_group_undoes_what_it_applied():
    doc = Document(8, 6)
    doc.add_layer("Kept")
    with pytest.raises(InputError), doc.history.grouped("Broken"):
        doc.regions.add(np.full((6, 8), 255, np.uint8), "sky")
        doc.regions.add(np.zeros((6, 8), np.uint8), "empty")  # refused
    assert len(doc.regions) == 0 and doc.history.undo_count == 1 and doc.history.undo_text == "Add Layer"
