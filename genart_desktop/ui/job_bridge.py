"""Carries engine job events from worker threads to the GUI thread.

The workspace's runner calls :meth:`JobBridge.post` on a worker thread; the event crosses to the bridge's (GUI)
thread through a queued connection and comes out of the one :attr:`JobBridge.event` signal, which the app connects
to ``Workspace.deliver``. Telling event types apart is left to ``engine.events.dispatch``.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal

from genart_desktop.engine.events import JobEvent


class JobBridge(QObject):
    event = Signal(object)  # a JobEvent, emitted on the bridge's thread

    _posted = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._posted.connect(self.event.emit, Qt.ConnectionType.QueuedConnection)

    def post(self, event: JobEvent) -> None:
        """Thread-safe: queue ``event`` for delivery on the bridge's thread."""
        self._posted.emit(event)
