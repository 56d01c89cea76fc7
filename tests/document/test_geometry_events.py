from genart_desktop.document.events import DocumentChange, Signal
from genart_desktop.document.geometry import Rect, union_all


def test_rect_intersect_union_clamp_slices():
    a = Rect(0, 0, 10, 10)
    b = Rect(5, 5, 10, 10)
    assert a.intersect(b) == Rect(5, 5, 5, 5)
    assert a.union(b) == Rect(0, 0, 15, 15)
    assert a.intersect(Rect(20, 20, 2, 2)).is_empty()
    assert Rect(-5, -5, 10, 10).clamp(8, 8) == Rect(0, 0, 5, 5)
    assert Rect(2, 3, 4, 5).slices() == (slice(3, 8), slice(2, 6))
    assert union_all([None, Rect(0, 0, 0, 0), Rect(1, 1, 1, 1), Rect(3, 3, 1, 1)]) == Rect(1, 1, 3, 3)
    assert Rect.from_bounds(0.5, 0.5, 2.2, 2.0) == Rect(0, 0, 3, 2)


def test_signal_connect_emit_disconnect():
    got = []
    signal = Signal()
    signal.connect(got.append)
    signal.connect(got.append)  # connecting twice keeps one slot
    signal.emit(DocumentChange("pixels", Rect(0, 0, 1, 1)))
    signal.disconnect(got.append)
    signal.emit(DocumentChange("layers"))
    assert got == [DocumentChange("pixels", Rect(0, 0, 1, 1))]
