import numpy as np
import pytest

from genart_desktop.core.errors import InputError
from genart_desktop.document import Document, Rect
from genart_desktop.document.selection import ellipse_mask, feather, polygon_mask, stroke_mask


def test_rect_modes_and_undo():
    doc = Document(50, 40)
    events = []
    doc.changed.connect(lambda c: events.append(c.kind))
    assert doc.selection.is_empty and doc.selection.bounds() is None
    doc.select_rect(Rect(5, 5, 10, 10))
    assert doc.selection.bounds() == Rect(5, 5, 10, 10)
    doc.select_rect(Rect(20, 5, 5, 5), mode="add")
    assert doc.selection.bounds() == Rect(5, 5, 20, 10)
    doc.select_rect(Rect(0, 0, 50, 8), mode="subtract")
    assert doc.selection.bounds() == Rect(5, 8, 20, 7)
    doc.select_rect(Rect(0, 0, 7, 40), mode="intersect")
    assert doc.selection.bounds() == Rect(5, 8, 2, 7)
    assert "selection" in events
    for _ in range(4):
        doc.undo()
    assert doc.selection.is_empty
    doc.redo()
    assert doc.selection.bounds() == Rect(5, 5, 10, 10)
    with pytest.raises(InputError):
        doc.select_rect(Rect(0, 0, 2, 2), mode="xor")


def test_mask_is_read_only():
    doc = Document(10, 10)
    with pytest.raises(ValueError):
        doc.selection.mask[0, 0] = 1


def test_select_all_invert_deselect():
    doc = Document(20, 10)
    doc.select_all()
    assert doc.selection.bounds() == Rect(0, 0, 20, 10)
    doc.select_rect(Rect(0, 0, 10, 10))
    doc.invert_selection()
    assert doc.selection.bounds() == Rect(10, 0, 10, 10)
    doc.deselect()
    assert doc.selection.is_empty
    assert not doc.deselect()  # nothing changed, no step
    assert doc.history.undo_count == 4


def test_ellipse_is_antialiased_with_the_right_area():
    mask = ellipse_mask(100, 100, Rect(10, 20, 60, 40))
    assert abs(mask.sum() / 255 - np.pi * 30 * 20) < 10
    assert mask[40, 40] == 255 and mask[0, 0] == 0
    assert ((mask > 0) & (mask < 255)).any()


def test_polygon_lasso_triangle_area():
    mask = polygon_mask(100, 100, [(10, 10), (90, 10), (10, 90)])
    assert abs(mask.sum() / 255 - 0.5 * 80 * 80) < 60
    assert mask[20, 20] == 255 and mask[80, 80] == 0
    assert polygon_mask(10, 10, [(1, 1), (5, 5)]).sum() == 0


def test_brush_selection_covers_the_swept_band():
    mask = stroke_mask(100, 50, [(10, 25), (90, 25)], 5)
    assert mask[25, 50] == 255 and mask[25, 10] == 255 and mask[10, 50] == 0
    assert abs(mask.sum() / 255 - (80 * 10 + np.pi * 25)) < 40


def test_feather_softens_but_keeps_the_centre():
    mask = np.zeros((80, 80), np.uint8)
    mask[20:60, 20:60] = 255
    soft = feather(mask, 6)
    assert soft[40, 40] == 255
    assert 90 < soft[40, 20] < 165  # the old edge is about half selected
    assert soft[40, 12] > 0 and soft[40, 2] == 0
    assert abs(int(soft.astype(int).sum()) - int(mask.astype(int).sum())) < 0.02 * mask.astype(int).sum()
    doc = Document(80, 80)
    doc.select_rect(Rect(20, 20, 40, 40), feather=6)
    assert np.array_equal(doc.selection.mask, soft)
    doc.deselect()
    doc.select_rect(Rect(20, 20, 40, 40))
    doc.feather_selection(6)
    assert np.array_equal(doc.selection.mask, soft)


def test_polygon_and_brush_select_through_document():
    doc = Document(60, 60)
    doc.select_polygon([(0, 0), (30, 0), (30, 30), (0, 30)])
    assert doc.selection.bounds() == Rect(0, 0, 30, 30)
    doc.select_brush_stroke([(50, 50), (55, 55)], 3)
    assert doc.selection.bounds().right >= 58
    doc.select_ellipse(Rect(10, 10, 20, 20), mode="subtract")
    assert doc.selection.mask[20, 20] == 0
