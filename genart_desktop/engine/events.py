"""Events a job emits, in order: any number of Progress/Preview, then exactly one Result, Error or Cancelled.

Events are frozen and the arrays they carry are read-only, so they can cross threads without copies or locks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class JobEvent:
    job_id: int


@dataclass(frozen=True)
class Progress(JobEvent):
    fraction: float
    message: str = ""


@dataclass(frozen=True)
class Preview(JobEvent):
    image: np.ndarray


@dataclass(frozen=True)
class Result(JobEvent):
    value: object


@dataclass(frozen=True)
class Error(JobEvent):
    message: str
    exception: BaseException | None = None


@dataclass(frozen=True)
class Cancelled(JobEvent):
    reason: str = ""


TERMINAL_EVENTS = (Result, Error, Cancelled)


def is_terminal(event: JobEvent) -> bool:
    return isinstance(event, TERMINAL_EVENTS)


_HANDLER_NAMES: dict[type, str] = {Progress: "on_progress", Preview: "on_preview", Result: "on_result",
                                   Error: "on_error", Cancelled: "on_cancelled"}


def dispatch(event: JobEvent, target: Any) -> Any:
    """The one place an event becomes a method call: ``target.on_progress(event)``, ``on_preview``, ``on_result``,
    ``on_error`` or ``on_cancelled``; a target without that method ignores the event (returns None)."""
    handler = getattr(target, _HANDLER_NAMES[type(event)], None)
    return None if handler is None else handler(event)
