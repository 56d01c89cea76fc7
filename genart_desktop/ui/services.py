"""The app-wide services panels share: one workspace (model registry, job runner, event routing) and its Qt bridge.

Panels get them with :func:`services_for(window)` so every AI job goes through the same workspace (and shows in the
jobs panel), events reach controllers on the GUI thread, and the runner is shut down once when the window closes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject

from genart_desktop.engine.jobs import JobRunner
from genart_desktop.ui.job_bridge import JobBridge
from genart_desktop.workspace.workspace import Workspace


@dataclass
class AppServices:
    workspace: Workspace
    bridge: JobBridge

    @property
    def registry(self) -> Any:
        return self.workspace.registry

    @property
    def runner(self) -> JobRunner:
        return self.workspace.runner

    def shutdown(self) -> None:
        self.workspace.shutdown()


def services_for(window: QObject) -> AppServices:
    """The services attached to ``window`` (created on first use; uses ``window.registry`` when it has one)."""
    existing = getattr(window, "services", None)
    if isinstance(existing, AppServices):
        return existing
    bridge = JobBridge(parent=window)
    workspace = Workspace(getattr(window, "registry", None), post=bridge.post)
    if hasattr(window, "registry"):
        window.registry = workspace.registry
    bridge.event.connect(workspace.deliver)
    services = AppServices(workspace=workspace, bridge=bridge)
    window.services = services
    window.destroyed.connect(lambda *_: services.shutdown())
    return services
