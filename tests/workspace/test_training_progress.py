"""The ``--progress json`` lines read into typed updates; anything else dropped with one log line."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from genart_desktop.workspace.training_progress import (
    MAX_CURVE_POINTS,
    Checkpointed,
    Ended,
    Failed,
    Sampled,
    Started,
    Stepped,
    TrainingState,
    parse_line,
)


def line(**fields) -> str:
    return json.dumps(fields)


def test_each_event_of_the_contract_becomes_its_update_and_changes_the_state():
    state = TrainingState()
    lines = [
        line(event="start", run="/r/0003-style", family="style", step=0, total=400),
        line(event="step", step=40, total=400, losses={"loss": 1.5, "style": 0.25, "nan": None}, elapsed_s=12.5,
             eta_s=110.0, steps_per_s=3.2),
        line(event="sample", step=250, path="/r/0003-style/samples/step-0000250.png"),
        line(event="checkpoint", step=250, path="/r/0003-style/checkpoints/step-0000250.safetensors"),
        line(event="done", step=400, run="/r/0003-style"),
    ]
    updates = [parse_line(text) for text in lines]
    assert [type(u) for u in updates] == [Started, Stepped, Sampled, Checkpointed, Ended]
    for update in updates:
        update.apply(state)
    assert state.run_dir == Path("/r/0003-style") and state.family == "style"
    assert (state.step, state.total, state.outcome) == (400, 400, "done")
    assert state.losses == [(40, {"loss": 1.5, "style": 0.25})]  # a non-finite loss (null) is left out
    assert (state.eta_s, state.steps_per_s, state.elapsed_s) == (110.0, 3.2, 12.5)
    assert state.sample.name == "step-0000250.png" and state.checkpoint.suffix == ".safetensors"


def test_stopped_and_error_lines_set_the_outcome():
    state = TrainingState()
    parse_line(line(event="stopped", step=123, run="/r/7")).apply(state)
    assert (state.outcome, state.step) == ("stopped", 123)
    failed = parse_line(line(event="error", message="No images\nin  /data"))
    assert failed == Failed("No images in /data")
    failed.apply(state)
    assert (state.outcome, state.message) == ("error", "No images in /data")


def test_an_eta_may_be_null_before_the_speed_is_known():
    update = parse_line(line(event="step", step=1, total=9, losses={}, elapsed_s=0.5, eta_s=None, steps_per_s=0))
    assert update.eta_s is None and update.steps_per_s == 0.0 and update.losses == {}


@pytest.mark.parametrize("text", [
    "Stopping after this step...",
    "[1, 2, 3]",
    line(event="step", step="seven", total=10),
    line(event="step", step=-1, total=10),
    line(event="step", step=True, total=10),
    line(event="sample", step=3),
    line(event="start", run="/r", family="style", step=0, total=10)[:-3],
    line(event="teleport", step=1),
    line(event="step", step=1, total=2, losses=[1, 2]),
    '{"event": "step", "step": 1e999}',
    '{"event": "step", "step": ' + "9" * 60 + "}",
    "x" * 100_000,
])
def test_a_malformed_or_unknown_line_is_ignored_with_one_log_line(text, caplog):
    with caplog.at_level(logging.WARNING, logger="genart_desktop.workspace.training_progress"):
        assert parse_line(text) is None
    assert len(caplog.records) == 1 and "Ignored a progress line" in caplog.records[0].getMessage()
    assert len(caplog.records[0].getMessage()) < 600  # the line is cut, not copied whole into the log


def test_blank_lines_are_skipped_silently(caplog):
    with caplog.at_level(logging.WARNING):
        assert parse_line("  \n") is None
    assert not caplog.records


def test_a_long_run_keeps_a_bounded_curve_with_its_first_and_newest_points():
    state = TrainingState()
    for step in range(1, 3 * MAX_CURVE_POINTS):
        state.add_losses(step, {"loss": 1.0 / step})
    steps = [step for step, _ in state.losses]
    assert len(steps) <= MAX_CURVE_POINTS
    assert steps[0] == 1 and steps[-1] == 3 * MAX_CURVE_POINTS - 1 and steps == sorted(steps)
