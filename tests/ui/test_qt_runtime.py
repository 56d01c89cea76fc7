"""Guards against a Qt binding defect we hit: PySide6 6.12.0's ``Signal.emit`` drops a reference to ``True`` on
every call, so a long session (or test run) aborts at exit with "bool_dealloc". pyproject excludes that release."""

from __future__ import annotations

import sys

import pytest
from PySide6.QtCore import QObject, Signal


class _Emitter(QObject):
    fired = Signal(float)


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="True is immortal from Python 3.12; the count is fixed")
def test_signal_emit_keeps_bool_reference_counts(qapp):
    emitter = _Emitter()
    received = []
    emitter.fired.connect(received.append)
    before = sys.getrefcount(True)
    for _ in range(500):
        emitter.fired.emit(0.5)
    assert len(received) == 500
    assert sys.getrefcount(True) - before > -50, "this PySide6 build corrupts bool reference counts"
