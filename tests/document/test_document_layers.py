import numpy as np
import pytest

from genart_desktop.core.errors import InputError
from genart_desktop.document import Document, Rect
from genart_desktop.document.blend import composite_layers


def snapshot(doc):
    return [(layer.name, layer.opacity, layer.visible, layer.blend_mode, layer.locked, layer.pixels.copy())
            for layer in doc.layers]


def same(a, b):
    return len(a) == len(b) and all(x[:5] == y[:5] and np.array_equal(x[5], y[5]) for x, y in zip(a, b))


def solid(doc, rgba):
    return np.broadcast_to(np.array(rgba, np.uint8), (doc.height, doc.width, 4)).copy()


def test_new_document_has_background_and_composites_it():
    doc = Document(40, 30)
    assert [layer.name for layer in doc.layers] == ["Background"]
    assert doc.composite().shape == (30, 40, 4)
    assert (doc.composite() == 255).all()
    assert not doc.dirty and not doc.can_undo
    clear = Document(8, 8, background=None)
    assert (clear.composite() == 0).all()


@pytest.mark.parametrize("size", [(0, 10), (10, -1), (20000, 10)])
def test_bad_canvas_sizes_are_refused(size):
    with pytest.raises(InputError):
        Document(*size)


def test_each_layer_operation_is_one_undoable_step():
    doc = Document(16, 12)
    states = [snapshot(doc)]
    red = solid(doc, (255, 0, 0, 255))
    steps = [
        lambda: doc.add_layer("Red", red),
        lambda: doc.duplicate_layer(1),
        lambda: doc.set_layer_property(2, name="Half", opacity=0.5, blend_mode="multiply"),
        lambda: doc.move_layer(2, 0),
        lambda: doc.offset_layer(1, 3, -2),
        lambda: doc.set_layer_property(0, visible=False, locked=True),
        lambda: doc.merge_down(2),
        lambda: doc.remove_layer(1),
    ]
    for step in steps:
        step()
        states.append(snapshot(doc))
        assert doc.dirty
    assert doc.history.undo_count == len(steps)
    for expected in reversed(states[:-1]):
        assert doc.undo()
        assert same(snapshot(doc), expected)
    assert not doc.can_undo and not doc.dirty
    for expected in states[1:]:
        assert doc.redo()
        assert same(snapshot(doc), expected)


def test_add_layer_goes_above_active_and_becomes_active():
    doc = Document(8, 8)
    a = doc.add_layer("A")
    doc.set_active(0)
    b = doc.add_layer("B")
    assert [layer.name for layer in doc.layers] == ["Background", "B", "A"]
    assert doc.active_layer is b and doc.active_index == 1
    doc.undo()
    assert doc.active_layer.name == "Background"
    assert a in doc.layers


def test_remove_last_layer_and_bad_indices_are_refused():
    doc = Document(8, 8)
    with pytest.raises(InputError):
        doc.remove_layer(0)
    with pytest.raises(InputError):
        doc.set_layer_property(3, opacity=0.5)
    with pytest.raises(InputError):
        doc.set_layer_property(0, opacity=2.0)
    with pytest.raises(InputError):
        doc.set_layer_property(0, blend_mode="dissolve")
    with pytest.raises(InputError):
        doc.merge_down(0)
    assert not doc.can_undo


def test_merge_down_keeps_the_look():
    doc = Document(10, 10)
    pixels = np.zeros((10, 10, 4), np.uint8)
    pixels[2:6, 2:6] = (0, 0, 255, 128)
    doc.add_layer("Blue", pixels)
    doc.set_layer_property(1, blend_mode="multiply", opacity=0.7)
    before = doc.composite()
    doc.merge_down(1)
    assert len(doc.layers) == 1
    assert np.abs(doc.composite().astype(int) - before.astype(int)).max() <= 1
    assert doc.history.undo_text == "Merge Down"


def test_offset_layer_moves_pixels_and_cuts_at_edges():
    doc = Document(10, 10, background=None)
    doc.active_layer.pixels[0:2, 0:2] = (9, 9, 9, 255)
    doc.offset_layer(0, 8, 1)
    layer = doc.active_layer.pixels
    assert (layer[1:3, 8:10] == (9, 9, 9, 255)).all()
    assert layer[..., 3].sum() == 4 * 255
    with pytest.raises(InputError):
        doc.set_layer_property(0, locked=True)
        doc.offset_layer(0, 1, 1)


def test_add_result_layer_is_cut_to_the_selection():
    doc = Document(20, 20)
    doc.select_rect(Rect(5, 5, 5, 5))
    result = np.full((20, 20, 3), 7, np.uint8)
    layer = doc.add_result_layer(result, "Style", metadata={"model": "x"})
    assert doc.active_layer is layer and layer.metadata == {"model": "x"}
    assert layer.pixels[..., 3].sum() == 25 * 255
    assert (layer.pixels[5:10, 5:10, 3] == 255).all()
    small = doc.add_result_layer(np.full((4, 4, 4), 200, np.uint8), "Patch", origin=(18, 18), use_selection=False)
    assert small.pixels[18:20, 18:20, 3].tolist() == [[200, 200], [200, 200]]
    with pytest.raises(InputError):
        doc.add_result_layer(np.zeros((4, 4, 4), np.uint8), "wrong size")
    doc.undo()
    doc.undo()
    assert len(doc.layers) == 1


def test_composite_cache_is_invalidated_by_every_change():
    doc = Document(300, 200)
    events = []
    doc.changed.connect(events.append)
    doc.composite()
    pixels = np.zeros((200, 300, 4), np.uint8)
    pixels[150:160, 250:260] = (255, 0, 0, 255)
    doc.add_layer("R", pixels)
    assert doc.composite()[155, 255].tolist() == [255, 0, 0, 255]
    doc.set_layer_property(1, visible=False)
    assert doc.composite()[155, 255].tolist() == [255, 255, 255, 255]
    doc.undo()
    region = doc.composite(Rect(240, 140, 30, 30))
    assert region[15, 15].tolist() == [255, 0, 0, 255]
    fresh = composite_layers([(layer.pixels, layer.opacity, layer.blend_mode) for layer in doc.layers], (200, 300))
    assert np.array_equal(doc.composite(), fresh)
    kinds = {e.kind for e in events}
    assert {"layers", "history"} <= kinds


def test_composite_of_rect_outside_canvas_is_transparent():
    doc = Document(10, 10)
    out = doc.composite(Rect(5, 5, 10, 10))
    assert out.shape == (10, 10, 4)
    assert (out[:5, :5] == 255).all() and (out[5:, 5:] == 0).all()


def test_dirty_follows_the_saved_position():
    doc = Document(8, 8)
    doc.add_layer()
    doc.mark_clean()
    assert not doc.dirty
    doc.undo()
    assert doc.dirty
    doc.redo()
    assert not doc.dirty
    doc.dirty = True
    assert doc.dirty
