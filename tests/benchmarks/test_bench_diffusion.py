"""The diffusion benchmark's frame row on a tiny text model: timed frames, and the PyTorch cells without torch."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.workspace.tiny_diffusion import diffusion_folder

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import bench_diffusion  # noqa: E402


def test_frame_row_times_our_frames_and_says_why_pytorch_is_missing(tmp_path):
    diffusion_folder(tmp_path, "tiny-text", conditioned="text")
    [row] = bench_diffusion.bench_frame(1, 2, "n/a (torch not installed)", tmp_path, "tiny-text", "red")
    label, ours, theirs, ratio, notes = row
    assert label == "8-step 16x16 frame incl. decode (ms), tiny-text"
    assert ours.endswith(")") and "CPU" in ours and float(ours.split(" ms")[0]) > 0
    assert theirs == "n/a (torch not installed)" and ratio == ""
    assert "'red'" in notes and "2 frames each" in notes


def test_a_missing_model_is_one_row_saying_so(tmp_path):
    [row] = bench_diffusion.bench_frame(1, 2, None, tmp_path, "absent-model")
    assert row[0].endswith("absent-model") and row[1].startswith("n/a (")


def test_frame_times_keep_wall_and_cpu_per_frame():
    times = bench_diffusion.FrameTimes()
    times.add(lambda: sum(range(10000)))
    times.add(lambda: None)
    assert len(times.wall) == len(times.cpu) == 2 and min(times.wall) >= 0
    assert times.describe().startswith(f"{sorted(times.wall)[1] / 2 + sorted(times.wall)[0] / 2:.1f} ms")
