"""Regional prompts in the engine: mask weights, the stored masks, and one picture following two prompts."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from genart_desktop.core.errors import InputError
from genart_desktop.engine.pipelines.diffusion import DiffusionPipeline, DiffusionRequest
from genart_desktop.engine.pipelines.diffusion_model import CardDiffusionModel
from genart_desktop.engine.pipelines.recipe import Recipe
from genart_desktop.engine.pipelines.regions import (
    MAX_MASK_SIDE,
    MAX_REGIONS,
    RecipeRegion,
    RegionCondition,
    region_weights,
)
from genart_desktop.engine.registry import ModelRegistry
from genart_desktop.engine.schedules import ScheduleConfig
from tests.workspace.tiny_diffusion import diffusion_folder

SIZE = 16


def left_half(size: int = SIZE) -> np.ndarray:
    mask = np.zeros((size, size), np.float32)
    mask[:, : size // 2] = 1.0
    return mask


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    diffusion_folder(root, "tiny-text", conditioned="text", resolution=SIZE)
    diffusion_folder(root, "tiny-plain", conditioned=False, resolution=SIZE)
    registry = ModelRegistry(roots=[(root, "user")])
    return {name: CardDiffusionModel.from_registry(registry, name) for name in ("tiny-text", "tiny-plain")}


def recipe(**values) -> Recipe:
    return Recipe(**{"model_id": "tiny-text", "seed": 3, "steps": 6, "sampler": "ddim", "guidance": 2.0,
                     "prompt": "red", "width": SIZE, "height": SIZE, **values})


def test_weights_fill_with_the_base_and_normalise_overlaps():
    a = np.zeros((4, 4), np.float32)
    a[:, :3] = 1.0
    b = np.zeros((4, 4), np.float32)
    b[:, 2:] = 1.0
    weights = region_weights([a, b], (4, 4))
    assert weights.shape == (3, 1, 1, 4, 4)
    np.testing.assert_allclose(weights.sum(axis=0), 1.0)
    assert weights[0].max() == 0.0  # the two regions cover everything
    np.testing.assert_allclose(weights[1, 0, 0, :, 2], 0.5)  # the overlap is shared
    np.testing.assert_allclose(weights[2, 0, 0, :, 3], 1.0)
    half = region_weights([a * 0.5], (2, 2))  # pixel mask averaged onto a coarser grid
    np.testing.assert_allclose(half[1, 0, 0], [[0.5, 0.25], [0.5, 0.25]])
    np.testing.assert_allclose(half[0, 0, 0], [[0.5, 0.75], [0.5, 0.75]])


def test_a_region_prompt_changes_pixels_inside_its_mask_only(models):
    model = models["tiny-text"]
    base = model.render(recipe()).pixels.astype(int)
    regional = model.render(recipe(regions=(RecipeRegion.from_mask(left_half(), "blue"),))).pixels.astype(int)
    changed = np.abs(regional - base).max(axis=2) > 8
    inside = changed[:, : SIZE // 2].mean()
    outside = changed[:, SIZE // 2:].mean()
    assert inside > 0.9 and outside < 0.1
    assert regional[:, :4, 2].mean() > regional[:, :4, 0].mean() + 100  # blue on the left
    assert regional[:, -4:, 0].mean() > regional[:, -4:, 2].mean() + 100  # red stays on the right


def test_two_regions_two_prompts_and_the_same_recipe_repeats(models):
    model = models["tiny-text"]
    top = np.zeros((SIZE, SIZE), np.uint8)
    top[: SIZE // 2] = 255
    regions = (RecipeRegion.from_mask(top, "green"), RecipeRegion.from_mask(255 - top, "blue"))
    first = model.render(recipe(regions=regions)).pixels
    again = model.render(recipe(regions=regions)).pixels
    np.testing.assert_array_equal(first, again)
    assert first[:4, :, 1].mean() > first[:4, :, 2].mean() + 100
    assert first[-4:, :, 2].mean() > first[-4:, :, 1].mean() + 100


def test_class_models_read_region_prompts_as_class_names(tmp_path):
    diffusion_folder(tmp_path, "tiny-class", conditioned=True, resolution=SIZE)
    model = CardDiffusionModel.from_registry(ModelRegistry(roots=[(tmp_path, "user")]), "tiny-class")
    plain = recipe(model_id="tiny-class", prompt="red", class_label="red")
    out = model.render(dataclasses.replace(plain, regions=(RecipeRegion.from_mask(left_half(), "blue"),)))
    assert out.pixels[:, :4, 2].mean() > out.pixels[:, :4, 0].mean() + 100
    with pytest.raises(InputError, match="Unknown class"):
        model.render(dataclasses.replace(plain, regions=(RecipeRegion.from_mask(left_half(), "mauve"),)))


def test_an_unconditional_model_refuses_regions(models):
    with pytest.raises(InputError, match="takes no prompt"):
        models["tiny-plain"].render(recipe(model_id="tiny-plain", prompt="", guidance=1.0,
                                           regions=(RecipeRegion.from_mask(left_half(), "blue"),)))


def test_stored_masks_are_small_and_decode_to_the_picture_size():
    big = np.zeros((600, 300), np.uint8)
    big[:300] = 255
    region = RecipeRegion.from_mask(big, "sky")
    assert len(region.mask) < 2000
    pixels = region.pixels(150, 300)
    assert pixels.shape == (300, 150) and pixels.dtype == np.float32
    assert pixels[:140].min() == 1.0 and pixels[160:].max() == 0.0
    assert region.pixels(MAX_MASK_SIDE, 2 * MAX_MASK_SIDE).shape == (2 * MAX_MASK_SIDE, MAX_MASK_SIDE)
    with pytest.raises(InputError, match="not the shape of the 300x300 picture"):
        region.pixels(300, 300)


def test_recipe_json_round_trip_keeps_regions_and_refuses_damage():
    regions = (RecipeRegion.from_mask(left_half(), "blue"), RecipeRegion.from_mask(1 - left_half(), "green"))
    original = recipe(regions=regions)
    back = Recipe.from_json(original.to_json())
    assert back == original and back.regions[1].prompt == "green"
    assert "regions" not in recipe().to_dict()  # recipes without regions are written as before
    assert "Region 1: blue" in original.describe()
    data = original.to_dict()
    with pytest.raises(InputError, match="at most"):
        Recipe.from_dict({**data, "regions": [data["regions"][0]] * (MAX_REGIONS + 1)})
    with pytest.raises(InputError, match="prompt and a mask"):
        Recipe.from_dict({**data, "regions": [{"prompt": "x"}]})
    damaged = Recipe.from_dict({**data, "regions": [{"prompt": "x", "mask": "bm90IGEgcG5n"}]})
    with pytest.raises(InputError, match="region's mask"):
        damaged.regions[0].pixels(SIZE, SIZE)


class FixedBatchUNet:
    """A denoiser whose graph says batch 1: the pipeline must call it once per row."""

    def __init__(self):
        spec = type("Spec", (), {"shape": (1, 3, 8, 8)})()
        self.session = type("Session", (), {"inputs": [spec]})()
        self.rows = []

    def __call__(self, sample, steps, cond):
        self.rows.append(sample.shape[0])
        return (sample * 0.1 + cond[:, :1, None, None] * 0.01).astype(np.float32)


def test_a_fixed_batch_graph_is_called_row_by_row():
    unet = FixedBatchUNet()
    pipeline = DiffusionPipeline(unet, ScheduleConfig(num_train_timesteps=100), channels=3)
    mask = np.zeros((8, 8), np.float32)
    mask[:4] = 1
    request = DiffusionRequest(width=8, height=8, steps=2, sampler="ddim", guidance=2.0,
                               cond=np.ones((1, 1), np.float32), uncond=np.zeros((1, 1), np.float32),
                               regions=(RegionCondition(np.full((1, 1), 5.0, np.float32), mask),))
    result = pipeline.run(request)
    assert set(unet.rows) == {1} and len(unet.rows) == 2 * 3  # 2 steps x (uncond, base, region)
    assert np.isfinite(result.images).all()
    with pytest.raises(InputError, match="must be 8x8"):
        pipeline.run(dataclasses.replace(request, regions=(RegionCondition(np.ones((1, 1), np.float32),
                                                                           np.ones((5, 8), np.float32)),)))
