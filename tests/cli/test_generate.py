"""`genart generate`: PNGs with recipes, seeds, image-to-image and inpainting, and bad input that writes nothing."""

from __future__ import annotations

import dataclasses
import logging
import os
import signal
import threading
import time
import warnings

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper
from PIL import Image

from genart_desktop import cli
from genart_desktop.cli import generate
from genart_desktop.engine.pipelines.recipe import read_png_recipe
from genart_desktop.engine.registry import ModelRegistry
from genart_desktop.workspace.diffusion import GENERATE, DiffusionController
from genart_desktop.workspace.workspace import Workspace
from tests.tiny_onnx import _finish, tiny_unet, write_model_folder


@pytest.fixture
def card_model(tmp_path, monkeypatch):
    models = tmp_path / "models"
    models.mkdir()
    schedule = {"beta_schedule": "cosine", "timestep_spacing": "trailing", "prediction_type": "epsilon"}
    write_model_folder(models, "tiny-diffusion", "diffusion", {"unet": tiny_unet(3)}, resolution=[8, 8],
                       config={"schedule": schedule, "conditioning": {"type": "none"}, "default_steps": 4})
    monkeypatch.setenv("GENART_MODELS_DIR", str(models))
    monkeypatch.setenv("GENART_PROVIDER", "cpu")
    return "tiny-diffusion"


def pngs(folder):
    return sorted(folder.glob("*.png"))


def test_registry_model_writes_pngs_with_recipes(tmp_path, card_model):
    out = tmp_path / "out"
    assert cli.run(["generate", "--model", card_model, "--seed", "7", "--sampler", "ddim", "-n", "2", str(out)]) == 0
    files = pngs(out)
    assert [f.name for f in files] == ["tiny-diffusion-7.png", "tiny-diffusion-8.png"]
    recipe = read_png_recipe(files[0])
    assert recipe.model_id == "tiny-diffusion" and recipe.seed == 7 and recipe.steps == 4
    assert recipe.sampler == "ddim" and recipe.mode == "txt2img" and len(recipe.model_hash) == 16
    with Image.open(files[0]) as image:
        assert image.size == (8, 8)
    again = tmp_path / "again"
    assert cli.run(["generate", "--model", card_model, "--seed", "7", "--sampler", "ddim", str(again)]) == 0
    assert np.array_equal(np.asarray(Image.open(pngs(again)[0])), np.asarray(Image.open(files[0])))
    # A second run into the same folder never overwrites.
    assert cli.run(["generate", "--model", card_model, "--seed", "7", str(out)]) == 0
    assert len(pngs(out)) == 3


def test_more_images_than_one_dock_batch_continue_the_seeds(tmp_path, card_model, monkeypatch):
    monkeypatch.setattr(generate, "MAX_BATCH_COUNT", 2)  # the dock queues at most this many per click
    out = tmp_path / "out"
    assert cli.run(["generate", "--model", card_model, "--seed", "7", "-n", "5", str(out)]) == 0
    assert sorted(read_png_recipe(f).seed for f in pngs(out)) == [7, 8, 9, 10, 11]
    assert not [t for t in threading.enumerate() if t.name.startswith("genart-jobs")]  # the workspace is shut down


def test_init_and_mask_keep_unmasked_pixels(tmp_path, card_model):
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(tmp_path / "init.png")
    mask = np.zeros((8, 8), np.uint8)
    mask[2:6, 2:6] = 255
    Image.fromarray(mask).save(tmp_path / "mask.png")
    out = tmp_path / "out"
    args = ["generate", "--model", card_model, "--init", str(tmp_path / "init.png"), "--mask",
            str(tmp_path / "mask.png"), "--strength", "1", "--seed", "3", str(out)]
    assert cli.run(args) == 0
    result = np.asarray(Image.open(pngs(out)[0]).convert("RGB"))
    assert np.array_equal(result[mask == 0], pixels[mask == 0])
    assert not np.array_equal(result[mask > 0], pixels[mask > 0])
    assert read_png_recipe(pngs(out)[0]).mode == "inpaint"
    zero = tmp_path / "zero"
    assert cli.run(["generate", "--model", card_model, "--init", str(tmp_path / "init.png"), "--strength", "0",
                    str(zero)]) == 0
    assert np.array_equal(np.asarray(Image.open(pngs(zero)[0]).convert("RGB")), pixels)


def identity_unet() -> onnx.ModelProto:
    """``prediction = sample``: an epsilon model that leaves the seed's noise, shrunk, in the image (a textured
    picture that differs with every seed, unlike the saturating ``tiny_unet``)."""
    graph = helper.make_graph(
        [helper.make_node("Identity", ["sample"], ["prediction"])], "identity_unet",
        [helper.make_tensor_value_info("sample", TensorProto.FLOAT, ["batch", 3, "height", "width"]),
         helper.make_tensor_value_info("timestep", TensorProto.FLOAT, ["batch"])],
        [helper.make_tensor_value_info("prediction", TensorProto.FLOAT, ["batch", 3, "height", "width"])])
    return _finish(graph)


