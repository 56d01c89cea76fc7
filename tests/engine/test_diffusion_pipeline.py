"""The generic diffusion pipeline: generation, guidance, image-to-image, inpainting, previews, cancel, recipes."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from genart_desktop.core.errors import InputError, JobCancelled, ModelError
from genart_desktop.core.images import from_tensor, to_tensor
from genart_desktop.engine.pipelines import diffusion as diffusion_module
from genart_desktop.engine.pipelines.diffusion import DiffusionPipeline, DiffusionRequest
from genart_desktop.engine.pipelines.recipe import Recipe, encode_png, read_png_recipe
from genart_desktop.engine.samplers import draw_noise, make_sampler, sampler_names
from genart_desktop.engine.schedules import ScheduleConfig, add_noise, alphas_cumprod

H = W = 8
SCHEDULE = ScheduleConfig(beta_schedule="cosine", timestep_spacing="trailing")


def target_image(value: float) -> np.ndarray:
    yy, xx = np.mgrid[0:H, 0:W]
    image = np.stack([np.sin(xx / 3 + value), np.cos(yy / 2 - value), np.full((H, W), value)]) * 0.8
    return image[None].astype(np.float32)


class PointDenoiser:
    """The ideal epsilon-predictor for a data set of one image per condition (row 0 of cond picks it)."""

    def __init__(self, schedule=SCHEDULE, targets=None):
        self.abar = alphas_cumprod(schedule)
        self.targets = targets or {0: target_image(0.3), 1: target_image(-0.5)}
        self.calls: list[tuple[np.ndarray, np.ndarray, np.ndarray | None]] = []

    def __call__(self, x, t, cond):
        self.calls.append((x.copy(), t.copy(), None if cond is None else cond.copy()))
        keys = [0] * x.shape[0] if cond is None else [int(c[0]) for c in cond]
        x0 = np.concatenate([self.targets.get(k, np.zeros_like(self.targets[0])) for k in keys])
        if x0.shape != x.shape:  # latent space: the codec's view of the target
            x0 = BlurCodec().encode(x0)
        ab = self.abar[t].reshape(-1, 1, 1, 1)
        return ((x - np.sqrt(ab) * x0) / np.sqrt(1 - ab)).astype(np.float32)


class BlurCodec:
    """A lossy linear 'VAE': 2x2 average pooling and nearest upsampling."""

    channels = 3
    factor = 2

    def __init__(self):
        self.decoded = 0

    def encode(self, images):
        n, c, h, w = images.shape
        return images.reshape(n, c, h // 2, 2, w // 2, 2).mean(axis=(3, 5))

    def decode(self, latents):
        self.decoded += 1
        return latents.repeat(2, axis=2).repeat(2, axis=3)


def pipeline(denoiser=None, **kw):
    return DiffusionPipeline(denoiser or PointDenoiser(), SCHEDULE, channels=3, **kw)


@pytest.mark.parametrize("name", sampler_names())
def test_every_sampler_reaches_the_data_point(name):
    result = pipeline().run(DiffusionRequest(W, H, steps=10, sampler=name, seed=1))
    assert result.images.shape == (1, 3, H, W) and result.images.dtype == np.float32
    np.testing.assert_allclose(result.images, target_image(0.3), atol=2e-3)


def test_same_seed_same_image_and_batches_match_single_images():
    def blurry(x, t, cond):
        return 0.7 * x + 0.1

    pipe = pipeline(blurry)
    a = pipe.run(DiffusionRequest(W, H, steps=6, sampler="euler_a", seed=5)).images
    b = pipe.run(DiffusionRequest(W, H, steps=6, sampler="euler_a", seed=5)).images
    c = pipe.run(DiffusionRequest(W, H, steps=6, sampler="euler_a", seed=6)).images
    assert np.array_equal(a, b) and not np.allclose(a, c)
    batch = pipe.run(DiffusionRequest(W, H, steps=6, sampler="euler_a", seed=5, batch=2))
    assert batch.seeds == [5, 6]
    np.testing.assert_allclose(batch.images[0], a[0], atol=1e-6)
    np.testing.assert_allclose(batch.images[1], c[0], atol=1e-6)
    assert np.isfinite(batch.images).all()


def test_classifier_free_guidance_is_one_batched_call():
    denoiser = PointDenoiser()
    request = DiffusionRequest(W, H, steps=5, sampler="ddim", guidance=3.0, batch=2,
                               cond=np.array([[1]]), uncond=np.array([[7]]))
    pipeline(denoiser).run(request)
    assert len(denoiser.calls) == 5
    x, t, cond = denoiser.calls[0]
    assert x.shape[0] == 4 and cond[:, 0].tolist() == [7, 7, 1, 1]
    assert np.array_equal(x[:2], x[2:]) and len(set(t.tolist())) == 1
    # Guidance 1 follows the condition alone, without the unconditional rows.
    plain = PointDenoiser()
    out = pipeline(plain).run(DiffusionRequest(W, H, steps=5, sampler="ddim", cond=np.array([[1]]),
                                               uncond=np.array([[7]])))
    assert plain.calls[0][0].shape[0] == 1
    np.testing.assert_allclose(out.images, target_image(-0.5), atol=2e-3)


def test_guidance_extrapolates_from_uncond_to_cond():
    outputs = {}
    for g in (1.0, 2.0):
        schedule = ScheduleConfig(timestep_spacing="linspace")
        denoiser = PointDenoiser(schedule, targets={0: target_image(0.0) * 0.5, 1: target_image(0.0) * 0.6})
        req = DiffusionRequest(W, H, steps=2, sampler="ddim", guidance=g, cond=np.array([[1]]),
                               uncond=np.array([[0]]))
        outputs[g] = DiffusionPipeline(denoiser, schedule, channels=3).run(req).images
    # The last DDIM step returns x0_hat, which is linear in the guided epsilon.
    np.testing.assert_allclose(outputs[1.0], target_image(0.0) * 0.6, atol=1e-3)
    np.testing.assert_allclose(outputs[2.0], np.clip(target_image(0.0) * 0.7, -1, 1), atol=2e-3)


def test_img2img_strength_zero_returns_the_input_exactly():
    denoiser = PointDenoiser()
    init = target_image(1.1)
    result = pipeline(denoiser).run(DiffusionRequest(W, H, steps=10, init_image=init, strength=0.0))
    assert np.array_equal(result.images, init) and denoiser.calls == []


def test_img2img_starts_at_an_intermediate_timestep():
    denoiser = PointDenoiser()
    init = target_image(1.1)
    req = DiffusionRequest(W, H, steps=10, sampler="ddim", init_image=init, strength=0.4, seed=3)
    result = pipeline(denoiser).run(req)
    assert len(denoiser.calls) == 4
    first_t = int(denoiser.calls[0][1][0])
    noise = np.random.default_rng(3).standard_normal((3, H, W), dtype=np.float32)[None]
    np.testing.assert_allclose(denoiser.calls[0][0], add_noise(SCHEDULE, init, noise, first_t), atol=1e-6)
    assert first_t < 500
    np.testing.assert_allclose(result.images, target_image(0.3), atol=2e-3)


@pytest.mark.parametrize("codec", [None, BlurCodec()])
def test_inpaint_keeps_unmasked_pixels_and_blends_the_known_region(codec):
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
    init = to_tensor(pixels)
    mask = np.zeros((H, W), np.float32)
    mask[2:6, 2:6] = 1.0
    denoiser = PointDenoiser()
    pipe = pipeline(denoiser, codec=codec)
    req = DiffusionRequest(W, H, steps=8, sampler="dpmpp_2m", init_image=init, mask=mask, seed=11)
    result = pipe.run(req)
    out = from_tensor(result.images[0])
    keep = mask == 0
    assert np.array_equal(out[keep], pixels[keep])
    assert not np.array_equal(out[~keep], pixels[~keep])
    if codec is None:
        np.testing.assert_allclose(result.images[0][:, 2:6, 2:6], target_image(0.3)[0][:, 2:6, 2:6], atol=2e-3)
        # After the first step the sample outside the mask is the input re-noised to the current level.
        noise = np.random.default_rng(11).standard_normal((3, H, W), dtype=np.float32)[None]
        x, t, _ = denoiser.calls[1]
        expected = add_noise(SCHEDULE, init, noise, int(t[0]))
        np.testing.assert_allclose(x[0][:, keep], expected[0][:, keep], atol=1e-5)


def test_cancel_stops_between_steps():
    denoiser = PointDenoiser()
    stop = threading.Event()
    seen = []

    def on_step(event):
        seen.append(event.step)
        if event.step == 3:
            stop.set()

    with pytest.raises(JobCancelled):
        pipeline(denoiser).run(DiffusionRequest(W, H, steps=10), on_step=on_step, cancel=stop)
    assert seen == [1, 2, 3] and len(denoiser.calls) == 3
    with pytest.raises(JobCancelled):
        pipeline(denoiser).run(DiffusionRequest(W, H, steps=10), cancel=lambda: True)


def test_previews_are_decoded_clean_estimates():
    codec = BlurCodec()
    events = []
    pipe = DiffusionPipeline(PointDenoiser(), SCHEDULE, channels=3, codec=codec)
    pipe.run(DiffusionRequest(W, H, steps=6, sampler="ddim"), on_step=events.append, preview_every=2)
    assert [e.step for e in events] == [1, 2, 3, 4, 5, 6] and all(e.total == 6 for e in events)
    previews = [e.preview for e in events if e.preview is not None]
    assert len(previews) == 2 and previews[0].shape == (1, 3, H, W)
    assert codec.decoded == 3  # two previews and the final image


def test_nan_from_the_model_is_a_clear_error():
    with pytest.raises(ModelError, match="NaN"):
        pipeline(lambda x, t, c: np.full_like(x, np.nan)).run(DiffusionRequest(W, H, steps=3))
    with pytest.raises(ModelError, match="shape"):
        pipeline(lambda x, t, c: x[:, :1]).run(DiffusionRequest(W, H, steps=3))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"steps": 0}, "steps"),
        ({"sampler": "plms"}, "sampler"),
        ({"guidance": 3.0, "cond": np.array([[1]])}, "guidance"),
        ({"mask": np.ones((H, W))}, "Inpainting needs"),
        ({"init_image": np.zeros((1, 3, 4, 4), np.float32)}, "resize"),
        ({"init_image": np.zeros((1, 3, H, W), np.float32), "mask": np.ones((2, 2))}, "mask"),
        ({"strength": 1.5, "init_image": np.zeros((1, 3, H, W), np.float32)}, "Strength"),
        ({"seed": -1}, "seed"),
    ],
)
def test_bad_requests_raise_input_error(kwargs, match):
    with pytest.raises(InputError, match=match):
        pipeline().run(DiffusionRequest(W, H, **kwargs))


def test_latent_size_must_divide():
    pipe = DiffusionPipeline(PointDenoiser(), SCHEDULE, channels=3, codec=BlurCodec())
    with pytest.raises(InputError, match="divisible by 2"):
        pipe.run(DiffusionRequest(7, 8))
    with pytest.raises(ValueError, match="channels"):
        DiffusionPipeline(PointDenoiser(), SCHEDULE, channels=4)


def test_recipe_round_trips_through_json_and_png(tmp_path):
    recipe = Recipe(model_id="sd-tiny", model_hash="abc123", seed=42, steps=12, sampler="ddim", guidance=7.5,
                    prompt="a red fox, ünïcode", negative_prompt="blurry", width=64, height=32, strength=0.6,
                    mode="img2img")
    assert Recipe.from_json(recipe.to_json()) == recipe
    data = encode_png(np.zeros((32, 64, 3), np.uint8), recipe)
    assert read_png_recipe(data) == recipe
    path = tmp_path / "x.png"
    path.write_bytes(data)
    assert read_png_recipe(path) == recipe
    assert read_png_recipe(encode_png(np.zeros((4, 4, 4), np.uint8))) is None
    with pytest.raises(InputError, match="seed"):
        Recipe.from_dict({**recipe.to_dict(), "seed": "x"})
    with pytest.raises(InputError, match="model_id"):
        Recipe.from_dict({"seed": 1})
    with pytest.raises(InputError, match="JSON"):
        Recipe.from_json("{not json")
    with pytest.raises(InputError, match="mode"):
        Recipe.from_dict({**recipe.to_dict(), "mode": "outpaint"})


def test_a_size_a_fixed_decoder_refuses_is_refused_before_the_first_step():
    """Issue 18: a VAE decoder exported at one size used to fail after every step had run."""
    import types

    calls = []

    def denoiser(sample, timesteps, cond):
        calls.append(sample.shape)
        return np.zeros_like(sample)

    spec = types.SimpleNamespace(shape=("batch", 4, 8, 8))
    codec = types.SimpleNamespace(channels=4, factor=8, decoder=types.SimpleNamespace(inputs=(spec,)),
                                  encode=lambda images: images, decode=lambda latents: np.zeros(
                                      (latents.shape[0], 3, latents.shape[2] * 8, latents.shape[3] * 8), np.float32))
    pipeline = DiffusionPipeline(denoiser, ScheduleConfig(), channels=4, codec=codec)
    with pytest.raises(InputError, match="64x64 images only, not 256x256"):
        pipeline.run(DiffusionRequest(width=256, height=256, steps=3))
    assert calls == []
    assert pipeline.run(DiffusionRequest(width=64, height=64, steps=2)).images.shape == (1, 3, 64, 64)


def reference_frame(denoiser, request: DiffusionRequest, codec=None) -> np.ndarray:
    """The guided sampling loop written out plainly (one batch of uncond and cond rows per step), to hold the
    pipeline's per-run caching and row building to the same numbers."""
    sampler = make_sampler(request.sampler, SCHEDULE)
    rngs = [np.random.default_rng(request.seed)]
    factor = 1 if codec is None else codec.factor
    x = draw_noise(rngs, (1, 3, request.height // factor, request.width // factor))
    for t in sampler.set_timesteps(request.steps):
        out = denoiser(np.concatenate([x, x]), np.full((2,), t, np.int64),
                       np.concatenate([request.uncond, request.cond]))
        x = sampler.step(out[:1] + request.guidance * (out[1:] - out[:1]), int(t), x, rngs).prev_sample
    return np.clip(x if codec is None else codec.decode(x), -1.0, 1.0)


@pytest.mark.parametrize("name", ["ddim", "dpmpp_2m", "euler_a"])
@pytest.mark.parametrize("latent", [False, True])
def test_a_guided_frame_equals_the_loop_written_out(name, latent):
    request = DiffusionRequest(W, H, steps=8, sampler=name, guidance=3.0, seed=4, cond=np.array([[1]]),
                               uncond=np.array([[0]]))
    codec = BlurCodec() if latent else None
    ours = pipeline(PointDenoiser(), codec=codec).run(request).images
    assert np.array_equal(ours, reference_frame(PointDenoiser(), request, codec))


def test_a_run_builds_its_sampler_once(monkeypatch):
    built = []

    def counting(*args, **kwargs):
        built.append(args[0])
        return make_sampler(*args, **kwargs)

    monkeypatch.setattr(diffusion_module, "make_sampler", counting)
    pipeline().run(DiffusionRequest(W, H, steps=4, sampler="ddim", guidance=2.0, cond=np.array([[1]]),
                                    uncond=np.array([[0]])))
    assert built == ["ddim"]
