"""Control pictures in the engine: the stored control, the pipeline feeding it to the U-Net, and refusals."""

from __future__ import annotations

import numpy as np
import pytest

from genart_desktop.core.errors import InputError
from genart_desktop.engine.control_maps import edge_map
from genart_desktop.engine.pipelines.control import MAX_CONTROL_SIDE, RecipeControl
from genart_desktop.engine.pipelines.diffusion import DiffusionRequest
from genart_desktop.engine.pipelines.diffusion_model import CardDiffusionModel
from genart_desktop.engine.pipelines.recipe import Recipe, encode_png, read_png_recipe
from genart_desktop.engine.registry import ModelRegistry
from tests.workspace.tiny_control import control_folder
from tests.workspace.tiny_diffusion import diffusion_folder

SIZE = 16


def cross(size: int = SIZE) -> np.ndarray:
    """Black lines (a cross) on white."""
    picture = np.full((size, size, 3), 255, np.uint8)
    picture[size // 2 - 1:size // 2 + 1] = 0
    picture[:, size // 2 - 1:size // 2 + 1] = 0
    return picture


def frame(size: int = SIZE) -> np.ndarray:
    picture = np.full((size, size, 3), 255, np.uint8)
    picture[2:-2, 2:-2] = 0
    picture[4:-4, 4:-4] = 255
    return picture


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    control_folder(root, "tiny-control", text=True, resolution=SIZE)
    diffusion_folder(root, "tiny-text", conditioned="text", resolution=SIZE)
    registry = ModelRegistry(roots=[(root, "user")])
    return {name: CardDiffusionModel.from_registry(registry, name) for name in ("tiny-control", "tiny-text")}


def recipe(**values) -> Recipe:
    return Recipe(**{"model_id": "tiny-control", "seed": 3, "steps": 6, "sampler": "ddim", "guidance": 2.0,
                     "prompt": "red", "width": SIZE, "height": SIZE, **values})


def test_the_model_follows_its_control_and_strength_zero_is_no_control(models):
    model = models["tiny-control"]
    assert model.takes_control and not models["tiny-text"].takes_control
    plain = model.render(recipe()).pixels
    with_cross = model.render(recipe(control=RecipeControl.from_picture(cross()))).pixels
    with_frame = model.render(recipe(control=RecipeControl.from_picture(frame()))).pixels
    assert np.abs(with_cross.astype(int) - with_frame.astype(int)).max() > 100  # different controls, pixels
    lines = cross()[..., 0] == 0
    assert with_cross[lines].mean() < 40 and with_cross[~lines].mean() > 215  # it drew the cross
    off = model.render(recipe(control=RecipeControl.from_picture(cross(), strength=0.0))).pixels
    np.testing.assert_array_equal(off, plain)  # strength 0: exactly no control
    half = model.render(recipe(control=RecipeControl.from_picture(cross(), strength=0.5))).pixels
    assert 40 < half[lines].mean() < plain[lines].mean()


def test_a_model_without_a_control_input_refuses_one_naming_the_model(models):
    with pytest.raises(InputError, match="tiny-text takes no control picture"):
        models["tiny-text"].render(recipe(model_id="tiny-text", control=RecipeControl.from_picture(cross())))


def test_the_control_rides_in_the_png_recipe_and_repeats_the_picture(models):
    model = models["tiny-control"]
    original = recipe(control=RecipeControl.from_picture(edge_map(frame()), 0.8, "edges"))
    output = model.render(original)
    back = read_png_recipe(encode_png(output.pixels, output.recipe))
    assert back == output.recipe and back.control == original.control
    np.testing.assert_array_equal(model.render(back).pixels, output.pixels)
    assert "Control: edges 0.8" in back.describe()
    assert "control" not in recipe().to_dict()  # recipes without a control are written as before


def test_stored_controls_are_capped_and_checked():
    big = RecipeControl.from_picture(np.zeros((600, 300, 3), np.uint8))
    assert big.pixels(150, 300).shape == (300, 150, 3)
    with pytest.raises(InputError, match="not the shape"):
        big.pixels(300, 300)
    assert MAX_CONTROL_SIDE == 256
    with pytest.raises(InputError, match="strength"):
        RecipeControl.from_picture(cross(), strength=3.0)
    with pytest.raises(InputError, match="base64"):
        RecipeControl("not base64 !", 1.0, "sketch").pixels(SIZE, SIZE)
    with pytest.raises(InputError, match="control mode"):
        Recipe.from_dict({**recipe().to_dict(), "control": {"picture": "aGk=", "strength": 1.0, "mode": "x"}})
    with pytest.raises(InputError, match="picture, a strength and a mode"):
        Recipe.from_dict({**recipe().to_dict(), "control": {"picture": "aGk="}})


def test_the_pipeline_checks_the_control_tensor(models):
    pipeline = models["tiny-control"].pipeline
    good = np.zeros((1, 3, SIZE, SIZE), np.float32)
    for control, strength, reason in ((good[..., :8, :8], 1.0, "must be a \\(1, 3, 16, 16\\) tensor"),
                                      (good * np.nan, 1.0, "NaN"), (good, 2.5, "between 0 and 2")):
        with pytest.raises(InputError, match=reason):
            pipeline.run(DiffusionRequest(width=SIZE, height=SIZE, steps=2, control=control,
                                          control_strength=strength))
    with pytest.raises(InputError, match="takes no control picture"):
        models["tiny-text"].pipeline.run(DiffusionRequest(width=SIZE, height=SIZE, steps=2, control=good))
    with pytest.raises(InputError, match="not the shape"):  # a stored control of another shape
        models["tiny-control"].render(recipe(width=SIZE * 2, control=RecipeControl.from_picture(cross())))
