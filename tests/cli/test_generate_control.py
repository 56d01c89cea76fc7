"""`genart generate --control IMAGE`: the dock's pixels for the same control; bad controls write nothing."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from PIL import Image

from genart_desktop import cli
from genart_desktop.document.document import Document
from genart_desktop.engine.pipelines.recipe import read_png_recipe
from genart_desktop.engine.registry import ModelRegistry
from genart_desktop.workspace.diffusion import GENERATE, DiffusionController
from genart_desktop.workspace.workspace import Workspace
from tests.workspace.tiny_control import control_folder
from tests.workspace.tiny_diffusion import diffusion_folder

SIZE = 16


@pytest.fixture
def models(tmp_path, monkeypatch):
    root = tmp_path / "models"
    control_folder(root, "tiny-control", resolution=SIZE)
    diffusion_folder(root, "tiny-text", conditioned="text", resolution=SIZE)
    monkeypatch.setenv("GENART_MODELS_DIR", str(root))
    monkeypatch.setenv("GENART_PROVIDER", "cpu")
    return root


def sketch() -> np.ndarray:
    """A transparent layer with a black diagonal stroke and a black bar (RGBA)."""
    pixels = np.zeros((SIZE, SIZE, 4), np.uint8)
    for i in range(SIZE):
        pixels[i, max(0, i - 1):i + 1] = (0, 0, 0, 255)
    pixels[3:5, 8:14] = (0, 0, 0, 255)
    return pixels


def dock_result(models, settings_values: dict, layer: np.ndarray):
    doc = Document(SIZE, SIZE)
    doc.add_layer("Sketch")
    doc.layers[doc.active_index].pixels[...] = layer
    workspace = Workspace(ModelRegistry(roots=[(models, "user")]))
    try:
        controller = DiffusionController(workspace, preview_every=0)
        controller.use_layer_as_control(doc)
        settings = dataclasses.replace(controller.default_settings("tiny-control"), seed=9, seed_mode="fixed",
                                       **settings_values)
        (entry,), _ = controller.submit(GENERATE, settings, doc)
        assert entry.handle.wait(20)
        for _ in range(200):
            if entry.finished:
                break
            entry.handle.wait(0.05)
    finally:
        workspace.shutdown()
    assert entry.state == "done", entry.message
    return entry


@pytest.mark.parametrize("mode", ["sketch", "edges"])
def test_cli_control_matches_the_dock_pixel_for_pixel(tmp_path, models, mode):
    Image.fromarray(sketch(), "RGBA").save(tmp_path / "sketch.png")
    out = tmp_path / "out"
    assert cli.run(["generate", "--model", "tiny-control", "--prompt", "red", "--seed", "9", "--control",
                    str(tmp_path / "sketch.png"), "--control-strength", "0.9", "--control-mode", mode,
                    str(out)]) == 0
    (written,) = sorted(out.glob("*.png"))
    recipe = read_png_recipe(written)
    assert recipe.control is not None and (recipe.control.mode, recipe.control.strength) == (mode, 0.9)
    with Image.open(written) as image:
        cli_pixels = np.asarray(image.convert("RGB"))
    entry = dock_result(models, {"prompt": "red", "control_strength": 0.9, "control_mode": mode}, sketch())
    assert entry.recipe == recipe
    assert cli_pixels.tobytes() == entry.pixels.tobytes()
    if mode == "sketch":  # the tiny model lands on the control: the stroke is dark, the paper light
        stroke = sketch()[..., 3] > 0
        assert cli_pixels[stroke].mean() < 60 and cli_pixels[~stroke].mean() > 190


@pytest.mark.parametrize("args, reason", [
    (["--control", "{wide}"], "not the shape of the 16x16 picture"),
    (["--control", "{broken}"], "broken.png"),
    (["--control", "{missing}"], "missing.png"),
    (["--control", "{good}", "--control-strength", "3"], "control strength must be between 0 and 2"),
    (["--control", "{good}", "--model", "tiny-text"], "takes no control picture"),
])
def test_bad_controls_write_nothing(tmp_path, models, capsys, args, reason):
    Image.fromarray(sketch(), "RGBA").save(tmp_path / "good.png")
    Image.fromarray(np.zeros((8, 32), np.uint8)).save(tmp_path / "wide.png")
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    paths = {name: tmp_path / f"{name}.png" for name in ("good", "wide", "broken", "missing")}
    out = tmp_path / "out"
    code = cli.run(["generate", "--model", "tiny-control", "--prompt", "red", "--seed", "1",
                    *[a.format(**paths) for a in args], str(out)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and not out.exists()
    assert reason in err and len(err.splitlines()) == 1
