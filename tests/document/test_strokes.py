import numpy as np
import pytest

from genart_desktop.core.errors import InputError
from genart_desktop.document import BrushSettings, Document, Rect
from genart_desktop.document.brush import dab_mask


def paint(doc, points, tool="brush", **brush):
    settings = BrushSettings(**{"size": 10, "hardness": 1.0, "color": (255, 0, 0), **brush})
    stroke = doc.begin_stroke(settings, tool)
    for point in points:
        stroke.add_point(*point)
    stroke.end()
    return stroke


def test_dab_masks_are_cached_and_subpixel():
    a, x0, y0 = dab_mask(20, 0.5, 50.0, 50.0)
    b, _, _ = dab_mask(20, 0.5, 50.0, 50.0)
    c, _, _ = dab_mask(20, 0.5, 50.5, 50.0)
    assert a is b and not np.array_equal(a, c)
    assert abs(a.sum() - c.sum()) < 0.5
    hard, _, _ = dab_mask(20, 1.0, 50.0, 50.0)
    assert abs(hard.sum() - np.pi * 100) < 2


def test_stroke_paints_along_the_path_and_undo_redo_are_exact():
    doc = Document(100, 60)
    before = doc.active_layer.pixels.copy()
    stroke = paint(doc, [(10, 30), (90, 30)])
    after = doc.active_layer.pixels.copy()
    assert after[30, 50].tolist() == [255, 0, 0, 255]
    assert after[10, 50].tolist() == [255, 255, 255, 255]
    # interpolated: one dab per spacing * size px (80 px / 1 px) rather than one per event
    assert 75 <= stroke.dabs <= 85
    assert doc.history.undo_count == 1 and doc.history.undo_text == "Brush Stroke"
    doc.undo()
    assert np.array_equal(doc.active_layer.pixels, before)
    doc.redo()
    assert np.array_equal(doc.active_layer.pixels, after)


def test_spacing_is_even_across_many_small_events():
    doc = Document(200, 40)
    s1 = paint(doc, [(10 + i * 0.25, 20) for i in range(401)], spacing=0.5)
    s2 = paint(doc, [(10, 20), (110, 20)], spacing=0.5)
    assert abs(s1.dabs - s2.dabs) <= 1


def test_opacity_caps_overlapping_dabs_and_flow_builds_up():
    doc = Document(60, 60, background=None)
    paint(doc, [(30, 30), (30.5, 30), (31, 30)], opacity=0.5, spacing=0.01)
    assert abs(int(doc.active_layer.pixels[30, 30, 3]) - 128) <= 1
    doc.undo()
    paint(doc, [(30, 30)], flow=0.25)
    single = int(doc.active_layer.pixels[30, 30, 3])
    doc.undo()
    paint(doc, [(30, 30), (31, 30), (32, 30)], flow=0.25, spacing=0.05)
    assert int(doc.active_layer.pixels[30, 30, 3]) > single


def test_pressure_maps_to_size_and_opacity():
    doc = Document(120, 60, background=None)
    stroke = doc.begin_stroke(BrushSettings(size=20, hardness=1.0, pressure_size=True))
    stroke.add_point(30, 30, 0.25)
    stroke.end()
    light = doc.active_layer.pixels[..., 3] > 0
    assert 5 * 5 * 0.7 < light.sum() < 5 * 5 * 1.3 * 3.2
    doc.undo()
    stroke = doc.begin_stroke(BrushSettings(size=20, hardness=1.0, pressure_size=False, pressure_opacity=True))
    stroke.add_point(30, 30, 0.5)
    stroke.end()
    assert abs(int(doc.active_layer.pixels[30, 30, 3]) - 128) <= 1


def test_eraser_reduces_alpha_only():
    doc = Document(40, 40)
    paint(doc, [(20, 20)], tool="eraser", size=8)
    pixels = doc.active_layer.pixels
    assert pixels[20, 20, 3] == 0 and pixels[20, 20, :3].tolist() == [255, 255, 255]
    assert pixels[2, 2, 3] == 255
    assert doc.history.undo_text == "Erase"


def test_selection_limits_painting():
    doc = Document(60, 60, background=None)
    doc.select_rect(Rect(0, 0, 30, 60))
    paint(doc, [(10, 30), (50, 30)])
    alpha = doc.active_layer.pixels[..., 3]
    assert alpha[30, 20] == 255 and alpha[:, 30:].max() == 0


def test_locked_layer_refuses_painting():
    doc = Document(20, 20)
    doc.set_layer_property(0, locked=True)
    with pytest.raises(InputError):
        doc.begin_stroke(BrushSettings())
    with pytest.raises(InputError):
        doc.begin_stroke(BrushSettings(), tool="smudge")


def test_stroke_emits_pixel_changes_and_cache_follows():
    doc = Document(64, 64)
    doc.composite()
    rects = []
    doc.changed.connect(lambda change: rects.append(change.rect) if change.kind == "pixels" else None)
    stroke = doc.begin_stroke(BrushSettings(size=6, hardness=1.0, color=(0, 0, 255)))
    stroke.add_point(10, 10)
    assert doc.composite()[10, 10].tolist() == [0, 0, 255, 255]
    stroke.add_point(40, 10)
    assert rects and all(isinstance(r, Rect) for r in rects)
    assert rects[-1].right <= 50 and rects[-1].x >= 0
    stroke.cancel()
    assert (doc.active_layer.pixels == 255).all()
    assert (doc.composite() == 255).all()
    assert not doc.can_undo


def test_undo_during_stroke_commits_it_first():
    doc = Document(30, 30)
    stroke = doc.begin_stroke(BrushSettings(size=4))
    stroke.add_point(10, 10)
    assert doc.undo()
    assert (doc.active_layer.pixels == 255).all()
    assert stroke.finished


def test_undo_memory_is_proportional_to_touched_area():
    def memory_after(strokes, size):
        doc = Document(1024, 1024, max_undo_bytes=1 << 30)
        rng = np.random.default_rng(0)
        for _ in range(strokes):
            x, y = rng.uniform(100, 900, 2)
            paint(doc, [(x, y), (x + 60, y + 30)], size=size, hardness=0.5, color=tuple(rng.integers(0, 255, 3)))
        return doc.history.memory_bytes

    full_copy = 1024 * 1024 * 4
    twenty = memory_after(20, 16)
    assert twenty < 20 * full_copy / 20  # far less than one canvas copy per stroke
    forty = memory_after(40, 16)
    assert 1.5 < forty / twenty < 2.5


def test_memory_cap_drops_oldest_steps():
    doc = Document(256, 256, max_undo_bytes=60_000)
    rng = np.random.default_rng(1)
    for i in range(30):
        paint(doc, [(rng.uniform(0, 256), rng.uniform(0, 256)), (rng.uniform(0, 256), rng.uniform(0, 256))],
              size=30, hardness=0.3, color=(i * 8, 50, 100))
    assert doc.history.memory_bytes <= 60_000 or doc.history.undo_count == 1
    assert 1 <= doc.history.undo_count < 30
    assert doc.history.dropped_steps == 30 - doc.history.undo_count
