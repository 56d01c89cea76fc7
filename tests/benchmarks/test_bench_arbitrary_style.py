"""The arbitrary-style benchmark on tiny models: the preset it compares with, and its table end to end (every row,
each render in a child process, the PyTorch row skipped with a reason when no twin can be built)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from genart_desktop.engine.registry import ModelRegistry
from tests.fixtures_arbitrary_style import arbitrary_folder, fixed_network_for_painting

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_arbitrary_style
from run import harvest


def _models(root: Path) -> Path:
    arbitrary_folder(root)
    fixed_network_for_painting(root, "tiny-wave", "hokusai_great_wave_off_kanagawa.jpg")
    fixed_network_for_painting(root, "tiny-unnamed", None)
    return root


def test_the_preset_is_the_single_networks_painting_else_the_first(tmp_path):
    registry = ModelRegistry(roots=[(_models(tmp_path), "user")], settings={"execution_provider": "cpu"})
    choose = bench_arbitrary_style.choose_preset
    assert choose(registry, "tiny-arbitrary", "tiny-wave", None) == "great-wave"
    assert choose(registry, "tiny-arbitrary", "tiny-unnamed", None) == "starry-night"
    assert choose(registry, "tiny-arbitrary", "tiny-wave", "held-out") == "held-out"


def test_the_table_has_every_row(tmp_path):
    env = dict(os.environ, GENART_MODELS_DIR=str(_models(tmp_path / "models")), PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_arbitrary_style.py"), "--quick",
                           "--threads", "1", "--model", "tiny-arbitrary", "--single", "tiny-wave", "--size", "64",
                           "--big", "160", "--tile", "64"], cwd=str(ROOT), env=env, capture_output=True, text=True,
                          check=False, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = {row.benchmark: row.text for row in harvest("arbitrary_style", done.stdout)}
    assert list(rows) == [
        "arbitrary tiny-arbitrary (preset great-wave), apply 64x64", "single-style tiny-wave, apply 64x64",
        "arbitrary / single-style time at 64x64", "transfer graph 64x64 whole, onnxruntime",
        "transfer graph 64x64 whole, PyTorch eager", "arbitrary tiny-arbitrary, apply 160x160 tiled"]
    assert "failed" not in done.stdout
    assert "target within 2x" in rows["arbitrary / single-style time at 64x64"]
    # the tiny graph has no decoder the training module could load, so PyTorch says why it was left out
    assert rows["transfer graph 64x64 whole, PyTorch eager"].startswith("time: n/a; notes: skipped: ")
    tiled = rows["arbitrary tiny-arbitrary, apply 160x160 tiled"]
    assert "tiles of 64 px" in tiled and "MiB" in tiled and "target within 1.5 GB" in tiled
