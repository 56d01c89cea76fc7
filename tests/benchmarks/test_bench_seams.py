"""The seam benchmark's measurement on a tiny model: landing the same inpainted picture the dock's way leaves a
lower seam figure than the placement before issue 18 (stretched, hard selection edge, no tone matching)."""

from __future__ import annotations

import sys
from pathlib import Path

from genart_desktop.engine.registry import ModelRegistry
from genart_desktop.workspace.diffusion import DiffusionController
from genart_desktop.workspace.workspace import Workspace
from tests.workspace.tiny_diffusion import diffusion_folder

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import bench_seams  # noqa: E402


def test_the_dock_placement_lowers_the_seam_figure(tmp_path):
    diffusion_folder(tmp_path / "models", "tiny-class", conditioned=True)
    workspace = Workspace(ModelRegistry(roots=[(tmp_path / "models", "user")]))
    try:
        controller = DiffusionController(workspace, preview_every=0)
        today, now = bench_seams.measure(controller, "tiny-class", (320, 180), 4, 8, "red")
    finally:
        workspace.shutdown()
    assert today > 1.5 and now < 0.6 * today


def test_the_painting_is_busy_enough_to_show_a_seam():
    pixels = bench_seams.painting(64, 48)
    assert pixels.shape == (48, 64, 4) and pixels[..., :3].std() > 20
