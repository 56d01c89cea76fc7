"""The default models shipped in ``models/``: they load, fit the size budget, say how they were made, and work.

These run the real shipped files through the engine (small inputs, so they stay fast); the quality figures in the
cards were measured by ``genart-train evaluate`` / the trainers and are only checked for presence and sanity here.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from genart_desktop.engine.registry import ModelRegistry

MODELS = Path(__file__).resolve().parents[1] / "models"
MB = 1024 * 1024


@pytest.fixture(scope="module")
def registry() -> ModelRegistry:
    return ModelRegistry(roots=[(MODELS, "builtin")], settings={"execution_provider": "cpu"})


def model_folders() -> list[Path]:
    return sorted(p for p in MODELS.iterdir() if p.is_dir())


def card(folder: Path) -> dict:
    return json.loads((folder / "model.json").read_text(encoding="utf-8"))


def test_every_shipped_folder_is_a_valid_model(registry):
    rejected = [(e.id, e.reason) for e in registry.entries() if not e.ok]
    assert rejected == []
    assert {e.folder.name for e in registry.entries()} == {p.name for p in model_folders()}


def test_size_budget():
    files = [p for p in MODELS.rglob("*") if p.is_file()]
    assert all(p.stat().st_size <= 20 * MB for p in files), [p.name for p in files if p.stat().st_size > 20 * MB]
    assert sum(p.stat().st_size for p in files) <= 150 * MB


@pytest.mark.parametrize("folder", model_folders(), ids=lambda p: p.name)
def test_cards_record_licence_command_hardware_and_time(folder):
    data = card(folder)
    provenance = data["provenance"]
    assert data["license"] and len(data["license"]) > 20
    assert provenance["command"].startswith("genart-train ")
    assert provenance["hardware"] and provenance["precision"]
    assert provenance.get("wall_time_s", provenance.get("wall_time", 0)) > 0
    assert (folder / data["thumbnail"]).is_file()


def test_at_least_eight_style_networks_one_per_painting(registry):
    styles = [e for e in registry.entries() if e.family == "style"]
    assert len(styles) >= 8
    paintings = {e.card.provenance["data"].split("style image ")[-1] for e in styles}
    assert len(paintings) == len(styles)
    for entry in styles:
        assert (entry.folder / "ATTRIBUTION.txt").is_file()


def test_each_style_network_really_restyles(registry):
    from genart_desktop.engine.pipelines.style import StylePipeline, StyleSettings

    yy, xx = np.mgrid[0:64, 0:96]
    photo = np.stack([xx * 2, yy * 3, 255 - xx * 2], -1).astype(np.uint8)
    for entry in (e for e in registry.entries() if e.family == "style"):
        out = StylePipeline.from_registry(registry, entry.id).apply(photo, StyleSettings(scale=1.0))
        change = np.abs(out.astype(int) - photo.astype(int)).mean()
        assert out.shape == photo.shape and 3.0 < change < 150.0, (entry.id, change)
        assert out.std() > 5.0, entry.id  # not a flat colour


def test_vae_reconstructs_its_kind_of_image(registry):
    entry = registry.get("emoji-vae-64")
    assert entry.card.metrics["psnr_holdout_onnx"] >= 22.0
    encoder, decoder = registry.session(entry.id, "encoder"), registry.session(entry.id, "decoder")
    yy, xx = np.mgrid[0:64, 0:64]
    disc = ((xx - 32) ** 2 + (yy - 32) ** 2 < 20 ** 2)
    image = np.where(disc[None], np.array([0.9, 0.7, -0.8])[:, None, None], 1.0).astype(np.float32)[None]
    mean = encoder.run({"image": image})["mean"]
    back = decoder.run({"latent": mean})["image"]
    assert np.abs(back - image).mean() < 0.15


def test_vae_random_draws_come_from_where_it_puts_emoji(registry):
    """The card's latent prior (genart-train vae-prior) makes random draws decode to solid emoji-like shapes; plain
    N(0, 1) draws of this reconstruction-tuned VAE leave about half of the middle white (measured 0.54)."""
    from genart_desktop.engine.latent.space import space_from_registry

    space = space_from_registry(registry, "emoji-vae-64")
    assert space.prior is not None and space.prior.dim == 256
    images = space.decode(space.sample(seed=1, count=64))
    middle_white = (images[:, 16:48, 16:48].min(axis=-1) > 235).mean()
    assert middle_white < 0.3, middle_white


def tile_offsets(tiled: np.ndarray, whole: np.ndarray, plan, margin: int) -> list[float]:
    """Mean difference (tiled - whole) in the core of each tile: a tile with its own tone stands out as a patch."""
    diff = (tiled.astype(np.float32) - whole.astype(np.float32)).mean(axis=2)
    return [float(diff[t.rows.start + margin:t.rows.stop - margin, t.cols.start + margin:t.cols.stop - margin].mean())
            for t in plan]


@pytest.mark.slow
@pytest.mark.parametrize("model_id", ["style-starry-night", "style-great-wave"])
def test_trained_style_networks_tile_without_visible_seams(registry, model_id):
    """Tiled against whole-image rendering of a real photo with a trained network: no tile gets a tone of its own.

    Instance normalisation gives each unharmonised tile its own tone (a patchwork: per-tile offsets spread over
    tens of levels); with the pipeline's harmonisation the spread stays within a few levels.
    """
    from PIL import Image

    from genart_desktop.engine.pipelines.style import StylePipeline, StyleSettings
    from genart_desktop.engine.tiling import TilePlan

    source = MODELS.parents[1] / "shared" / "data" / "content" / "tubingen_neckarfront.jpg"
    if not source.is_file():
        pytest.skip("the shared content photos are not beside this checkout")
    photo = np.asarray(Image.open(source).convert("RGB").resize((768, 512)))
    settings = StyleSettings(scale=1.0)
    whole = StylePipeline.from_registry(registry, model_id, tile=1024).apply(photo, settings)
    tiled_pipeline = StylePipeline.from_registry(registry, model_id, tile=320, overlap=64)
    plan = TilePlan.create(512, 768, 320, 64, tiled_pipeline.multiple)
    assert len(plan) >= 6
    tiled = tiled_pipeline.apply(photo, settings)
    spread = np.std(tile_offsets(tiled, whole, plan, 64))
    naive = StylePipeline.from_registry(registry, model_id, tile=320, overlap=64, harmonize=False).apply(photo, settings)
    naive_spread = np.std(tile_offsets(naive, whole, plan, 64))
    assert spread < 3.0, spread
    assert naive_spread > 3 * spread  # the measure does see a patchwork when there is one
    assert np.abs(tiled.astype(int) - whole.astype(int)).mean() < 12.0


def test_gan_generates_varied_images_and_its_card_states_measured_quality(registry):
    from genart_desktop.engine.latent.space import space_from_registry

    (entry,) = [e for e in registry.entries() if e.family == "gan"]
    quality = entry.card.metrics["quality"]
    assert quality["samples"] >= 256
    assert quality["diversity_ratio"] >= 0.8
    assert quality["nearest_train_distance"] > 0.5 * quality["real_holdout_nearest_distance"] > 0
    space = space_from_registry(registry, entry.id)
    side = space.image_size[0]
    assert space.image_size == (side, side) == tuple(entry.card.resolution) and side >= 64  # the issue asks 64x64
    images = space.decode(space.sample(seed=3, count=9)).astype(np.float32)
    assert images.shape == (9, side, side, 3)
    assert np.array_equal(space.decode(space.sample(seed=3, count=9)), images.astype(np.uint8))  # seeded
    pairwise = np.abs(images[:, None] - images[None]).mean(axis=(2, 3, 4))
    assert pairwise[~np.eye(9, dtype=bool)].min() > 2.0  # nine different pictures
    assert all(image.std() > 10.0 for image in images)  # not flat colour fields


def test_diffusion_model_follows_prompts_and_its_card_states_measured_quality(registry):
    from genart_desktop.engine.pipelines.diffusion_model import CardDiffusionModel

    entry = registry.get("emoji-diffusion-64")
    quality = entry.card.metrics["quality"]
    assert quality["prompt_adherence"] > 2 * quality["chance"]
    assert quality["diversity_ratio"] >= 0.8
    assert quality["nearest_train_distance"] > 0.5 * quality["real_holdout_nearest_distance"] > 0
    model = CardDiffusionModel.from_registry(registry, entry.id)
    assert model.conditioning.kind == "text" and model.codec is not None  # latent diffusion in emoji-vae-64-alpha
    heart = model.generate("red heart", steps=12, seed=5).images
    again = model.generate("red heart", steps=12, seed=5).images
    other = model.generate("red heart", steps=12, seed=6).images
    assert heart.shape == (1, 4, 64, 64) and np.array_equal(heart, again)  # RGBA: a cut-out
    assert heart[0, 3].min() < -0.8 and heart[0, 3].max() > 0.8  # transparent around the emoji, opaque on it
    # issue 18: adherence within one picture of the RGB model it replaced (63.5% on the same 288 prompts and judge),
    # and more variety among the seeds of one prompt (the RGB model: 0.62)
    assert quality["samples"] >= 288 and quality["prompt_adherence"] >= 0.63
    paired = quality["paired"]  # judged image by image against the RGB model on the same prompts and seeds
    assert paired["against"] == "emoji-diffusion-64-rgb" and paired["samples"] == quality["samples"]
    assert paired["difference"] > -paired["difference_stderr"]  # no drop beyond the measurement's own noise
    assert quality["within_prompt_diversity_ratio"] > 0.65
    assert np.abs(heart - other).mean() > 0.02
    assert np.isfinite(heart).all() and heart.std() > 0.1


@pytest.mark.parametrize("model_id, kind, held_out", [("emoji-sketch-64", "edges", False),
                                                      ("photo-blocks-32", "colour-blocks", True)])
def test_control_models_card_their_adherence_and_follow_a_sketch(registry, model_id, kind, held_out):
    from genart_desktop.engine.pipelines.control import RecipeControl
    from genart_desktop.engine.pipelines.diffusion_model import CardDiffusionModel
    from genart_desktop.training.evaluation.control_adherence import colour_agreement

    entry = registry.get(model_id)
    measured = entry.card.metrics["control"]
    assert (measured["kind"], measured["held_out"], measured["pictures"]) == (kind, held_out, 64)
    figure = "f1" if kind == "edges" else "colour_agreement"
    assert measured["paired"][figure] > measured["unpaired"][figure] + 0.25  # follows its own control, not any
    model = CardDiffusionModel.from_registry(registry, model_id)
    width, height = model.default_size()
    sketch = np.zeros((height, width, 3), np.uint8)
    if kind == "edges":
        sketch[:] = 255
        sketch[height // 4:3 * height // 4, width // 4:3 * width // 4] = 0
        sketch[height // 4 + 3:3 * height // 4 - 3, width // 4 + 3:3 * width // 4 - 3] = 255  # a square outline
    else:
        sketch[: height // 2] = (110, 160, 220)  # sky over grass
        sketch[height // 2:] = (60, 120, 50)
    values = {"guidance": 1.0} if model.conditioning.kind == "none" else {}
    picture = model.render(model.recipe("red heart" if kind == "edges" else "", seed=3, steps=12,
                                        control=RecipeControl.from_picture(sketch), **values)).pixels
    if kind == "edges":
        assert picture.shape == (64, 64, 4) and picture[..., 3].min() < 20 < 235 < picture[..., 3].max()  # a cut-out
    else:
        assert picture.shape == (32, 32, 3) and colour_agreement(picture, sketch) > 0.8


def test_upscaler_card_states_its_held_out_gain_and_it_beats_lanczos(registry):
    from genart_desktop.training.upscale.measure import enlargements, load_photo
    from genart_desktop.training.upscale.quality import psnr
    from genart_desktop.workspace.upscale import open_upscaler, pick_model

    entry = registry.get("upscale-x4")
    data = card(entry.folder)
    measured = data["metrics"]["held_out_x4_bicubic"]
    held_out = data["provenance"]["held_out"]["files"]
    assert measured["photos"] == len(held_out) >= 10 and data["config"]["scale"] == 4
    assert measured["gain_over_lanczos_db"] == pytest.approx(measured["ours_psnr"] - measured["lanczos_psnr"],
                                                             abs=2e-3)
    assert measured["ours_psnr"] > measured["lanczos_psnr"] > measured["bicubic_psnr"]
    assert f"{measured['gain_over_lanczos_db']:+.2f} dB" in (MODELS / "README.md").read_text(encoding="utf-8")
    assert pick_model(registry, 4) == "upscale-x4"
    pipeline = open_upscaler(registry, "upscale-x4")
    ensemble = data["metrics"].get("held_out_x4_bicubic_self_ensemble")
    if ensemble is not None:  # the card runs it as a self-ensemble: measured on the same photos, in the README
        assert ensemble["runs_per_tile"] == data["config"]["self_ensemble"] == pipeline.ensemble > 1
        assert ensemble["lanczos_psnr"] == measured["lanczos_psnr"] and ensemble["ours_psnr"] > measured["ours_psnr"]
        assert f"{ensemble['gain_over_lanczos_db']:+.2f} dB" in (MODELS / "README.md").read_text(encoding="utf-8")
    as_run = ensemble or measured
    assert as_run["gain_over_lanczos_db"] >= 1.0  # issue 17's target, as the app runs the model
    rgba = np.zeros((20, 30, 4), np.uint8)
    rgba[4:16, 5:25] = (200, 90, 30, 255)
    out = pipeline.upscale(rgba)
    assert out.shape == (80, 120, 4) and out[..., 3].max() == 255 and out[:8, :8, 3].max() <= 2  # 1 % at most
    assert np.abs(out[40, 60, :3].astype(int) - (200, 90, 30)).max() <= 8
    # an anti-aliased cut-out on transparent black keeps its colour up to its edge: no dark rim (issue 17)
    yy, xx = np.mgrid[0:48, 0:48]
    disc = np.zeros((48, 48, 4), np.uint8)
    disc[..., 3] = np.clip((16.5 - np.hypot(yy - 24, xx - 24)) * 255, 0, 255).astype(np.uint8)
    disc[disc[..., 3] > 0, :3] = (230, 50, 30)
    out = pipeline.upscale(disc).astype(int)
    visible = out[..., 3] > 16
    assert (visible & (out[..., 3] < 250)).sum() > 500  # a soft edge, many pixels wide
    assert np.abs(out[visible][:, :3] - (230, 50, 30)).max() <= 6
    photo = MODELS.parents[1] / "shared" / "data" / "photos" / held_out[0]
    if not photo.is_file():
        pytest.skip("the shared photos are not beside this checkout")
    original = load_photo(photo, 4)[:192, :256]
    found = enlargements(np.ascontiguousarray(original), pipeline)
    assert psnr(found["ours"], original, 4) > psnr(found["lanczos"], original, 4)
