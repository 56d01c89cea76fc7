"""A tiny real run of ``genart-train style-arbitrary``: train, export (two graphs, parity, presets, card),
run the graphs in onnxruntime, and measure them with ``genart-train evaluate``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

from genart_desktop.training.style import squeezenet  # noqa: E402
from tests.training._fixtures import make_image_folder  # noqa: E402

SHARED = Path(__file__).resolve().parents[3].parent / "shared" / "data"
H5 = SHARED / "weights" / squeezenet.WEIGHTS_FILE
pytestmark = [pytest.mark.skipif(not H5.is_file(), reason=f"{H5} is not there (shared data missing)"),
              pytest.mark.usefixtures("one_thread")]


def _styles(folder: Path) -> Path:
    from PIL import Image

    folder.mkdir(parents=True)
    yy, xx = np.mgrid[0:160, 0:200]
    stripes = np.stack([(np.sin(xx / 3.0) > 0) * 220, (np.sin((xx + yy) / 4.0) > 0) * 180, 60 + 0 * xx], -1)
    Image.fromarray(stripes.astype(np.uint8)).save(folder / "stripes.png")
    dots = np.stack([(np.sin(xx / 2.0) * np.sin(yy / 2.0) > 0.3) * 200, 40 + 0 * xx, 150 + 0 * xx], -1)
    Image.fromarray(dots.astype(np.uint8)).save(folder / "dots.png")
    return folder


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    from genart_desktop.training.cli import main

    tmp = tmp_path_factory.mktemp("arbitrary")
    photos = make_image_folder(tmp / "photos", 12, size=64)
    styles = _styles(tmp / "styles")
    runs = tmp / "runs"
    assert main(["style-arbitrary", "--data", str(photos), "--styles", str(styles), "--held-out-styles",
                 "dots.png", "--runs-dir", str(runs), "--resolution", "128", "--batch-size", "2", "--width", "16",
                 "--steps", "2", "--sample-every", "2", "--checkpoint-every", "2", "--holdout", "0.25"]) == 0
    run = sorted(runs.iterdir())[-1]
    assert main(["export", str(run), "--out", str(tmp / "model")]) == 0
    return tmp, photos, styles, tmp / "model"


def test_the_export_holds_two_checked_graphs_presets_and_a_card(exported):
    _, _, _, model = exported
    card = json.loads((model / "model.json").read_text())
    assert card["family"] == "style-arbitrary"
    assert set(card["files"]) == {"encoder", "transfer"}
    assert set(card["io"]["transfer"]["inputs"]) == {"content", "content_mean", "content_std", "style_mean",
                                                     "style_std", "strength"}
    assert card["metrics"]["parity_max_abs_diff"]["transfer"] < 5e-3
    assert card["config"]["size_multiple"] == 8 and card["config"]["presets"] == "presets.json"
    assert card["config"]["activation_bytes_per_pixel"] > 0  # measured with every input fed, for the tiling budget
    assert card["provenance"]["held_out"]["styles"] == ["dots.png"]
    presets = json.loads((model / "presets.json").read_text())["presets"]
    assert [p["source"] for p in presets] == ["dots.png", "stripes.png"]
    assert [p["held_out"] for p in presets] == [True, False]
    assert all(len(p["mean"]) == len(p["std"]) == card["config"]["channels"] for p in presets)


def test_the_graphs_run_in_onnxruntime_at_any_multiple_of_eight(exported):
    from genart_desktop.training.evaluation.arbitrary_runner import ArbitraryRunner, blend

    _, _, _, model = exported
    runner = ArbitraryRunner(model)
    rng = np.random.default_rng(0)
    content = rng.integers(0, 256, (40, 72, 3), dtype=np.uint8)
    a, b = runner.stats(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)), runner.stats(np.full((64, 64, 3), 30,
                                                                                                  np.uint8))
    out = runner.stylize(content, a)
    assert out.shape == content.shape and out.dtype == np.uint8
    assert not np.array_equal(runner.stylize(content, blend([a, b], [0.5, 0.5])), out)
    assert np.array_equal(runner.stylize(content, blend([a, b], [1.0, 0.0])), out)


def test_evaluate_writes_both_figures_a_sheet_and_a_blend_strip(exported, capsys):
    from genart_desktop.training.cli import main

    tmp, photos, styles, model = exported
    assert main(["evaluate", str(model), "--data", str(photos), "--styles", str(styles), "--grid",
                 str(tmp / "sheet.png"), "--blend-strip", str(tmp / "strip.png"), "--blend", "stripes.png",
                 "dots.png", "--write-card"]) == 0
    figures = json.loads((model / "model.json").read_text())["metrics"]["style_figures"]
    assert figures["trained_styles"]["pairs"] == figures["photos"] == 3
    assert figures["held_out_styles"]["pairs"] == 3
    assert figures["trained_styles"]["style_ratio"] > 0 and figures["held_out_styles"]["content_distance"] > 0
    from PIL import Image

    assert Image.open(tmp / "strip.png").size[0] > 5 * Image.open(tmp / "strip.png").size[1]
    assert (tmp / "sheet.png").stat().st_size > 1000


def test_a_new_run_starts_from_the_exported_decoder(exported):
    from genart_desktop.training.checkpoint import latest_checkpoint, load_checkpoint
    from genart_desktop.training.cli import main

    tmp, photos, styles, model = exported
    runs = tmp / "fine-tune"
    assert main(["style-arbitrary", "--data", str(photos), "--styles", str(styles), "--held-out-styles", "dots.png",
                 "--runs-dir", str(runs), "--resolution", "128", "--batch-size", "2", "--init-from", str(model),
                 "--steps", "1", "--lr", "1e-12", "--checkpoint-every", "1", "--sample-every", "1"]) == 0
    run = sorted(runs.iterdir())[-1]
    options = json.loads((run / "options.json").read_text())
    assert options["options"]["width"] == 16  # the source's network shape, not the default 128
    tensors, _ = load_checkpoint(latest_checkpoint(run / "checkpoints"))
    import onnx
    from onnx import numpy_helper

    first = {t.name: numpy_helper.to_array(t) for t in onnx.load(str(model / "transfer.onnx")).graph.initializer}
    assert np.allclose(tensors["decoder.body.0.weight"].numpy(), first["decoder.body.0.weight"], atol=1e-6)
