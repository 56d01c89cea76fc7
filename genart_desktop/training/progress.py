"""How a training run reports its progress: a tqdm bar for people (the default) or JSON lines for programs.

``--progress json`` is the contract the app's Training panel reads (one object per line on stdout, flushed per
line, nothing else on stdout): ``start``, ``step`` (per log step), ``sample``, ``checkpoint``, then ``done`` or
``stopped``, or ``error`` (the command then exits 2). The base class reports nothing (processes other than the
main one under torchrun). No torch here: ``genart-train`` uses :func:`json_stdout` and :func:`emit_error`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

MODES = ("bar", "json")


def add_progress_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--progress", choices=MODES, default="bar",
                        help="bar: a progress bar on the terminal (default); json: one JSON object per line on "
                             "stdout for programs (start, step, sample, checkpoint, done/stopped/error)")


class Progress:
    """Reports nothing; the two reporters below override what they show."""

    def start(self, run: Path, family: str, step: int, total: int) -> None:
        """Training begins (or resumes) at ``step`` of ``total``."""

    def step(self, step: int, total: int, losses: dict[str, float], elapsed_s: float, steps_per_s: float) -> None:
        """A log step: the losses averaged since the last one."""

    def advance(self, step: int) -> None:
        """Every optimisation step (the bar moves; the JSON lines wait for the log step)."""

    def sample(self, step: int, path: Path) -> None:
        """A new sample grid."""

    def checkpoint(self, step: int, path: Path) -> None:
        """A new checkpoint."""

    def finish(self, step: int, run: Path, family: str, stopped: bool) -> None:
        """The run ended: all steps done, or stopped (by Ctrl+C/SIGINT) with a checkpoint to resume from."""


class BarProgress(Progress):
    """tqdm on stderr with the latest losses; the closing line says how to resume or export."""

    def __init__(self) -> None:
        self.bar: Any = None

    def start(self, run: Path, family: str, step: int, total: int) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=total, initial=step, unit="step", dynamic_ncols=True, desc=f"{family} {run.name}")

    def step(self, step: int, total: int, losses: dict[str, float], elapsed_s: float, steps_per_s: float) -> None:
        if self.bar is not None:
            self.bar.set_postfix({k: f"{v:.3g}" for k, v in losses.items()}, refresh=False)

    def advance(self, step: int) -> None:
        if self.bar is not None:
            self.bar.update(step - self.bar.n)

    def finish(self, step: int, run: Path, family: str, stopped: bool) -> None:
        if self.bar is not None:
            self.bar.close()
        if stopped:
            print(f"Stopped at step {step}. Resume with: genart-train {family} --resume {run}")
        else:
            print(f"Finished {step} steps. Export with: genart-train export {run}")


class JsonProgress(Progress):
    """One JSON object per line on ``stream``, flushed at once so a reading program sees each as it happens."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.total = 0

    def emit(self, event: str, **fields: Any) -> None:
        self.stream.write(json.dumps({"event": event, **fields}, allow_nan=False) + "\n")
        self.stream.flush()

    def start(self, run: Path, family: str, step: int, total: int) -> None:
        self.total = total
        self.emit("start", run=str(run), family=family, step=step, total=total)

    def step(self, step: int, total: int, losses: dict[str, float], elapsed_s: float, steps_per_s: float) -> None:
        eta = (total - step) / steps_per_s if steps_per_s > 0 else None
        finite = {k: (v if math.isfinite(v) else None) for k, v in losses.items()}
        self.emit("step", step=step, total=total, losses=finite, elapsed_s=round(elapsed_s, 3),
                  eta_s=None if eta is None else round(eta, 1), steps_per_s=round(steps_per_s, 4))

    def sample(self, step: int, path: Path) -> None:
        self.emit("sample", step=step, path=str(path))

    def checkpoint(self, step: int, path: Path) -> None:
        self.emit("checkpoint", step=step, path=str(path))

    def finish(self, step: int, run: Path, family: str, stopped: bool) -> None:
        self.emit("stopped" if stopped else "done", step=step, run=str(run))


def progress_for(args: argparse.Namespace) -> Progress:
    """The reporter ``--progress`` asks for; JSON goes to the stream :func:`json_stdout` kept (else stdout)."""
    if getattr(args, "progress", "bar") == "json":
        return JsonProgress(getattr(args, "progress_stream", None) or sys.stdout)
    return BarProgress()


@contextlib.contextmanager
def json_stdout() -> Iterator[IO[str]]:
    """The real stdout for the JSON lines, while every other write to ``sys.stdout`` goes to stderr."""
    stream = sys.stdout
    with contextlib.redirect_stdout(sys.stderr):
        yield stream


def emit_error(stream: IO[str], message: str) -> None:
    """The ``error`` line (one line of text: newlines folded into spaces)."""
    JsonProgress(stream).emit("error", message=" ".join(str(message).split()) or "training failed")
