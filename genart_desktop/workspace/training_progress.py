"""The lines ``genart-train ... --progress json`` prints, read into typed updates.

Why typed: the Training panel and the queue must not poke at raw dictionaries, and a line the app does not
understand (a newer trainer, a stray print, a cut-off write) must be dropped with one log line, never raise.
Each update knows how to change a job's :class:`TrainingState` (``apply``), so nothing switches over its type.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from genart_desktop.core.bounded_json import parse_json
from genart_desktop.core.errors import InputError
from genart_desktop.core.text import shown

log = logging.getLogger(__name__)

MAX_LINE_CHARS = 64 * 1024  # a step line with a few dozen losses is well under 1 KiB
MAX_CURVE_POINTS = 4000  # older points are thinned out past this, so a week-long run stays cheap to draw


@dataclass
class TrainingState:
    """What the child has said so far about one run (changed only on the thread that delivers updates)."""

    run_dir: Path | None = None
    family: str = ""
    step: int = 0
    total: int = 0
    losses: list[tuple[int, dict[str, float]]] = field(default_factory=list)
    elapsed_s: float | None = None
    eta_s: float | None = None
    steps_per_s: float | None = None
    sample: Path | None = None
    checkpoint: Path | None = None
    outcome: str | None = None  # "done", "stopped" or "error" once the child said so
    message: str = ""

    def add_losses(self, step: int, losses: dict[str, float]) -> None:
        self.losses.append((step, losses))
        if len(self.losses) > MAX_CURVE_POINTS:
            self.losses = self.losses[::2] + ([self.losses[-1]] if len(self.losses) % 2 == 0 else [])


class _Fields:
    """Typed access to one decoded line; a missing or mistyped field raises ValueError."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def integer(self, key: str) -> int:
        value = self.values.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{key} is not a step count")
        return value

    def number(self, key: str) -> float | None:
        value = self.values.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{key} is not a number")  # noqa: TRY004 - a bad line, not a programming error
        return float(value)

    def text(self, key: str) -> str:
        value = self.values.get(key)
        if not isinstance(value, str) or not value:
            raise ValueError(f"{key} is not text")
        return value

    def losses(self) -> dict[str, float]:
        value = self.values.get("losses", {})
        if not isinstance(value, dict):
            raise ValueError("losses is not an object")  # noqa: TRY004
        return {str(k): float(v) for k, v in value.items()
                if isinstance(v, (int, float)) and not isinstance(v, bool)}  # null: not finite at that step


@dataclass(frozen=True)
class Started:
    run: Path
    family: str
    step: int
    total: int

    @classmethod
    def read(cls, f: _Fields) -> Started:
        return cls(Path(f.text("run")), f.text("family"), f.integer("step"), f.integer("total"))

    def apply(self, state: TrainingState) -> None:
        state.run_dir, state.family, state.step, state.total = self.run, self.family, self.step, self.total


@dataclass(frozen=True)
class Stepped:
    step: int
    total: int
    losses: dict[str, float]
    elapsed_s: float | None
    eta_s: float | None
    steps_per_s: float | None

    @classmethod
    def read(cls, f: _Fields) -> Stepped:
        return cls(f.integer("step"), f.integer("total"), f.losses(), f.number("elapsed_s"), f.number("eta_s"),
                   f.number("steps_per_s"))

    def apply(self, state: TrainingState) -> None:
        state.step, state.total = self.step, self.total
        state.elapsed_s, state.eta_s, state.steps_per_s = self.elapsed_s, self.eta_s, self.steps_per_s
        if self.losses:
            state.add_losses(self.step, self.losses)


@dataclass(frozen=True)
class Sampled:
    step: int
    path: Path

    @classmethod
    def read(cls, f: _Fields) -> Sampled:
        return cls(f.integer("step"), Path(f.text("path")))

    def apply(self, state: TrainingState) -> None:
        state.sample = self.path


@dataclass(frozen=True)
class Checkpointed:
    step: int
    path: Path

    @classmethod
    def read(cls, f: _Fields) -> Checkpointed:
        return cls(f.integer("step"), Path(f.text("path")))

    def apply(self, state: TrainingState) -> None:
        state.checkpoint = self.path


@dataclass(frozen=True)
class Ended:
    """``done`` or ``stopped``: the run folder holds a checkpoint at ``step``."""

    outcome: str
    step: int
    run: Path

    def apply(self, state: TrainingState) -> None:
        state.outcome, state.step, state.run_dir = self.outcome, self.step, self.run


@dataclass(frozen=True)
class Failed:
    message: str

    @classmethod
    def read(cls, f: _Fields) -> Failed:
        return cls(" ".join(f.text("message").split()))

    def apply(self, state: TrainingState) -> None:
        state.outcome, state.message = "error", self.message


Update = Started | Stepped | Sampled | Checkpointed | Ended | Failed

_READERS = {
    "start": Started.read,
    "step": Stepped.read,
    "sample": Sampled.read,
    "checkpoint": Checkpointed.read,
    "done": lambda f: Ended("done", f.integer("step"), Path(f.text("run"))),
    "stopped": lambda f: Ended("stopped", f.integer("step"), Path(f.text("run"))),
    "error": Failed.read,
}


def parse_line(line: str) -> Update | None:
    """The update one stdout line stands for; None (and one log line) for a blank, malformed or unknown line."""
    text = line.strip()
    if not text:
        return None
    try:
        if len(text) > MAX_LINE_CHARS:
            raise ValueError(f"the line is longer than {MAX_LINE_CHARS} characters")
        values = parse_json(text, "a progress line", max_bytes=4 * MAX_LINE_CHARS, max_depth=4)
        if not isinstance(values, dict):
            raise ValueError("it is not a JSON object")  # noqa: TRY004
        event = values.get("event")
        reader = _READERS.get(event) if isinstance(event, str) else None
        if reader is None:
            raise ValueError(f"unknown event {shown(event, 40)}")
        return reader(_Fields(values))
    except (InputError, ValueError, OverflowError) as exc:
        log.warning("Ignored a progress line from genart-train (%s): %s", exc, shown(text, 200))
        return None
