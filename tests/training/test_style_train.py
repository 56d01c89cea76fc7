"""The fast style network: a few training steps, checkpoint round trip, ONNX export with parity, the commands."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

from genart_desktop.training.style import squeezenet  # noqa: E402
from genart_desktop.training.style.network import StyleNet, StyleNetConfig  # noqa: E402
from genart_desktop.training.style.perceptual import LossNetwork  # noqa: E402
from tests.training._fixtures import make_image_folder  # noqa: E402

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
H5 = SHARED / "weights" / squeezenet.WEIGHTS_FILE
needs_h5 = pytest.mark.skipif(not H5.is_file(), reason=f"{H5} is not there (shared data missing)")


def _style_image(path: Path) -> Path:
    from PIL import Image

    yy, xx = np.mgrid[0:64, 0:64]
    stripes = np.stack([(np.sin(xx / 3.0) > 0) * 220, (np.sin((xx + yy) / 4.0) > 0) * 180, 60 + 0 * xx], -1)
    Image.fromarray(stripes.astype(np.uint8), "RGB").save(path)
    return path


def _random_loss_network() -> LossNetwork:
    torch.manual_seed(1)
    return LossNetwork("squeezenet", squeezenet.SqueezeNetFeatures().eval().requires_grad_(False), ("fire3",),
                       ("conv1", "fire2", "fire3"), Path("random"))


def _trainer(tmp_path: Path, **overrides):
    from genart_desktop.training.data.builder import build_dataset
    from genart_desktop.training.data.cached import ImageDataset
    from genart_desktop.training.device import resolve_runtime
    from genart_desktop.training.runs import RunFolder
    from genart_desktop.training.style.config import StyleConfig
    from genart_desktop.training.style.trainer import StyleTrainer

    images = make_image_folder(tmp_path / "photos", 6)
    if not (tmp_path / "dataset").exists():
        build_dataset(images, tmp_path / "dataset", 64, report=lambda message: None)
    options = dict(data=str(tmp_path / "dataset"), style=str(_style_image(tmp_path / "style.png")), resolution=64,
                   batch_size=2, width=4, residual_blocks=1, lr=1e-2, steps=30, style_size=64, device="cpu",
                   precision="fp32", runs_dir=str(tmp_path / "runs"))
    options.update(overrides)
    cfg = StyleConfig(**options)
    cfg.validate()
    run = RunFolder.create(cfg.runs_dir, "style")
    torch.manual_seed(0)
    trainer = StyleTrainer(cfg, resolve_runtime("cpu", "fp32"), run, ImageDataset.load(tmp_path / "dataset"),
                           loss_network=_random_loss_network())
    return trainer


def test_network_shapes_and_range():
    net = StyleNet(StyleNetConfig(width=4, residual_blocks=1))
    out = net(torch.rand(2, 3, 36, 52) * 2 - 1)
    assert out.shape == (2, 3, 36, 52)
    assert float(out.detach().abs().max()) <= 1.0
    assert not any(isinstance(m, torch.nn.ConvTranspose2d) for m in net.modules())


@pytest.mark.slow
def test_a_few_training_steps_lower_the_loss_and_checkpoints_round_trip(tmp_path):
    trainer = _trainer(tmp_path)
    assert sorted(p.name for p in trainer.run.path.glob("style_image.*")) == ["style_image.png"]
    losses = [trainer.train_step(step)["loss"] for step in range(12)]
    assert all(np.isfinite(losses))
    assert np.mean(losses[-3:]) < np.mean(losses[:3])

    measures = trainer.evaluate(12)
    assert (trainer.run.samples_dir / "step-0000012.png").is_file()
    assert set(measures) == {"eval_content", "eval_style"}

    tensors, extra = trainer.state()
    json.dumps(extra)  # the extras go into the checkpoint's JSON metadata
    clone = _trainer(tmp_path)
    clone.load_state(tensors, extra)
    for a, b in zip(trainer.net.parameters(), clone.net.parameters()):
        torch.testing.assert_close(a, b)
    torch.manual_seed(5)
    a = trainer.train_step(12)["loss"]
    torch.manual_seed(5)
    b = clone.train_step(12)["loss"]
    assert a == pytest.approx(b, rel=1e-5)


def test_export_is_one_onnx_file_with_dynamic_size_and_parity(tmp_path):
    import onnx
    import onnxruntime as ort

    from genart_desktop.engine.registry import ModelRegistry
    from genart_desktop.training.style.export import export_style_model

    torch.manual_seed(0)
    net = StyleNet(StyleNetConfig(width=4, residual_blocks=1))
    fields = {"id": "tiny-style", "name": "Tiny", "description": "test", "resolution": [64, 64],
              "license": "CC0 test", "provenance": {"data": "none", "command": "test", "steps": 0,
                                                     "hardware": "cpu", "precision": "fp32", "wall_time_s": 0}}
    photo = (np.random.default_rng(0).random((90, 120, 3)) * 255).astype(np.uint8)
    card = export_style_model(net, tmp_path / "models" / "tiny-style", fields, photo, attribution="x by y\n")
    folder = tmp_path / "models" / "tiny-style"
    assert sorted(p.name for p in folder.iterdir()) == ["ATTRIBUTION.txt", "model.json", "stylizer.onnx",
                                                        "thumbnail.png"]
    assert card["metrics"]["parity_max_abs_diff"]["stylizer"] < 1e-4
    model = onnx.load(str(folder / "stylizer.onnx"))
    dims = [d.dim_param or d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    assert (model.graph.input[0].name, model.graph.output[0].name, dims) == ("content", "stylized",
                                                                            ["batch", 3, "height", "width"])
    session = ort.InferenceSession(str(folder / "stylizer.onnx"), providers=["CPUExecutionProvider"])
    x = torch.rand(1, 3, 40, 72) * 2 - 1
    with torch.no_grad():
        expected = net(x).numpy()
    np.testing.assert_allclose(session.run(None, {"content": x.numpy()})[0], expected, atol=1e-4)
    from PIL import Image

    assert max(Image.open(folder / "thumbnail.png").size) == 256
    registry = ModelRegistry(roots=[(tmp_path / "models", "user")], settings={"execution_provider": "cpu"})
    entry = registry.get("tiny-style")
    assert entry.ok and entry.family == "style" and entry.card.thumbnail is not None


@pytest.mark.slow
@needs_h5
def test_train_command_trains_exports_and_resumes(tmp_path):
    from genart_desktop.engine.pipelines.style import StylePipeline
    from genart_desktop.engine.registry import ModelRegistry
    from genart_desktop.training.checkpoint import list_checkpoints
    from genart_desktop.training.cli import main

    photos = make_image_folder(tmp_path / "photos", 4)
    style = _style_image(tmp_path / "style.png")
    out = tmp_path / "models" / "my-style"
    common = ["--runs-dir", str(tmp_path / "runs"), "--device", "cpu", "--precision", "fp32"]
    status = main(["style", "--content", str(photos), "--style", str(style), "--resolution", "64",
                   "--batch-size", "2", "--width", "4", "--residual-blocks", "1", "--steps", "3",
                   "--style-size", "64", "--sample-every", "3", "--checkpoint-every", "3", "--loss-net",
                   "squeezenet", "--out", str(out), "--id", "my-style", *common])
    assert status == 0
    card = json.loads((out / "model.json").read_text())
    assert card["family"] == "style" and card["provenance"]["steps"] == 3
    assert card["provenance"]["loss_network"] == "squeezenet"
    assert card["provenance"]["thumbnail_photo"].startswith(str(photos))
    assert "genart-train style" in card["provenance"]["command"]
    registry = ModelRegistry(roots=[(tmp_path / "models", "user")], settings={"execution_provider": "cpu"})
    pipeline = StylePipeline.from_registry(registry, "my-style")
    result = pipeline.apply(np.full((30, 50, 3), 128, np.uint8))
    assert result.shape == (30, 50, 3)

    (run,) = sorted((tmp_path / "runs").iterdir())
    status = main(["style", "--resume", str(run), "--steps", "5", "--checkpoint-every", "5", *common])
    assert status == 0
    assert [step for step, _ in list_checkpoints(run / "checkpoints")][-1] == 5

    # the shared `genart-train export RUN_DIR` exports style runs too
    status = main(["export", str(run), "--out", str(tmp_path / "models" / "resumed"), "--id", "resumed-style"])
    assert status == 0
    resumed = json.loads((tmp_path / "models" / "resumed" / "model.json").read_text())
    assert resumed["id"] == "resumed-style" and resumed["provenance"]["steps"] == 5
    assert resumed["config"]["default_scale"] == 1.0
    # re-exporting with a suggested brush scale: the palette starts there (engine.default_settings reads it)
    from genart_desktop.engine.pipelines.style import default_settings

    assert main(["style", "--export", str(run), "--out", str(out), "--id", "my-style", "--default-scale", "2"]) == 0
    rescaled = json.loads((out / "model.json").read_text())
    assert default_settings(rescaled["config"]).scale == 2.0
    assert main(["style", "--export", str(run), "--out", str(out), "--default-scale", "99"]) == 2
    assert json.loads((out / "model.json").read_text()) == rescaled  # refused before anything was written
    assert main(["export", str(run), "--fp16", "--out", str(tmp_path / "models" / "half")]) == 2
    assert not (tmp_path / "models" / "half").exists()


@pytest.mark.slow
@needs_h5
def test_stylize_command_writes_the_optimised_image(tmp_path):
    from PIL import Image

    from genart_desktop.training.cli import main

    content = SHARED / "content" / "tubingen_neckarfront.jpg"
    style = SHARED / "styles" / "van_gogh_starry_night.jpg"
    for optimizer in ("adam", "lbfgs"):
        out = tmp_path / f"out-{optimizer}.png"
        status = main(["stylize", str(content), str(style), str(out), "--size", "128", "--steps", "2", "--scales",
                       "2", "--optimizer", optimizer, "--loss-net", "squeezenet", "--device", "cpu",
                       "--preserve-colors"])
        assert status == 0
        image = Image.open(out)
        assert max(image.size) == 128 and image.mode == "RGB"


def test_too_small_images_are_a_clear_error():
    from genart_desktop.core.errors import InputError

    with pytest.raises(InputError, match="too small"):
        squeezenet.SqueezeNetFeatures()(torch.zeros(1, 3, 24, 24), ("fire9",))


def test_stylize_command_refuses_bad_input_without_writing(tmp_path, capsys):
    from genart_desktop.training.cli import main

    out = tmp_path / "out.png"
    assert main(["stylize", str(tmp_path / "missing.jpg"), str(tmp_path / "style.jpg"), str(out)]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert not out.exists()
    assert main(["stylize", "a.jpg", "b.jpg", str(tmp_path / "out.gif")]) == 2
