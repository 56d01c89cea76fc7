"""Property: any sequence of edits, undone completely and redone completely, gives back the same pixels."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from genart_desktop.document import BrushSettings, Document, Rect
from genart_desktop.document.layer import BLEND_MODES

W, H = 48, 32
coord = st.floats(min_value=-5, max_value=55, allow_nan=False)
colour = st.tuples(*[st.integers(0, 255)] * 3)

edit = st.one_of(
    st.tuples(st.just("stroke"), st.lists(st.tuples(coord, coord, st.floats(0, 1)), min_size=1, max_size=5),
              st.floats(1, 20), st.floats(0, 1), colour, st.sampled_from(["brush", "eraser"])),
    st.tuples(st.just("fill"), coord, coord, colour, st.integers(0, 60), st.booleans()),
    st.tuples(st.just("add_layer"), st.integers(0, 255)),
    st.tuples(st.just("remove"), st.integers(0, 5)),
    st.tuples(st.just("move"), st.integers(0, 5), st.integers(0, 5)),
    st.tuples(st.just("prop"), st.integers(0, 5), st.floats(0, 1), st.sampled_from(BLEND_MODES), st.booleans()),
    st.tuples(st.just("select"), st.integers(0, W), st.integers(0, H), st.integers(1, 30), st.integers(1, 30),
              st.sampled_from(["replace", "add", "subtract"]), st.integers(0, 3)),
    st.tuples(st.just("deselect")),
    st.tuples(st.just("offset"), st.integers(-10, 10), st.integers(-10, 10)),
    st.tuples(st.just("merge"), st.integers(1, 5)),
    st.tuples(st.just("active"), st.integers(0, 5)),
)


def apply(doc, op):
    n = len(doc.layers)
    kind = op[0]
    if kind == "stroke":
        _, points, size, hardness, color, tool = op
        stroke = doc.begin_stroke(BrushSettings(size=size, hardness=hardness, color=color, spacing=0.3), tool)
        for x, y, p in points:
            stroke.add_point(x, y, p)
        stroke.end()
    elif kind == "fill":
        doc.fill(op[1], op[2], op[3], op[4], op[5])
    elif kind == "add_layer":
        pixels = np.zeros((H, W, 4), np.uint8)
        pixels[::3, ::2] = (op[1], 255 - op[1], 7, op[1])
        doc.add_layer(pixels=pixels)
    elif kind == "remove" and n > 1:
        doc.remove_layer(op[1] % n)
    elif kind == "move":
        doc.move_layer(op[1] % n, op[2] % n)
    elif kind == "prop":
        doc.set_layer_property(op[1] % n, opacity=op[2], blend_mode=op[3], visible=op[4])
    elif kind == "select":
        doc.select_rect(Rect(op[1], op[2], op[3], op[4]), mode=op[5], feather=op[6])
    elif kind == "deselect":
        doc.deselect()
    elif kind == "offset":
        doc.offset_layer(doc.active_index, op[1], op[2])
    elif kind == "merge" and n > 1:
        doc.merge_down(max(op[1] % n, 1))
    elif kind == "active":
        doc.set_active(op[1] % n)


def state(doc):
    return ([(layer.uid, layer.name, layer.opacity, layer.visible, layer.blend_mode, layer.pixels.tobytes())
             for layer in doc.layers], doc.selection.mask.tobytes(), doc.composite().tobytes())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(edit, min_size=1, max_size=12))
def test_undo_all_then_redo_all_restores_pixels(ops):
    doc = Document(W, H, max_undo_bytes=1 << 30)
    initial = state(doc)
    for op in ops:
        apply(doc, op)
    final = state(doc)
    steps = doc.history.undo_count
    while doc.can_undo:
        doc.undo()
    assert state(doc) == initial
    for _ in range(steps):
        assert doc.redo()
    assert state(doc) == final
    assert not doc.can_redo
