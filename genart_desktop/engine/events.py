"""Events a job emits, in order: any number of Progress/Preview, then exactly one Result, Error or Cancelled.

Events are frozen and the arrays they carry are read-only, so they can cross threads without copies or locks.
"""

from __future__ import annotations

from dataclasses import dataclass

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
