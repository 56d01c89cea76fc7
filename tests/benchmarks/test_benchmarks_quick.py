"""Keeps the benchmark suite working: the measuring helpers on known inputs, and `benchmarks/run.py --quick` end to
end with tiny sizes, checking the printed Markdown table and the JSON are well-formed. Nothing here times anything
against a target; speed targets live in the benchmark output, not in tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCHMARKS = ROOT / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import common  # noqa: E402

TINY = {
    "sizes": {"gan_batch": 4, "vae_batch": 4, "style_sizes": [64, 128], "style_tile": 64, "diffusion_steps": 2,
              "grid": 3, "repeats": 1, "ceiling_size": 512},
    "ui": {"size": 128, "tile": 64, "launches": 1},
    "scripts": {"strokes": ["--size", "512", "--strokes", "3"]},
}
COLUMNS = len(common.TABLE_HEADER)


def _tiny_graph(path: Path, zero_taps: int = 0) -> Path:
    """x [N, 3, 8, 8] -> Conv 3->4 3x3 pad 1 -> Flatten -> Gemm 256->5 -> MatMul 5->2, with known FLOPs; the first
    ``zero_taps`` convolution weights are zero."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in ((4, 3, 3, 3), (256, 5), (5, 2))]
    arrays[0].reshape(-1)[:zero_taps] = 0.0
    inits = [numpy_helper.from_array(a, n) for a, n in zip(arrays, ("w", "g", "m"))]
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("Flatten", ["c"], ["f"]),
             helper.make_node("Gemm", ["f", "g"], ["h"]),
             helper.make_node("MatMul", ["h", "m"], ["y"])]
    graph = helper.make_graph(nodes, "tiny", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 3, 8, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 2])], initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path.write_bytes(model.SerializeToString())
    return path


def test_flop_count_of_a_known_graph(tmp_path):
    count = common.count_flops(_tiny_graph(tmp_path / "tiny.onnx"), {"x": [2, 3, 8, 8]})
    conv = 2 * 2 * 4 * 8 * 8 * 3 * 3 * 3
    assert count.by_op == {"Conv": conv, "Gemm": 2 * 2 * 5 * 256, "MatMul": 2 * 2 * 2 * 5}
    assert count.complete and count.total == conv + 2 * 2 * 5 * 256 + 2 * 2 * 2 * 5
    padded = common.count_flops(_tiny_graph(tmp_path / "zeros.onnx", zero_taps=27), {"x": [2, 3, 8, 8]})
    assert padded.by_op["Conv"] == conv * 3 // 4  # zero taps (a phase convolution's padding) are not work


def test_measure_takes_the_median_after_warm_up():
    calls = []
    timing = common.measure(lambda: calls.append(1), repeats=5, warmup=2)
    assert len(calls) == 7 and timing.runs == 5 and len(timing.samples) == 5
    assert timing.best_s <= timing.median_s and timing.per_second(10) > 0


def test_peak_memory_sees_a_large_temporary_allocation():
    _, peak = common.peak_memory(lambda: np.ones(64 << 20, np.uint8).sum())
    assert peak.added >= 48 << 20


def test_gemm_ceiling_is_positive():
    ceiling = common.gemm_ceiling(1, size=128, repeats=2)
    assert ceiling["best_gflops"] >= ceiling["median_gflops"] > 0


def test_table_rows_have_every_column_and_escape_pipes():
    timing = common.Timing(0.5, 0.4, 3)
    rows = [common.Row("gan", "a|b", "w", ours=timing, theirs=common.Timing(1.0, 1.0, 1), items=8, unit="images/s",
                       flops=1e9), common.Row("ui", "gap", text="12 ms")]
    lines = common.markdown_table(rows, ceiling_gflops=4.0).splitlines()
    assert len(lines) == 4
    for line in lines:
        assert line.replace("\\|", "").count("|") == COLUMNS + 1
    assert "16.0 images/s" in lines[2] and "2.00x" in lines[2] and "50%" in lines[2] and "a\\|b" in lines[2]


