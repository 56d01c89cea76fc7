"""An executor bound to the workspace's model registry, for request types whose work needs the registry.

Why a frozen dataclass and not a bound method or a ``partial``: two controllers of one workspace (say two style
palettes) register the same request type; ``Workspace.register`` accepts that only when the executors are equal,
and two of these are equal exactly when they run the same function over the same registry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from genart_desktop.engine.jobs import JobContext


@dataclass(frozen=True)
class WithRegistry:
    """``function(request, context, registry)`` as a ``(request, context)`` executor."""

    function: Callable[[Any, JobContext, Any], Any]
    registry: Any

    def __call__(self, request: Any, context: JobContext) -> Any:
        return self.function(request, context, self.registry)
