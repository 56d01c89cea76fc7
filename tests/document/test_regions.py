"""Region edits are undo steps: add, re-prompt, rename, remove and restore each undo and redo as one step, the
document is clean again when undone to its saved state, and a step keeps only the masks it alone holds."""

from __future__ import annotations

import numpy as np
import pytest

from genart_desktop.core.errors import InputError
from genart_desktop.document import Document


def mask(x0: int, x1: int) -> np.ndarray:
    out = np.zeros((6, 8), np.uint8)
    out[:, x0:x1] = 255
    return out


def listed(doc: Document) -> list[tuple[str, str]]:
    return [(region.name, region.prompt) for region in doc.regions]


def test_each_region_edit_is_one_undo_step_with_its_name():
    doc = Document(8, 6)
    doc.mark_clean()
    seen = []
    doc.changed.connect(lambda change: seen.append(change.kind))
    doc.regions.add(mask(0, 4), "hills")
    doc.regions.add(mask(4, 8), "sea", name="Water")
    doc.regions.set_prompt(0, "green hills")
    doc.regions.set_prompt(0, "green hills")  # unchanged: no step
    doc.regions.rename(1, "Lake")
    doc.regions.remove(0)
    assert listed(doc) == [("Lake", "sea")] and doc.dirty and "regions" in seen
    assert doc.history.undo_count == 5 and doc.history.undo_text == "Remove Region"
    steps = [listed(doc)]
    while doc.undo():
        steps.append(listed(doc))
    assert steps == [[("Lake", "sea")],
                     [("Region 1", "green hills"), ("Lake", "sea")],
                     [("Region 1", "green hills"), ("Water", "sea")],
                     [("Region 1", "hills"), ("Water", "sea")],
                     [("Region 1", "hills")],
                     []]
    assert not doc.dirty  # back at the saved state
    for expected in reversed(steps[:-1]):
        assert doc.redo() and listed(doc) == expected
    np.testing.assert_array_equal(doc.regions[0].mask, mask(4, 8))


def test_restoring_a_list_is_one_step_and_a_refused_edit_is_none():
    doc = Document(8, 6)
    doc.regions.add(mask(0, 2), "kept")
    before = doc.history.undo_count
    with pytest.raises(InputError, match="name"):
        doc.regions.rename(0, "  ")
    with pytest.raises(InputError, match="empty"):
        doc.regions.replace_all([("A", "a", mask(0, 4)), ("B", "b", np.zeros((6, 8), np.uint8))])
    assert doc.history.undo_count == before and listed(doc) == [("Region 1", "kept")]
    doc.regions.replace_all([("A", "a", mask(0, 4)), ("B", "b", mask(4, 8))])
    assert doc.history.undo_count == before + 1 and doc.history.undo_text == "Restore Regions"
    doc.undo()
    assert listed(doc) == [("Region 1", "kept")]


def test_a_step_costs_the_masks_only_it_holds():
    doc = Document(64, 64)
    doc.regions.add(np.full((64, 64), 255, np.uint8), "a")
    added = doc.history._undo[-1]
    assert added.nbytes < 1024  # the mask lives in the document while the region is there
    doc.regions.set_prompt(0, "b")
    assert doc.history._undo[-1].nbytes < 1024  # a new prompt shares the mask
    doc.regions.remove(0)
    assert doc.history._undo[-1].nbytes >= 64 * 64  # the removed mask lives on only in this step
    doc.undo()
    doc.undo()
    doc.undo()
    assert added.nbytes >= 64 * 64 and len(doc.regions) == 0


def test_loading_regions_is_not_an_edit():
    doc = Document(8, 6)
    doc.regions.load([("A", "a", mask(0, 4))])
    assert listed(doc) == [("A", "a")] and doc.history.undo_count == 0 and not doc.dirty
