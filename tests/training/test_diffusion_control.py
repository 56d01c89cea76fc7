"""`genart-train diffusion --control`: a tiny control model (32 px, one thread) trains, exports with its control
inputs and passes parity; the app's adapter feeds it the control (different controls, different pixels; strength 0
is no control; the same pixels as the torch model), and `genart-train evaluate` records its control adherence."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

from genart_desktop.core.errors import InputError
from genart_desktop.core.images import to_tensor
from genart_desktop.engine.control_maps import edge_map
from genart_desktop.engine.pipelines.control import RecipeControl
from genart_desktop.engine.pipelines.diffusion import (
    DiffusionPipeline,
    DiffusionRequest,
)
from genart_desktop.engine.pipelines.diffusion_model import CardDiffusionModel
from genart_desktop.engine.registry import ModelRegistry
from genart_desktop.engine.schedules import ScheduleConfig
from genart_desktop.training.checkpoint import latest_checkpoint, load_checkpoint
from genart_desktop.training.cli import main as train_main
from genart_desktop.training.data.store import write_dataset
from genart_desktop.training.diffusion.config import DiffusionConfig
from genart_desktop.training.diffusion.export import load_trained
from genart_desktop.training.diffusion.sampling import TorchDenoiser
from genart_desktop.training.diffusion.unet import ControlEncoder
from genart_desktop.training.evaluation.control_adherence import (
    colour_agreement,
    edge_agreement,
)
from genart_desktop.workspace.diffusion import model_info

pytestmark = [pytest.mark.train, pytest.mark.slow, pytest.mark.usefixtures("one_thread")]

RES = 32
TINY = ["--resolution", str(RES), "--channels", "16,32", "--res-blocks", "1", "--heads", "2", "--batch-size", "8",
        "--sample-count", "4", "--sample-steps", "3", "--warmup", "2", "--lr", "5e-3", "--precision", "fp32",
        "--device", "cpu", "--log-every", "1", "--min-snr", "0", "--threads", "1"]


def make_dataset(folder: Path) -> Path:
    """16 shapes (squares and discs) of random colours and places on white, labelled by shape."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:RES, 0:RES]
    images, items = [], []
    for i in range(16):
        image = np.full((RES, RES, 3), 255, np.uint8)
        cx, cy = rng.integers(9, 23, 2)
        r = int(rng.integers(5, 9))
        shape = ("disc", "square")[i % 2]
        inside = (np.abs(xx - cx) < r) & (np.abs(yy - cy) < r) if shape == "square" else \
            (xx - cx) ** 2 + (yy - cy) ** 2 < r * r
        image[inside] = rng.integers(0, 180, 3)
        images.append(image)
        items.append({"source": f"{i}.png", "label": shape})
    write_dataset(folder, np.stack(images), items, {"labels": ["disc", "square"], "license": "CC0-1.0 (test)"})
    return folder


def lines(kind: str) -> np.ndarray:
    picture = np.full((RES, RES, 3), 255, np.uint8)
    if kind == "frame":
        picture[6:26, 6:26] = 0
        picture[9:23, 9:23] = 255
    else:
        picture[14:18] = 0
        picture[:, 14:18] = 0
    return picture


def test_a_control_encoder_reaches_the_latent_size_and_starts_silent():
    encoder = ControlEncoder(8, 32)
    out = encoder(torch.rand(2, 3, 64, 64) * 2 - 1, torch.ones(2))
    assert out.shape == (2, 32, 8, 8) and not out.any()
    with pytest.raises(ValueError, match="power-of-two"):
        ControlEncoder(6, 32)


def test_control_options_are_checked():
    for bad in ({"control_drop": 1.0}, {"control_colours": 1}):
        with pytest.raises(InputError):
            DiffusionConfig(data="x", **bad).validate()
    assert "control" in DiffusionConfig.ARCHITECTURE


def test_the_agreement_measures_tell_a_match_from_a_mismatch():
    square = np.full((RES, RES, 3), 230, np.uint8)
    square[6:18, 6:18] = (30, 60, 150)
    control = edge_map(square)  # what training gave the model for this picture
    assert edge_agreement(square, control) == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "iou": 1.0}
    moved = np.roll(square, (12, 12), axis=(0, 1))
    assert edge_agreement(moved, control)["f1"] < 0.3
    blocks = np.zeros((RES, RES, 3), np.uint8)
    blocks[:16] = (50, 100, 200)
    blocks[16:] = (40, 160, 60)
    assert colour_agreement(blocks + 10, blocks) == 1.0
    assert colour_agreement(blocks[::-1].copy(), blocks) == 0.0


