"""The arbitrary-style engine on a tiny model of the exact contract: statistics, blends, presets, measuring, the
render path (strength in the network, colours, alpha) and seamless tiles."""

from __future__ import annotations

import numpy as np
import pytest

from genart_desktop.core.errors import InputError, ModelError
from genart_desktop.engine.pipelines.arbitrary_style import (
    ArbitraryStyleModel,
    StyleStats,
    blend_stats,
    painting_of,
)
from genart_desktop.engine.pipelines.style import StyleSettings
from genart_desktop.engine.registry import ModelRegistry
from tests.fixtures_arbitrary_style import (
    CHANNELS,
    MODEL_ID,
    arbitrary_folder,
    fixed_network_for_painting,
    painting,
    preset_stats,
    reference_render,
    reference_stats,
)


def registry_with(tmp_path, **folder_options) -> ModelRegistry:
    root = tmp_path / "models"
    arbitrary_folder(root, **folder_options)
    return ModelRegistry(roots=[(root, "user")], settings={"session_cache_size": 4})


@pytest.fixture
def model(tmp_path):
    return ArbitraryStyleModel.from_registry(registry_with(tmp_path), MODEL_ID)


def stats(values, deviations) -> StyleStats:
    return StyleStats(np.array(values, np.float32), np.array(deviations, np.float32))


def to_model(rgb):
    return rgb.astype(np.float32).transpose(2, 0, 1) / 127.5 - 1.0


def test_stats_are_validated_vectors():
    assert stats([[1, 2]], [[3, 4]]).mean.tolist() == [1, 2]  # [1, C] as the encoder returns them
    for mean, std, reason in (([1, 2], [1], "disagree"), ([1, np.nan], [1, 1], "finite"),
                              ([1, 2], [1, -1], "at least 0"), ([[1, 2], [3, 4]], [[1, 1], [1, 1]], "vectors")):
        with pytest.raises(ModelError, match=reason):
            stats(mean, std)
    frozen = stats([1, 2], [3, 4])
    with pytest.raises(ValueError):
        frozen.mean[0] = 5


def test_blends_are_weighted_sums_with_normalised_weights():
    a, b = stats([0, 10], [1, 1]), stats([10, 0], [3, 5])
    mixed = blend_stats([(a, 3), (b, 1)])
    assert mixed.mean == pytest.approx([2.5, 7.5]) and mixed.std == pytest.approx([1.5, 2.0])
    assert blend_stats([(a, 0.7)]).same_as(a)
    for pairs, reason in (([(a, -1), (b, 1)], "at least 0"), ([(a, 0), (b, 0)], "above 0"), ([(a, 1)] * 5, "1 to 4"),
                          ([(a, 1), (stats([1], [1]), 1)], "different models"), ([(a, float("nan"))], "at least 0")):
        with pytest.raises(InputError, match=reason):
            blend_stats(pairs)


def test_presets_come_from_the_card_with_their_statistics(model):
    presets = {p.id: p for p in model.presets()}
    expected = preset_stats()
    assert list(presets) == ["starry-night", "great-wave", "held-out"]
    assert presets["starry-night"].name == "The Starry Night (van Gogh)" and presets["held-out"].held_out
    assert presets["great-wave"].stats.mean == pytest.approx(expected["great-wave"][0], rel=1e-5)
    with pytest.raises(InputError, match="no preset"):
        model.preset("mona-lisa")


@pytest.mark.parametrize("presets, reason", [
    ({"format": "genart-style-presets/1", "presets": [{"id": "a", "name": "A", "source": "a.jpg",
                                                       "mean": [0.0] * 3, "std": [1.0] * 3}]}, "6 numbers"),
    ((b'{"format": "genart-style-presets/1", "presets": [{"id": "a", "name": "A", "source": "a.jpg", '
      b'"mean": [NaN, 0, 0, 0, 0, 0], "std": [1, 1, 1, 1, 1, 1]}]}'), "NaN|finite"),
    (b"[" * 100 + b"]" * 100, "deep"),
    (b" " * (2 << 20), "larger|more than"),
    ({"format": "something-else", "presets": []}, "not a presets file"),
])
def test_a_bad_presets_file_is_refused_with_one_line(tmp_path, presets, reason):
    registry = registry_with(tmp_path, presets=presets)
    with pytest.raises(ModelError, match=reason) as caught:
        ArbitraryStyleModel.from_registry(registry, MODEL_ID)
    assert "\n" not in str(caught.value) and "presets.json" in str(caught.value)


