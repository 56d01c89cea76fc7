"""The ceiling on what one ONNX run may allocate: a graph that grows a tensor at run time (Tile 32x32 = 1024x)
fails with one line instead of taking gigabytes, and the same session still runs inputs that fit."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import onnxruntime as ort

from genart_desktop.engine import memory_limit

ROOT = Path(__file__).resolve().parents[2]

# Run in a fresh process: the ceiling is fixed by the first session a process creates.
SCRIPT = textwrap.dedent("""
    import resource, sys
    import numpy as np
    from onnx import TensorProto, helper
    from genart_desktop.core.errors import ModelError
    from genart_desktop.engine.session import ModelSession

    image = ["batch", 3, "height", "width"]
    graph = helper.make_graph(
        [helper.make_node("Tile", ["content", "reps"], ["tiled"]),
         helper.make_node("ReduceMean", ["tiled"], ["mean"], keepdims=1),
         helper.make_node("Add", ["content", "mean"], ["stylized"])], "tile",
        [helper.make_tensor_value_info("content", TensorProto.FLOAT, image)],
        [helper.make_tensor_value_info("stylized", TensorProto.FLOAT, image)],
        [helper.make_tensor("reps", TensorProto.INT64, [4], [1, 1, 32, 32])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path = sys.argv[1] + "/tile.onnx"
    open(path, "wb").write(model.SerializeToString())
    session = ModelSession.load(path, {"execution_provider": "cpu", "intra_op_threads": 1,
                                       "run_memory_limit_mb": 256})
    try:
        session.run({"content": np.ones((1, 3, 512, 512), np.float32)})  # the tiled tensor alone is 3 GiB
        print("ran")
    except ModelError as exc:
        print(exc)
    small = session.run({"content": np.ones((1, 3, 4, 4), np.float32)})["stylized"]
    print("small", float(small.mean()))
    print("rss_mb", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
""")


def test_a_run_past_the_ceiling_fails_with_one_line_and_little_memory(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GENART_HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True, text=True, env=env,
                          timeout=120, cwd=ROOT)
    lines = done.stdout.splitlines()
    assert done.returncode == 0, done.stderr
    assert lines[0] == ("tile.onnx needed more memory than the 256 MiB one run may use (setting "
                        "run_memory_limit_mb); it was stopped."), done.stdout
    assert lines[1] == "small 2.0"
    assert int(lines[2].split()[1]) < 1024
    assert done.stderr == ""


def test_limit_comes_from_the_setting_or_half_the_memory():
    assert memory_limit.limit_mb({"run_memory_limit_mb": 300}) == 300
    default = memory_limit.limit_mb({})
    physical = memory_limit.physical_memory_mb()
    assert default == max(memory_limit.MIN_DEFAULT_MB, physical // 2)
    assert memory_limit.limit_mb({"run_memory_limit_mb": "lots"}) == default
    assert memory_limit.limit_mb({"run_memory_limit_mb": -5}) == default


def test_run_options_ask_the_arena_to_shrink_once():
    options = ort.RunOptions()
    assert memory_limit.shrinking(options) is options
    assert memory_limit.shrinking(options).get_run_config_entry("memory.enable_memory_arena_shrinkage") == "cpu:0"
    assert memory_limit.shrinking(None).get_run_config_entry("memory.enable_memory_arena_shrinkage") == "cpu:0"


def test_out_of_memory_messages_are_recognised():
    assert memory_limit.is_out_of_memory("bfc_arena.cc:360 BFCArena::AllocateRawInternal Available memory of 1")
    assert not memory_limit.is_out_of_memory("Got invalid dimensions for input: content")
