"""`genart generate --region MASK=PROMPT`: the dock's pixels for the same regions; bad masks write nothing."""

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
from tests.workspace.tiny_diffusion import diffusion_folder

SIZE = 16


@pytest.fixture
def models(tmp_path, monkeypatch):
    root = tmp_path / "models"
    diffusion_folder(root, "tiny-text", conditioned="text", resolution=SIZE)
    diffusion_folder(root, "tiny-plain", conditioned=False, resolution=SIZE)
    monkeypatch.setenv("GENART_MODELS_DIR", str(root))
    monkeypatch.setenv("GENART_PROVIDER", "cpu")
    return root


def halves() -> tuple[np.ndarray, np.ndarray]:
    top = np.zeros((SIZE, SIZE), np.uint8)
    top[: SIZE // 2] = 255
    left = np.zeros((SIZE, SIZE), np.uint8)
    left[:, : SIZE // 3] = 255
    return top, left


def test_cli_regions_match_the_dock_pixel_for_pixel(tmp_path, models):
    top, left = halves()
    Image.fromarray(top).save(tmp_path / "top.png")
    Image.fromarray(np.dstack([left] * 3 + [np.full_like(left, 255)])).save(tmp_path / "left.png")
    out = tmp_path / "out"
    assert cli.run(["generate", "--model", "tiny-text", "--prompt", "red", "--seed", "9", "--region",
                    f"{tmp_path / 'top.png'}=green", "--region", f"{tmp_path / 'left.png'}=blue", str(out)]) == 0
    (written,) = sorted(out.glob("*.png"))
    recipe = read_png_recipe(written)
    assert [r.prompt for r in recipe.regions] == ["green", "blue"]
    with Image.open(written) as image:
        cli_pixels = np.asarray(image.convert("RGB"))

    doc = Document(SIZE, SIZE)
    doc.regions.add(top, "green")
    doc.regions.add(left, "blue")
    workspace = Workspace(ModelRegistry(roots=[(models, "user")]))
    try:
        controller = DiffusionController(workspace, preview_every=0)
        settings = dataclasses.replace(controller.default_settings("tiny-text"), prompt="red", seed=9,
                                       seed_mode="fixed")
        (entry,), _ = controller.submit(GENERATE, settings, doc)
        assert entry.handle.wait(20)
        for _ in range(200):
            if entry.finished:
                break
            entry.handle.wait(0.05)
    finally:
        workspace.shutdown()
    assert entry.state == "done" and entry.recipe == recipe
    assert cli_pixels.tobytes() == entry.pixels.tobytes()
    assert cli_pixels[-3:, -3:, 0].mean() > 200 and cli_pixels[:3, -3:, 1].mean() > 200  # red base, green top


@pytest.mark.parametrize("spec, reason", [
    ("{wide}=green", "not the shape of the 16x16 picture"),
    ("{broken}=green", "Cannot open broken.png"),
    ("{missing}=green", "missing.png"),
    ("{top}", "MASK=PROMPT"),
    ("{top}=  ", "MASK=PROMPT"),
])
def test_bad_region_masks_write_nothing(tmp_path, models, capsys, spec, reason):
    top, _left = halves()
    Image.fromarray(top).save(tmp_path / "top.png")
    Image.fromarray(np.zeros((8, 32), np.uint8)).save(tmp_path / "wide.png")
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    paths = {name: tmp_path / f"{name}.png" for name in ("top", "wide", "broken", "missing")}
    out = tmp_path / "out"
    code = cli.run(["generate", "--model", "tiny-text", "--prompt", "red", "--seed", "1", "--region",
                    spec.format(**paths), str(out)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and not out.exists()
    assert reason in err and len(err.splitlines()) == 1


def test_a_model_without_prompts_refuses_regions(tmp_path, models, capsys):
    top, _left = halves()
    Image.fromarray(top).save(tmp_path / "top.png")
    out = tmp_path / "out"
    assert cli.run(["generate", "--model", "tiny-plain", "--region", f"{tmp_path / 'top.png'}=red", str(out)]) == 2
    assert "takes no prompt" in capsys.readouterr().err and not out.exists()


def test_a_mask_of_the_pictures_shape_at_another_size_is_resized(tmp_path, models):
    top = np.zeros((4 * SIZE, 4 * SIZE), np.uint8)
    top[: 2 * SIZE] = 255
    Image.fromarray(top).save(tmp_path / "big.png")
    out = tmp_path / "out"
    assert cli.run(["generate", "--model", "tiny-text", "--prompt", "red", "--seed", "2", "--region",
                    f"{tmp_path / 'big.png'}=green", str(out)]) == 0
    (written,) = sorted(out.glob("*.png"))
    (region,) = read_png_recipe(written).regions
    mask = region.pixels(SIZE, SIZE)
    assert mask[: SIZE // 2 - 1].min() == 1.0 and mask[SIZE // 2 + 1:].max() == 0.0
