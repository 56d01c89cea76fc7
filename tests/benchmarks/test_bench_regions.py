"""The regions benchmark's measurement on a tiny text model: one step time per pair of step callbacks."""

from __future__ import annotations

import sys
from pathlib import Path

from genart_desktop.engine.pipelines.diffusion_model import CardDiffusionModel
from genart_desktop.engine.registry import ModelRegistry
from tests.workspace.tiny_diffusion import diffusion_folder

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import bench_regions  # noqa: E402


def test_step_times_come_from_every_step_of_every_repeat(tmp_path):
    diffusion_folder(tmp_path, "tiny-text", conditioned="text")
    model = CardDiffusionModel.from_registry(ModelRegistry(roots=[(tmp_path, "user")]), "tiny-text")
    gaps = bench_regions.step_times(model, model.recipe("red", steps=5, sampler="ddim"), repeats=2)
    assert len(gaps) == 2 * 4 and all(gap >= 0 for gap in gaps)
