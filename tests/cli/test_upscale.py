"""`genart upscale`: PNGs twice the size with alpha kept, the same pixels as the app's request, and bad input that
prints one line, exits 2 and writes nothing."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from genart_desktop import cli
from genart_desktop.engine.registry import ModelRegistry
from genart_desktop.workspace.upscale import UpscaleController, UpscaleRequest
from genart_desktop.workspace.workspace import Workspace
from tests.engine.tiny_upscaler import write_upscaler_folder
from tests.fixtures import noise_image_file
from tests.tiny_onnx import linear_generator, write_model_folder


@pytest.fixture
def models(tmp_path, monkeypatch):
    root = tmp_path / "models"
    write_upscaler_folder(root, scale=2, tile=32, overlap=8)
    write_model_folder(root, "tiny-gan", "gan", {"generator": linear_generator()})
    monkeypatch.setenv("GENART_MODELS_DIR", str(root))
    monkeypatch.setenv("GENART_PROVIDER", "cpu")
    return root


def test_upscales_every_input_into_pngs_like_the_app(tmp_path, models, capsys):
    a = noise_image_file(tmp_path / "a.png")
    noise_image_file(tmp_path / "b.png", (33, 61), "RGBA")
    out = tmp_path / "out"
    assert cli.run(["upscale", "--model", "tiny-upscaler", str(tmp_path / "a.png"), str(tmp_path / "b.png"),
                    str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["a-x2.png", "b-x2.png"]
    result_a = np.asarray(Image.open(out / "a-x2.png"))
    result_b = np.asarray(Image.open(out / "b-x2.png"))
    assert result_a.shape == (100, 140, 3) and result_b.shape == (122, 66, 4)
    workspace = Workspace(ModelRegistry(roots=[(models, "user")], settings={"execution_provider": "cpu"}))
    try:
        UpscaleController(workspace)
        request = UpscaleRequest("tiny-upscaler", 2, np.dstack([a, np.full(a.shape[:2], 255, np.uint8)]))
        np.testing.assert_array_equal(workspace.run(request, "app").pixels[..., :3], result_a)
    finally:
        workspace.shutdown()
    assert "Upscaled 2 image(s)" in capsys.readouterr().err


def test_scale_four_with_a_two_times_model(tmp_path, models):
    noise_image_file(tmp_path / "a.png", (20, 10))
    assert cli.run(["upscale", "--model", "tiny-upscaler", "--scale", "4", "--quiet", str(tmp_path / "a.png"),
                    str(tmp_path / "out")]) == 0
    assert np.asarray(Image.open(tmp_path / "out" / "a-x4.png")).shape == (40, 80, 3)


@pytest.mark.parametrize("case", ["corrupt", "missing", "wrong-family", "unknown-model"])
def test_bad_input_is_one_line_exit_2_and_nothing_written(tmp_path, models, capsys, case):
    noise_image_file(tmp_path / "good.png")
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    inputs = {"corrupt": [tmp_path / "good.png", bad], "missing": [tmp_path / "good.png", tmp_path / "nope.png"]}
    model = {"wrong-family": "tiny-gan", "unknown-model": "nope"}.get(case, "tiny-upscaler")
    out = tmp_path / "out"
    paths = [str(p) for p in inputs.get(case, [tmp_path / "good.png"])]
    assert cli.run(["upscale", "--model", model, *paths, str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("genart: ")
    assert not out.exists()


def test_ensemble_flag_runs_each_tile_flipped_and_differs_from_one_run(tmp_path, models):
    noise_image_file(tmp_path / "a.png", (40, 52))
    assert cli.run(["upscale", "--model", "tiny-upscaler", "--ensemble", "1", str(tmp_path / "a.png"),
                    str(tmp_path / "one")]) == 0
    assert cli.run(["upscale", "--model", "tiny-upscaler", "--ensemble", "8", str(tmp_path / "a.png"),
                    str(tmp_path / "eight")]) == 0
    one = np.asarray(Image.open(tmp_path / "one" / "a-x2.png")).astype(int)
    eight = np.asarray(Image.open(tmp_path / "eight" / "a-x2.png")).astype(int)
    assert one.shape == eight.shape == (104, 80, 3) and np.abs(one - eight).max() > 0
    with pytest.raises(SystemExit) as stopped:
        cli.run(["upscale", "--model", "tiny-upscaler", "--ensemble", "3", str(tmp_path / "a.png"),
                 str(tmp_path / "three")])
    assert stopped.value.code == 2 and not (tmp_path / "three").exists()