def test_a_cli_image_and_a_dock_image_with_the_same_recipe_are_the_same_bytes(tmp_path, monkeypatch):
    models = tmp_path / "models"
    config = {"schedule": {"beta_schedule": "cosine", "timestep_spacing": "trailing"}, "conditioning": {"type": "none"}}
    write_model_folder(models, "noise-model", "diffusion", {"unet": identity_unet()}, resolution=[16, 16],
                       config=config)
    monkeypatch.setenv("GENART_MODELS_DIR", str(models))
    monkeypatch.setenv("GENART_PROVIDER", "cpu")
    out = tmp_path / "out"
    options = ["--seed", "21", "--steps", "3", "--sampler", "euler_a"]  # an ancestral sampler: noise every step
    assert cli.run(["generate", "--model", "noise-model", *options, str(out)]) == 0
    (written,) = pngs(out)
    events = []
    workspace = Workspace(ModelRegistry(), post=events.append)  # the dock's wiring: events delivered later
    try:
        controller = DiffusionController(workspace)
        settings = dataclasses.replace(controller.default_settings("noise-model"), seed=21, seed_mode="fixed", steps=3,
                                       sampler="euler_a")
        (entry,), _ = controller.submit(GENERATE, settings)  # the dock's Generate button, previews and all
        assert entry.handle.wait(20)
        for event in list(events):
            workspace.deliver(event)
    finally:
        workspace.shutdown()
    assert entry.state == "done" and entry.recipe == read_png_recipe(written)
    with Image.open(written) as image:
        cli_pixels = np.asarray(image.convert("RGB"))
    assert len(np.unique(cli_pixels)) > 16  # a real picture, not a flat colour
    assert cli_pixels.tobytes() == entry.pixels.tobytes()


def test_ctrl_c_cancels_the_image_in_progress_and_writes_nothing(tmp_path, card_model, capsys, caplog, monkeypatch):
    from genart_desktop.engine.pipelines.diffusion import DiffusionPipeline, check_cancel

    def interrupted(self, request, *, cancel=None, run_options=None, **_control):
        os.kill(os.getpid(), signal.SIGINT)  # the person presses Ctrl+C half way through the image
        for _ in range(500):
            check_cancel(cancel, run_options)  # raises JobCancelled once the press has cancelled the job
            time.sleep(0.01)
        raise AssertionError("Ctrl+C did not cancel the job")

    monkeypatch.setattr(DiffusionPipeline, "run", interrupted)
    out = tmp_path / "out"
    assert cli.run(["generate", "--model", card_model, "--seed", "1", "-n", "3", str(out)]) == 130
    err = capsys.readouterr().err
    assert "interrupted" in err and "Traceback" not in err
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]  # a cancel, not a failed job's report
    assert pngs(out) == []


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--model", "no-such-model"], "no-such-model"),
        (["--model", "tiny-diffusion", "--size", "huge"], "--size"),
        (["--model", "tiny-diffusion", "--mask", "m.png"], "--mask needs --init"),
        (["--model", "tiny-diffusion", "--init", "broken.png"], "broken.png"),
        (["--model", "tiny-diffusion", "-n", "0"], "-n"),
        (["--model", "tiny-diffusion", "--strength", "2", "--init", "broken.png"], "strength"),
    ],
)
def test_bad_input_writes_nothing(tmp_path, card_model, capsys, monkeypatch, extra, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    out = tmp_path / "out"
    assert cli.run(["generate", *extra, str(out)]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.slow
def test_stable_diffusion_folder_by_path(tmp_path, monkeypatch):
    pytest.importorskip("torch")
    pytest.importorskip("diffusers")
    pytest.importorskip("transformers")
    from tests.engine.tiny_sd import export_tiny_sd

    monkeypatch.setenv("GENART_PROVIDER", "cpu")
    folder = tmp_path / "tiny-sd"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        export_tiny_sd(folder)
    out = tmp_path / "out"
    args = ["generate", "--model", str(folder), "--prompt", "a red fox", "--negative", "blurry", "--steps", "3",
            "--guidance", "5", "--seed", "11", "-n", "2", str(out)]
    assert cli.run(args) == 0
    files = pngs(out)
    assert len(files) == 2
    recipe = read_png_recipe(files[1])
    assert recipe.model_id == "tiny-sd" and recipe.seed == 12 and recipe.prompt == "a red fox"
    assert recipe.negative_prompt == "blurry" and recipe.guidance == 5.0 and recipe.width == 16
    assert len(recipe.model_hash) == 16


def test_sizes_a_fixed_model_cannot_make_are_generated_natively_and_scaled(tmp_path, monkeypatch):
    """Issue 18: `--size 256x256` on a 16x16-only model used to run every step and then fail; `--init` of another
    size is resized to the model's size and the result comes back at the image's size."""
    from tests.workspace.test_diffusion_fit import fixed_folder

    models = tmp_path / "models"
    fixed_folder(models)
    monkeypatch.setenv("GENART_MODELS_DIR", str(models))
    monkeypatch.setenv("GENART_PROVIDER", "cpu")
    out = tmp_path / "out"
    assert cli.run(["generate", "--model", "tiny-fixed", "--prompt", "red", "--size", "64x32", "--seed", "1",
                    str(out)]) == 0
    (written,) = pngs(out)
    recipe = read_png_recipe(written)
    assert (recipe.width, recipe.height) == (16, 16)
    with Image.open(written) as image:
        rgba = np.asarray(image.convert("RGBA"))
    assert rgba.shape == (32, 64, 4)
    assert (rgba[:, :16, 3] == 0).all() and (rgba[:, 16:48, 3] == 255).all()  # fitted, never stretched
    photo = np.random.default_rng(0).integers(0, 256, (30, 50, 3), dtype=np.uint8)
    Image.fromarray(photo).save(tmp_path / "photo.png")
    again = tmp_path / "again"
    assert cli.run(["generate", "--model", "tiny-fixed", "--prompt", "red", "--init", str(tmp_path / "photo.png"),
                    "--strength", "0.5", "--seed", "1", str(again)]) == 0
    (written,) = pngs(again)
    assert read_png_recipe(written).width == 16
    with Image.open(written) as image:
        assert image.size == (50, 30)
