"""The tiled upscaler pipeline: seams, any aspect, RGBA without fringes, progress, cancel, bad networks."""

from __future__ import annotations

import numpy as np
import pytest

from genart_desktop.core.errors import InputError, JobCancelled, ModelError
from genart_desktop.engine.pipelines.upscale import (UpscaleNetwork, UpscalePipeline, bleed_colour,
                                                      passes_needed, upscale_to)
from genart_desktop.engine.session import ModelSession
from tests.engine.tiny_upscaler import tiny_upscaler
from tests.tiny_onnx import image_model, save_model, tiny_unet


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    path = save_model(tiny_upscaler(2), tmp_path_factory.mktemp("up") / "upscaler.onnx")
    return ModelSession.load(path, {"execution_provider": "cpu"})


def pipeline(session, tile=512, overlap=0):
    return UpscalePipeline(UpscaleNetwork(session, 2), tile=tile, overlap=overlap)


def noise(height, width, channels=3, seed=0):
    rng = np.random.default_rng(seed)
    smooth = rng.integers(0, 256, (height // 4 + 2, width // 4 + 2, channels)).repeat(4, 0).repeat(4, 1)
    return smooth[:height, :width].astype(np.uint8)


@pytest.mark.parametrize("shape", [(37, 101), (120, 45), (64, 64)])
def test_any_aspect_doubles_both_sides(session, shape):
    picture = noise(*shape)
    out = pipeline(session, tile=32, overlap=8).upscale(picture)
    assert out.shape == (shape[0] * 2, shape[1] * 2, 3) and out.dtype == np.uint8


def test_tiles_blend_without_visible_seams(session):
    picture = noise(90, 130, seed=1)
    whole = pipeline(session).upscale(picture).astype(int)
    tiled = pipeline(session, tile=32, overlap=8).upscale(picture).astype(int)
    hard = pipeline(session, tile=32, overlap=0).upscale(picture).astype(int)
    assert np.abs(tiled - whole).max() <= 6  # the overlap cross-fades the border error away
    assert np.abs(tiled - whole).mean() < np.abs(hard - whole).mean()
    assert np.abs(picture.astype(int) - whole[::2, ::2]).mean() < 40  # it is an enlargement of the picture


def test_rgba_keeps_colour_under_soft_edges(session):
    picture = np.zeros((40, 40, 4), np.uint8)
    picture[..., :3] = (250, 40, 10)
    yy, xx = np.mgrid[0:40, 0:40]
    picture[..., 3] = np.clip(255 - 40 * np.maximum(np.hypot(yy - 20, xx - 20) - 8, 0), 0, 255).astype(np.uint8)
    out = pipeline(session, tile=24, overlap=6).upscale(picture)
    assert out.shape == (80, 80, 4)
    visible = out[..., 3] > 16
    assert visible.any() and (out[..., 3] == 0).any()
    # bled colour: edge pixels keep the shape's colour instead of darkening towards the transparent black
    assert np.abs(out[visible][:, :3].astype(int) - (250, 40, 10)).max() <= 12
    assert out[out[..., 3] == 0][:, :3].max() == 0


def test_bleed_gives_transparent_pixels_the_nearest_visible_colour_and_keeps_the_rest():
    colour = np.zeros((37, 53, 3), np.float32)  # odd sizes: the pyramid pads
    alpha = np.zeros((37, 53, 1), np.float32)
    colour[5:12, 4:10], alpha[5:12, 4:10] = (1.0, 0.2, 0.1), 1.0
    colour[25:30, 40:50], alpha[25:30, 40:50] = (0.1, 0.3, 0.9), 0.5
    colour[0, 52] = (0.7, 0.7, 0.7)  # a stray colour under alpha 0: not visible, so it does not spread
    bled = bleed_colour(colour, alpha)
    visible = alpha[..., 0] > 0
    assert np.array_equal(bled[visible], colour[visible]) and bled.dtype == np.float32
    assert np.allclose(bled[8, 12], (1.0, 0.2, 0.1)) and np.allclose(bled[8, 0], (1.0, 0.2, 0.1))  # beside each
    assert np.allclose(bled[27, 52], (0.1, 0.3, 0.9)) and np.allclose(bled[31, 45], (0.1, 0.3, 0.9))
    assert np.all((bled >= 0) & (bled <= 1)) and not np.allclose(bled[0, 52], (0.7, 0.7, 0.7))
    empty = np.zeros((8, 8, 1), np.float32)
    assert np.array_equal(bleed_colour(colour[:8, :8], empty), colour[:8, :8])  # nothing visible to bleed


def test_opaque_rgba_stays_opaque(session):
    picture = np.dstack([noise(20, 30), np.full((20, 30), 255, np.uint8)])
    out = pipeline(session).upscale(picture)
    assert out.shape == (40, 60, 4) and (out[..., 3] == 255).all()


def test_progress_per_tile_and_cancel_before_a_tile(session):
    seen = []
    pipeline(session, tile=32, overlap=8).upscale(noise(70, 70), progress=lambda d, t: seen.append((d, t)))
    assert seen[-1][0] == seen[-1][1] == len(seen) > 1
    calls = []

    def cancelled():
        calls.append(1)
        return len(calls) > 2

    with pytest.raises(JobCancelled):
        pipeline(session, tile=32, overlap=8).upscale(noise(70, 70), cancelled=cancelled)


def test_a_network_that_does_not_enlarge_is_refused(tmp_path):
    same_size = ModelSession.load(save_model(image_model("low", "high"), tmp_path / "same.onnx"),
                                  {"execution_provider": "cpu"})
    with pytest.raises(ModelError, match="2x its size"):
        UpscalePipeline(UpscaleNetwork(same_size, 2)).upscale(noise(16, 16))
    two_inputs = ModelSession.load(save_model(tiny_unet(), tmp_path / "two.onnx"), {"execution_provider": "cpu"})
    with pytest.raises(ModelError, match="one image"):
        UpscaleNetwork(two_inputs, 2)


def test_bad_input_and_tiling_are_refused(session):
    with pytest.raises(InputError):
        pipeline(session).upscale(np.zeros((4, 4), np.uint8))
    with pytest.raises(InputError):
        UpscalePipeline(UpscaleNetwork(session, 2), tile=8)


def test_upscale_to_runs_the_network_then_fits_exactly(session):
    picture = noise(30, 40)
    assert passes_needed((40, 30), (300, 200), 2) == 2
    assert passes_needed((40, 30), (40, 30), 2) == 0
    out = upscale_to(picture, 150, 110, pipeline(session))
    assert out.shape == (110, 150, 3)
    fallback = upscale_to(picture, 150, 110, None)
    assert fallback.shape == out.shape and not np.array_equal(fallback, out)
    fractions = []
    upscale_to(picture, 150, 110, pipeline(session, tile=16, overlap=4), progress=fractions.append)
    assert fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)