def test_harvest_labels_cells_by_the_header():
    sys.path.insert(0, str(BENCHMARKS))
    from run import harvest

    rows = harvest("latent", "# title\n\n| model | render | median ms |\n|---|---|---|\n| dcgan | 5x5 grid | 12.5 |\n")
    assert [(r.area, r.benchmark, r.text) for r in rows] == [("latent", "dcgan", "render: 5x5 grid; median ms: 12.5")]
    plain = harvest("diffusion", "threads: 2\nU-Net   onnxruntime    3.10\n")
    assert [r.text for r in plain] == ["threads: 2", "U-Net · onnxruntime · 3.10"]


def test_sizes_reject_unknown_settings():
    from bench_models import Sizes

    assert Sizes().updated({"style_sizes": [64]}).style_sizes == (64,)
    with pytest.raises(ValueError, match="unknown size settings: nonsense"):
        Sizes().updated({"nonsense": 1})


@pytest.mark.slow
def test_shipped_model_gets_a_pytorch_twin_with_the_same_weights(tmp_path, monkeypatch):
    pytest.importorskip("torch")
    from bench_models import export_untrained, prepare

    folder, _, _ = export_untrained("gan", tmp_path / "export")
    monkeypatch.setenv("GENART_MODELS_DIR", str(folder.parent))
    prepared = prepare("gan", tmp_path / "work", 1, None)
    assert prepared.weights == "shipped model bench-gan-untrained (same weights)"
    z = np.random.default_rng(1).standard_normal((2, 128), dtype=np.float32)
    import torch

    with torch.no_grad():
        theirs = prepared.torch_modules["generator"](torch.from_numpy(z)).numpy()
    ours = prepared.registry.session(prepared.model_id, "generator").run({"z": z})["image"]
    assert np.abs(ours - theirs).max() < 1e-4


@pytest.mark.slow
def test_quick_suite_prints_a_table_and_writes_json(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("PySide6")
    config = tmp_path / "tiny.json"
    config.write_text(json.dumps(TINY))
    out = tmp_path / "bench.json"
    env = dict(os.environ, GENART_MODELS_DIR=str(tmp_path / "no-models"), QT_QPA_PLATFORM="offscreen")
    done = subprocess.run([sys.executable, str(BENCHMARKS / "run.py"), "--quick", "--threads", "1", "--config",
                           str(config), "--only", "models,ui,strokes", "--json", str(out)],
                          cwd=str(ROOT), env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    text = done.stdout
    assert text.startswith("# GenArt Desktop benchmarks (quick mode")
    assert "- CPU: " in text and "onnxruntime " in text and "- CUDA: " in text
    table = [line for line in text.splitlines() if line.startswith("|")]
    assert table[0] == "| " + " | ".join(common.TABLE_HEADER) + " |"
    assert all(line.replace("\\|", "").count("|") == COLUMNS + 1 for line in table)
    assert not [line for line in table if "failed" in line or "THE LAYER NEVER LANDED" in line], text

    result = json.loads(out.read_text())  # strict JSON: NaN would not parse as a number elsewhere
    assert result["format"] == "genart-benchmarks/1" and result["quick"] is True
    assert result["machine"]["cpu"] and result["machine"]["threads"] == 1 and result["ceiling"]["best_gflops"] > 0
    rows = result["rows"]
    assert len(rows) == len(table) - 2
    areas = {row["area"] for row in rows}
    assert {"gan", "vae", "style", "diffusion", "latent (gan)", "latent (vae)", "ui", "strokes"} <= areas
    for row in rows:
        if row["area"] in ("gan", "vae", "style", "diffusion") or row["area"].startswith("latent"):
            assert row["weights"] == "untrained weights: speed only"
            assert row["ours"]["median_s"] > 0 and row["pytorch"]["median_s"] > 0
            assert row["flops_per_call"] > 0 and row["achieved_gflops"] > 0
    style = [row for row in rows if row["area"] == "style"]
    assert len(style) == 2 and all(row["ours_memory"]["peak_bytes"] > 0 for row in style)
    gan = next(row for row in rows if row["area"] == "gan")
    assert gan["extra"]["max_abs_diff_vs_pytorch"] < 1e-3  # same network and weights on both sides
    cold = next(row for row in rows if row["benchmark"].startswith("cold start"))
    assert cold["extra"]["torch_imported"] is False
    assert result["scripts"]["strokes"]["returncode"] in (0, 1)  # 1: the script's own target was missed
