"""Regional prompts through a tiny random Stable Diffusion folder: one batched U-Net call per step, and the region's
prompt changes its own half of the picture more than the other half."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest

from genart_desktop.engine.pipelines.recipe import Recipe
from genart_desktop.engine.pipelines.regions import RecipeRegion

pytest.importorskip("torch")
pytest.importorskip("diffusers")
pytest.importorskip("transformers")

from genart_desktop.engine.sd import StableDiffusionOnnx  # noqa: E402

from .tiny_sd import SAMPLE_SIZE, export_tiny_sd  # noqa: E402

pytestmark = pytest.mark.slow
SIZE = SAMPLE_SIZE * 2


@pytest.fixture(scope="module")
def sd(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sd") / "tiny-sd"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        export_tiny_sd(folder, seed=0)
    return StableDiffusionOnnx.load(folder, settings={"execution_provider": "cpu", "intra_op_threads": 2})


def test_sd_regions_share_one_batched_call_per_step(sd, monkeypatch):
    rows = []
    unet = sd.pipeline.denoiser

    def counting(sample, steps, cond, **kwargs):
        rows.append(sample.shape[0])
        return unet(sample, steps, cond, **kwargs)

    monkeypatch.setattr(sd.pipeline, "denoiser", counting)
    recipe = Recipe("tiny-sd", seed=4, steps=5, sampler="ddim", guidance=7.5, prompt="a red fox", width=SIZE,
                    height=SIZE)
    base = sd.render(recipe).pixels.astype(np.float32)
    assert rows == [2] * 5
    mask = np.zeros((SIZE, SIZE), np.uint8)
    mask[:, : SIZE // 2] = 255
    rows.clear()
    regional = sd.render(dataclasses.replace(recipe, regions=(RecipeRegion.from_mask(mask, "blue sky"),)))
    assert rows == [3] * 5  # uncond, base and the region in one call
    change = np.abs(regional.pixels.astype(np.float32) - base).mean(axis=2)
    inside, outside = change[:, : SIZE // 2].mean(), change[:, SIZE // 2:].mean()
    assert inside > 1.0 and inside > 1.5 * outside