def test_a_card_whose_channels_disagree_with_the_graph_is_refused(tmp_path):
    registry = registry_with(tmp_path, channels=CHANNELS)
    entry = registry.get(MODEL_ID)
    entry.card.config["channels"] = CHANNELS + 1
    with pytest.raises(ModelError, match="channels"):
        ArbitraryStyleModel.from_registry(registry, MODEL_ID)


def test_the_registry_checks_the_family_roles(tmp_path):
    registry = registry_with(tmp_path)
    assert [e.id for e in registry.models("style-arbitrary")] == [MODEL_ID]
    assert sorted(registry.get(MODEL_ID).roles) == ["encoder", "transfer"]


def test_measure_matches_the_encoder_and_fits_the_picture_to_style_side(model):
    picture = painting(1, side=64)  # style_side is 64 in the fixture: measured as it is
    mean, std = reference_stats(to_model(picture))
    measured = model.measure(picture)
    assert measured.mean == pytest.approx(mean, abs=1e-4) and measured.std == pytest.approx(std, abs=1e-4)
    from genart_desktop.core.images import resize

    large = resize(picture, 256, 256)
    assert model.measure(large).mean == pytest.approx(model.measure(resize(large, 64, 64)).mean, abs=1e-6)


def test_transparent_style_pixels_count_as_white(model):
    picture = np.dstack([painting(2, 64), np.full((64, 64), 255, np.uint8)])
    picture[:32, :, 3] = 0
    white = picture[..., :3].copy()
    white[:32] = 255
    assert model.measure(picture).same_as(model.measure(white))


def test_the_network_does_the_strength_with_whole_image_content_statistics(model):
    content = painting(5, 48)
    style = model.preset("starry-night").stats
    out = model.pipeline(style).apply(content, StyleSettings(strength=0.5))
    image = to_model(content)
    expected = reference_render(image, reference_stats(image), (style.mean, style.std), 0.5)
    levels = np.clip(np.rint((expected.transpose(1, 2, 0) + 1.0) * 127.5), 0, 255)
    assert np.abs(out.astype(int) - levels).max() <= 1
    assert np.array_equal(model.pipeline(style).apply(content, StyleSettings(strength=0.0)), content)


def test_two_tiles_equal_one_tile(tmp_path):
    registry = registry_with(tmp_path)
    whole = ArbitraryStyleModel.from_registry(registry, MODEL_ID)
    tiled = ArbitraryStyleModel.from_registry(registry, MODEL_ID, tile=64)
    content = painting(6, 96)[:, :, :]
    content = np.concatenate([content, painting(7, 96)[:, :40]], axis=1)  # 136 x 96: two tiles of 64 + overlap
    style = whole.preset("great-wave").stats
    pipeline = tiled.pipeline(style)
    assert len(pipeline.plan(96, 136)) >= 2 and len(whole.pipeline(style).plan(96, 136)) == 1
    one = whole.pipeline(style).apply(content, StyleSettings(strength=0.8))
    two = pipeline.apply(content, StyleSettings(strength=0.8))
    assert np.abs(one.astype(int) - two.astype(int)).max() <= 1


def test_colours_stroke_scale_and_alpha_use_the_style_machinery(model):
    content = np.dstack([painting(8, 64), np.full((64, 64), 200, np.uint8)])
    style = model.preset("great-wave").stats
    pipeline = model.pipeline(style)
    kept = pipeline.apply(content, StyleSettings(preserve_colors=True))
    assert kept.shape == content.shape and np.array_equal(kept[..., 3], content[..., 3])
    plain = pipeline.apply(content, StyleSettings())
    assert not np.array_equal(kept, plain)
    assert pipeline.work_size(64, 64, 2.0) == (32, 32)
    assert pipeline.preview(content, StyleSettings(), max_side=32).pixels.shape == (32, 32, 4)


def test_a_fixed_network_names_its_painting(tmp_path):
    folder = fixed_network_for_painting(tmp_path, "starry", "van_gogh_starry_night.jpg")
    registry = ModelRegistry(roots=[(tmp_path, "user")])
    assert painting_of(registry.get("starry").card) == "van_gogh_starry_night.jpg"
    fixed_network_for_painting(tmp_path / "other", "plain", None)
    assert painting_of(ModelRegistry(roots=[(tmp_path / "other", "user")]).get("plain").card) is None
    assert folder.is_dir()