def test_control_model_trains_exports_generates_and_is_measured(tmp_path):
    data = make_dataset(tmp_path / "shapes")
    runs = tmp_path / "runs"
    assert train_main(["diffusion", str(data), *TINY, "--runs-dir", str(runs), "--condition", "class", "--control",
                       "edges", "--steps", "10", "--checkpoint-every", "10", "--sample-every", "10"]) == 0
    (run,) = sorted(runs.iterdir())
    assert (run / "samples" / "step-0000010.png").is_file()
    models = tmp_path / "models"
    out = models / "tiny-lines"
    assert train_main(["export", str(run), "--out", str(out), "--id", "tiny-lines"]) == 0
    card = json.loads((out / "model.json").read_text())
    inputs = card["io"]["unet"]["inputs"]
    assert inputs["control"] == {"shape": ["batch", 3, "pixel_height", "pixel_width"], "dtype": "float32",
                                 "range": [-1.0, 1.0]}
    assert inputs["control_strength"] == {"shape": ["batch"], "dtype": "float32", "range": [0.0, 2.0]}
    assert card["config"]["control"] == {"type": "edges", "colours": 6, "drop": 0.15, "factor": 1}
    assert card["metrics"]["parity_max_abs_diff"] < card["metrics"]["parity_tolerance"]
    assert "following a line sketch" in card["description"]

    registry = ModelRegistry(roots=[(models, "user")], settings={"execution_provider": "cpu"})
    assert model_info(registry.get("tiny-lines")).control == "edges"
    app = CardDiffusionModel.from_registry(registry, "tiny-lines")
    assert app.takes_control

    def draw(control: RecipeControl | None) -> np.ndarray:
        recipe = app.recipe("disc", steps=4, sampler="ddim", seed=3, class_label="disc", control=control)
        return app.render(recipe).pixels

    plain = draw(None)
    frame, cross = draw(RecipeControl.from_picture(lines("frame"))), draw(RecipeControl.from_picture(lines("cross")))
    assert np.abs(frame.astype(int) - cross.astype(int)).max() > 0  # the control reaches the picture
    np.testing.assert_array_equal(draw(RecipeControl.from_picture(lines("frame"), strength=0.0)), plain)

    # the app's pixels are the torch model's, control included
    _, model, described, _ = load_trained(run)
    reference = DiffusionPipeline(TorchDenoiser(model, torch.device("cpu")),
                                  ScheduleConfig.from_dict(described["schedule"]), channels=3)
    expected = reference.run(DiffusionRequest(width=RES, height=RES, steps=4, sampler="ddim", seed=3, guidance=3.0,
                                              cond=np.array([[0]]), uncond=np.array([[2]]),
                                              control=to_tensor(lines("frame")), control_strength=1.0)).images
    got = app.generate("disc", steps=4, sampler="ddim", seed=3, class_label="disc",
                       control=RecipeControl.from_picture(lines("frame"))).images
    np.testing.assert_allclose(got, expected, atol=1e-3)

    # genart-train evaluate measures edge agreement on controls and records it in the card
    sheet = tmp_path / "control-sheet.png"
    assert train_main(["evaluate", str(out), "--data", str(data), "--control-count", "3", "--steps", "3",
                       "--write-card", "--control-sheet", str(sheet), "--control-rows", "2"]) == 0
    with Image.open(sheet, formats=["PNG"]) as shown:  # rows of picture | control | output
        assert shown.size == (3 * 132 + 4, 2 * 132 + 4)
    metrics = json.loads((out / "model.json").read_text())["metrics"]
    measured = metrics["control"]
    assert (measured["kind"], measured["pictures"], measured["held_out"]) == ("edges", 3, False)
    assert set(measured["paired"]) == {"precision", "recall", "f1", "iou"}
    assert all(0.0 <= v <= 1.0 for v in [*measured["paired"].values(), *measured["unpaired"].values()])


