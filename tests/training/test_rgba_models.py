"""Models that make cut-outs (issue 18): an RGBA dataset trains a 4-channel VAE whose card says so, a latent
diffusion model in its space with varied captions, and the app's engine gives RGBA pictures from them; the Latent
Explorer feeds the VAE premultiplied RGBA. Tiny sizes and a couple of steps: the plumbing, not the quality."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

from genart_desktop.core.errors import InputError  # noqa: E402
from genart_desktop.engine.alpha import CONVENTION, pixels_tensor, premultiply  # noqa: E402
from genart_desktop.engine.latent.space import space_from_registry  # noqa: E402
from genart_desktop.engine.pipelines.diffusion_model import CardDiffusionModel  # noqa: E402
from genart_desktop.engine.registry import ModelRegistry  # noqa: E402
from genart_desktop.training.checkpoint import list_checkpoints, load_checkpoint  # noqa: E402
from genart_desktop.training.cli import main  # noqa: E402
from genart_desktop.training.data.store import read_dataset  # noqa: E402
from genart_desktop.training.export.parity import onnx_session  # noqa: E402
from tests.training._rgba import COLOURS, cutout, make_rgba_dataset  # noqa: E402

pytestmark = [pytest.mark.train, pytest.mark.slow, pytest.mark.usefixtures("one_thread")]

RES = 32
VAE = ["--resolution", str(RES), "--batch-size", "8", "--channels", "8", "--max-channels", "16", "--latent",
       "spatial", "--latent-downsample", "8", "--monitor-samples", "4", "--sample-every", "2", "--checkpoint-every",
       "2", "--threads", "1", "--precision", "fp32", "--holdout", "0.25"]
DIFFUSION = ["--resolution", str(RES), "--channels", "16,32", "--res-blocks", "1", "--text-dim", "32",
             "--text-layers", "1", "--tokens", "4", "--heads", "2", "--batch-size", "8", "--sample-count", "4",
             "--sample-steps", "3", "--warmup", "2", "--precision", "fp32", "--device", "cpu", "--threads", "1",
             "--condition", "text", "--caption-variants", "on", "--caption-name", "0.5", "--checkpoint-every", "1", "--sample-every", "2",
             "--log-every", "1"]


def only_run(runs):
    (run,) = sorted(runs.iterdir())
    return run


def test_rgba_data_trains_a_four_channel_vae_and_a_diffusion_model_that_make_cut_outs(tmp_path):
    data = make_rgba_dataset(tmp_path / "data", RES)
    images, meta = read_dataset(data)
    assert images.shape == (16, RES, RES, 4) and (meta["channels"], meta["alpha"]) == (4, CONVENTION)
    models = tmp_path / "models"

    # the VAE learns 4 channels and its card says so, with the alpha convention
    assert main(["vae", "--data", str(data), "--runs-dir", str(tmp_path / "vae"), *VAE, "--steps", "2"]) == 0
    vae = models / "tiny-rgba-vae"
    assert main(["export", str(only_run(tmp_path / "vae")), "--out", str(vae), "--id", "tiny-rgba-vae"]) == 0
    card = json.loads((vae / "model.json").read_text())
    for entry in (card["io"]["encoder"]["inputs"]["image"], card["io"]["decoder"]["outputs"]["image"]):
        assert entry["shape"] == ["batch", 4, RES, RES] and entry["alpha"] == CONVENTION
    assert all(v <= 1e-4 for v in card["metrics"]["parity_max_abs_diff"].values())
    decoded = onnx_session(vae / "decoder.onnx").run(["image"], {"latent": np.zeros((2, 4, 4, 4), np.float32)})[0]
    assert decoded.shape == (2, 4, RES, RES)

    # the Latent Explorer feeds it premultiplied RGBA: the same latent as the premultiplied tensor fed by hand
    registry = ModelRegistry(roots=[(models, "user")], settings={"execution_provider": "cpu"})
    space = space_from_registry(registry, "tiny-rgba-vae")
    picture = cutout(RES, COLOURS["red"], "circle")
    mean, _ = space.encode(picture)
    by_hand = onnx_session(vae / "encoder.onnx").run(["mean"], {"image": pixels_tensor(picture, 4)})[0]
    np.testing.assert_allclose(mean, by_hand.reshape(-1), atol=1e-5)
    opaque_mean, _ = space.encode(picture[..., :3])  # an RGB picture counts as opaque
    assert not np.allclose(mean, opaque_mean)
    assert space.decode(mean[None]).shape == (1, RES, RES, 3)  # the explorer's grid shows it over white

    # latent diffusion in its space, captions varied per step; resuming repeats the same steps exactly
    common = ["diffusion", "--data", str(data), *DIFFUSION, "--latent-vae", str(vae)]
    assert main([*common, "--runs-dir", str(tmp_path / "a"), "--steps", "2"]) == 0
    assert main([*common, "--runs-dir", str(tmp_path / "b"), "--steps", "1"]) == 0
    assert main(["diffusion", "--resume", str(only_run(tmp_path / "b")), "--steps", "2"]) == 0
    final_a, _ = load_checkpoint(list_checkpoints(only_run(tmp_path / "a") / "checkpoints")[-1][1])
    final_b, _ = load_checkpoint(list_checkpoints(only_run(tmp_path / "b") / "checkpoints")[-1][1])
    unet = [k for k in final_a if k.startswith("unet.")]
    assert unet and all(torch.equal(final_a[k], final_b[k]) for k in unet)

    out = models / "tiny-rgba"
    assert main(["export", str(only_run(tmp_path / "a")), "--out", str(out), "--id", "tiny-rgba"]) == 0
    card = json.loads((out / "model.json").read_text())
    words = card["config"]["conditioning"]["vocabulary"]
    assert words[:6] == ["blue", "circle", "green", "red", "square", "yellow"]  # the dataset's ids unchanged
    assert {"shape", "round", "shapes", "crimson", "box"} <= set(words)  # categories and synonyms added
    assert "--caption-variants on --caption-name 0.5" in card["provenance"]["command"]

    registry = ModelRegistry(roots=[(models, "user")], settings={"execution_provider": "cpu"})
    app = CardDiffusionModel.from_registry(registry, "tiny-rgba")
    result = app.generate("red circle", steps=2, sampler="ddim", seed=1)
    assert result.images.shape == (1, 4, RES, RES)
    (pixels,) = result.pixels()
    assert pixels.shape == (RES, RES, 4) and pixels.dtype == np.uint8
    alpha = np.round((np.clip(result.images[0, 3], -1, 1) + 1) * 127.5)
    np.testing.assert_array_equal(pixels[..., 3], alpha)  # the model's own alpha, not a keyed background
    # image-to-image from an opaque RGB picture through the 4-channel encoder
    start = pixels_tensor(np.full((RES, RES, 3), 200, np.uint8), 3)
    edited = app.generate("blue square", steps=2, sampler="ddim", seed=2, init_image=start, strength=0.5)
    assert edited.images.shape == (1, 4, RES, RES) and np.isfinite(edited.images).all()


def test_pixel_space_diffusion_and_a_mismatched_vae_refuse_rgba_data_at_once(tmp_path, capsys):
    data = make_rgba_dataset(tmp_path / "data", RES)
    assert main(["diffusion", "--data", str(data), "--runs-dir", str(tmp_path / "runs"), *DIFFUSION,
                 "--steps", "1"]) == 2
    assert "alpha channel" in capsys.readouterr().err
    assert not any((tmp_path / "runs").glob("*/checkpoints/*"))
    with pytest.raises(InputError, match="needs --condition text"):
        from genart_desktop.training.diffusion.config import DiffusionConfig

        DiffusionConfig(data=str(data), condition="none", caption_variants="on").validate()
    with pytest.raises(InputError, match="--caption-name"):
        DiffusionConfig(data=str(data), condition="text", caption_variants="on", caption_name=1.5).validate()
    assert premultiply(np.array([[[200, 100, 50, 0]]], np.uint8)).tolist() == [[[0, 0, 0, 0]]]
