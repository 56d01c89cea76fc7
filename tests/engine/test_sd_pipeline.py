"""A tiny random Stable Diffusion pipeline, exported to ONNX in the Optimum layout inside the test, run through
our loader: txt2img, img2img and inpaint, compared with diffusers' own PyTorch pipeline."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from genart_desktop.core.errors import JobCancelled
from genart_desktop.core.images import from_tensor, to_tensor

pytest.importorskip("torch")
pytest.importorskip("diffusers")
pytest.importorskip("transformers")

from genart_desktop.engine.sd import StableDiffusionOnnx  # noqa: E402

from .tiny_sd import SAMPLE_SIZE, export_tiny_sd  # noqa: E402

pytestmark = pytest.mark.slow
SIZE = SAMPLE_SIZE * 2


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sd") / "tiny-sd"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        modules = export_tiny_sd(folder, seed=0)
    return folder, modules


@pytest.fixture(scope="module")
def sd(tiny):
    return StableDiffusionOnnx.load(tiny[0], settings={"execution_provider": "cpu", "intra_op_threads": 2})


def test_reads_the_folder_configuration(sd):
    assert sd.native_size == SIZE
    assert sd.folder.vae_factor == 2 and sd.codec.scaling_factor == pytest.approx(0.18215)
    assert sd.schedule.beta_schedule == "scaled_linear" and sd.schedule.steps_offset == 1
    assert sd.unet.timestep.dtype == np.int64 and sd.unet.timestep.rank == 1
    assert sd.text_encoder.ids.dtype == np.int32
    assert len(sd.fingerprint) == 16 and sd.fingerprint == sd.folder.fingerprint()


def test_txt2img_is_seeded_and_finite(sd):
    a = sd.generate("a red fox", "blurry", steps=6, seed=1)
    b = sd.generate("a red fox", "blurry", steps=6, seed=1)
    c = sd.generate("a red fox", "blurry", steps=6, seed=2)
    assert a.images.shape == (1, 3, SIZE, SIZE) and np.isfinite(a.images).all()
    assert np.array_equal(a.images, b.images) and not np.allclose(a.images, c.images)
    two = sd.generate("a red fox", "blurry", steps=6, seed=1, batch=2, sampler="euler_a")
    one = sd.generate("a red fox", "blurry", steps=6, seed=2, sampler="euler_a")
    np.testing.assert_allclose(two.images[1], one.images[0], atol=1e-4)


def test_matches_diffusers_pytorch_pipeline(tiny, sd):
    import torch
    from diffusers import DDIMScheduler, StableDiffusionPipeline
    from transformers import CLIPTokenizer

    folder, modules = tiny
    scheduler = DDIMScheduler(**{k: v for k, v in modules.scheduler_config.items() if not k.startswith("_")
                                 and k not in ("skip_prk_steps", "trained_betas")})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = StableDiffusionPipeline(
            vae=modules.vae, text_encoder=modules.text_encoder, tokenizer=CLIPTokenizer.from_pretrained(folder / "tokenizer"),
            unet=modules.unet, scheduler=scheduler, safety_checker=None, feature_extractor=None,
            requires_safety_checker=False)
    seed, steps = 4, 5
    noise = np.random.default_rng(seed).standard_normal((4, SAMPLE_SIZE, SAMPLE_SIZE), dtype=np.float32)[None]
    with torch.no_grad():
        theirs = reference("a painting of the sea", negative_prompt="a cat", num_inference_steps=steps,
                           guidance_scale=7.5, latents=torch.from_numpy(noise), output_type="np",
                           height=SIZE, width=SIZE).images[0]
    ours = sd.generate("a painting of the sea", "a cat", steps=steps, sampler="ddim", guidance=7.5, seed=seed)
    np.testing.assert_allclose((ours.images[0].transpose(1, 2, 0) + 1) / 2, theirs, atol=2e-3)


def test_img2img_strength(sd):
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8)
    init = to_tensor(pixels)
    same = sd.generate("a cat", init_image=init, strength=0.0, steps=8)
    assert np.array_equal(from_tensor(same.images[0]), pixels)
    events = []
    half = sd.generate("a cat", init_image=init, strength=0.5, steps=8, seed=3, on_step=events.append)
    assert len(events) == 4 and half.images.shape == (1, 3, SIZE, SIZE) and np.isfinite(half.images).all()


def test_inpaint_keeps_unselected_pixels(sd):
    rng = np.random.default_rng(1)
    pixels = rng.integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8)
    mask = np.zeros((SIZE, SIZE), np.float32)
    mask[3:11, 5:13] = 1.0
    result = sd.generate("blue sky", init_image=to_tensor(pixels), mask=mask, strength=1.0, steps=6, seed=9,
                         sampler="dpmpp_2m")
    out = from_tensor(result.images[0])
    assert np.array_equal(out[mask == 0], pixels[mask == 0])
    assert not np.array_equal(out[mask == 1], pixels[mask == 1])


def test_cancel_and_previews(sd):
    previews = []

    def on_step(event):
        if event.preview is not None:
            previews.append(event.preview)
        if event.step == 4:
            raise_flag.append(True)

    raise_flag: list[bool] = []
    with pytest.raises(JobCancelled):
        sd.generate("a fox", steps=10, on_step=on_step, cancel=lambda: bool(raise_flag), preview_every=2)
    assert len(previews) == 2 and previews[0].shape == (1, 3, SIZE, SIZE)


def test_an_unchanged_prompt_skips_the_text_encoder(sd, monkeypatch):
    calls = []
    encoder = sd.text_encoder

    def counting(prompts, run_options=None):
        calls.append(tuple(prompts))
        return encoder(prompts, run_options)

    monkeypatch.setattr(sd, "text_encoder", counting)
    first = sd.generate("a cached fox", "blurry", steps=3, seed=4)
    second = sd.generate("a cached fox", "blurry", steps=3, seed=4)
    assert calls == [("a cached fox", "blurry")] and np.array_equal(first.images, second.images)
    cond, _ = sd.encode_prompts("a cached fox", "blurry")
    assert not cond.flags.writeable  # a caller cannot change what later frames read
    sd.generate("a cached fox", "sharp", steps=3, seed=4)
    assert calls[-1] == ("a cached fox", "sharp")
