"""The words the Train dialog and the Training panel use for times, speeds and a job's progress."""

from __future__ import annotations

from genart_desktop.workspace.training_runs import TrainingJob

MEASURING = "measuring\u2026"


def duration_text(seconds: float) -> str:
    """``45 s``, ``3 min 20 s``, ``2 h 05 min``: as precise as a person needs."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s" if minutes < 10 else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def speed_text(job: TrainingJob) -> str:
    """Time left and speed as measured by the running child; "measuring..." until its first log step."""
    progress = job.progress
    if not progress.steps_per_s:
        return f"Time left: {MEASURING}"
    rate = progress.steps_per_s
    pace = f"{rate:.2f} steps/s" if rate >= 1 else f"{1 / rate:.1f} s/step"
    left = progress.eta_s if progress.eta_s is not None else (progress.total - progress.step) / rate
    return f"Time left: {duration_text(left)} ({pace}, measured)"


def row_text(job: TrainingJob) -> str:
    """One line in the queue list."""
    total = job.progress.total or job.spec.steps
    return f"{job.spec.name} \u2014 {job.state} \u00b7 {job.progress.step}/{total}"
