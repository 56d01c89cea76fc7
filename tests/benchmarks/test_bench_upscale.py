"""benchmarks/bench_upscale.py keeps working: its worker enlarges a canvas with and without a self-ensemble and
prints one JSON line (time and memory are printed, never checked)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_upscale  # noqa: E402

from tests.engine.tiny_upscaler import tiny_upscaler  # noqa: E402
from tests.tiny_onnx import save_model  # noqa: E402


@pytest.mark.parametrize("ensemble", [1, 4])
def test_the_worker_enlarges_with_the_asked_ensemble(tmp_path, capsys, ensemble):
    path = save_model(tiny_upscaler(4), tmp_path / "upscaler.onnx")
    bench_upscale.worker(str(path), 40, 48, 1, ensemble)
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["size"] == 40 and result["tile"] == 48 and result["seconds"] > 0 and result["peak_rss"] > 0