def test_a_control_run_starts_from_a_plain_models_weights(tmp_path):
    data = make_dataset(tmp_path / "shapes")
    assert train_main(["diffusion", str(data), *TINY, "--runs-dir", str(tmp_path / "plain"), "--condition", "class",
                       "--steps", "2", "--checkpoint-every", "2", "--sample-every", "100"]) == 0
    (plain_run,) = sorted((tmp_path / "plain").iterdir())
    plain = tmp_path / "models" / "tiny-plain"
    assert train_main(["export", str(plain_run), "--out", str(plain), "--id", "tiny-plain"]) == 0
    assert train_main(["diffusion", str(data), *TINY, "--runs-dir", str(tmp_path / "ctl"), "--condition", "class",
                       "--control", "edges", "--init-from", str(plain), "--steps", "1", "--checkpoint-every", "1",
                       "--sample-every", "100"]) == 0
    (run,) = sorted((tmp_path / "ctl").iterdir())
    _, model, _, _ = load_trained(run)
    assert model.control_encoder is not None
    options = json.loads((run / "options.json").read_text())
    assert options["options"]["control"] == "edges"


def test_a_plain_run_starts_from_a_control_runs_checkpoint_without_its_control_encoder(tmp_path, capsys):
    """A text-only (here class) model fine-tuned from a control run keeps every U-Net weight and leaves the control
    encoder out, saying so in the run's record; a child it has with other shapes is still refused."""
    data = make_dataset(tmp_path / "shapes")
    assert train_main(["diffusion", str(data), *TINY, "--runs-dir", str(tmp_path / "ctl"), "--condition", "class",
                       "--control", "edges", "--steps", "2", "--checkpoint-every", "2", "--sample-every", "100"]) == 0
    (control_run,) = sorted((tmp_path / "ctl").iterdir())
    assert train_main(["diffusion", str(data), *TINY, "--runs-dir", str(tmp_path / "plain"), "--condition", "class",
                       "--control", "none", "--init-from", str(control_run), "--steps", "1", "--lr", "1e-12",
                       "--checkpoint-every", "1", "--sample-every", "100"]) == 0
    (run,) = sorted((tmp_path / "plain").iterdir())
    record = json.loads((run / "options.json").read_text())["init_from"]
    assert record["reused"] == ["unet", "unet_ema"] and record["started_fresh"] == []
    assert record["dropped"] == ["unet.control_encoder", "unet_ema.control_encoder"]
    assert "left out: unet.control_encoder" in (run / "train.log").read_text()
    _, model, _, _ = load_trained(run)
    assert model.control_encoder is None
    source, _ = load_checkpoint(latest_checkpoint(control_run / "checkpoints"))
    tuned, _ = load_checkpoint(latest_checkpoint(run / "checkpoints"))
    shared = {k: v for k, v in source.items() if k.startswith("unet.") and ".control_encoder." not in k}
    assert set(shared) == {k for k in tuned if k.startswith("unet.")}
    assert all(torch.allclose(v, tuned[k], atol=1e-8) for k, v in shared.items())  # lr ~0: the source's weights

    wider = ["--channels", "16,48"]
    capsys.readouterr()
    assert train_main(["diffusion", str(data), *TINY, *wider, "--runs-dir", str(tmp_path / "wide"), "--condition",
                       "class", "--init-from", str(control_run), "--steps", "1"]) == 2
    assert "does not match the unet network" in capsys.readouterr().err
    assert not any((tmp_path / "wide").glob("*/checkpoints/*"))


def test_a_transparent_training_picture_gets_the_control_of_it_drawn_on_white():
    from genart_desktop.training.diffusion.control import control_maps

    rgba = torch.full((1, 4, 32, 32), -1.0)  # premultiplied RGBA in [-1, 1]: fully transparent
    rgba[:, :, 8:24, 8:24] = torch.tensor([1.0, -1.0, -1.0, 1.0])[:, None, None]  # an opaque red square
    white = torch.ones(1, 3, 32, 32)
    white[:, :, 8:24, 8:24] = torch.tensor([1.0, -1.0, -1.0])[:, None, None]
    lines = control_maps(rgba, "edges", 6)
    assert torch.equal(lines, control_maps(white, "edges", 6))
    assert int((lines[0, 0] < 128).sum()) > 0  # the square's border is drawn
