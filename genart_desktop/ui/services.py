"""The app-wide services panels share: the model registry, one background job runner and its Qt bridge.

Panels get them with :func:`services_for(window)` so every AI job goes through the same queue (and shows in the
jobs panel), and the runner is shut down once when the window closes.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject

from genart_desktop.engine.jobs import JobRunner
from genart_desktop.engine.registry import ModelRegistry
from genart_desktop.ui.job_bridge import JobBridge


@dataclass
class AppServices:
    registry: ModelRegistry
    runner: JobRunner
    bridge: JobBridge

    def shutdown(self) -> None:
        self.runner.cancel_all()
        self.bridge.detach()
        self.runner.shutdown(wait=True, timeout=10.0)


def services_for(window: QObject) -> AppServices:
    """The services attached to ``window`` (created on first use; uses ``window.registry`` when it has one)."""
    existing = getattr(window, "services", None)
    if isinstance(existing, AppServices):
        return existing
    registry = getattr(window, "registry", None)
    if registry is None:
        registry = ModelRegistry()
        if hasattr(window, "registry"):
            window.registry = registry
    runner = JobRunner(workers=1, name="genart-jobs")
    bridge = JobBridge(runner, parent=window)
    services = AppServices(registry=registry, runner=runner, bridge=bridge)
    window.services = services
    window.destroyed.connect(lambda *_: services.shutdown())
    return services
