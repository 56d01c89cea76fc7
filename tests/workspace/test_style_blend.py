"""The style controller with the arbitrary model: presets, pictures and the user's styles as choices, blends of
2 to 4 with weights, fixed networks standing in as their paintings, layer names, and unlisted previews."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from genart_desktop.core.errors import InputError
from genart_desktop.engine.pipelines.arbitrary_style import (
    ArbitraryStyleModel,
    blend_stats,
)
from genart_desktop.engine.pipelines.style import StyleSettings
from genart_desktop.engine.registry import ModelRegistry
from genart_desktop.workspace.style import StyleController
from genart_desktop.workspace.style_jobs import StylePreviewImage
from genart_desktop.workspace.style_library import StyleLibrary
from genart_desktop.workspace.style_thumbnails import (
    THUMB_SIDE,
    load_or_render_thumbnail,
    sample_scene,
)
from genart_desktop.workspace.workspace import Workspace
from tests.fixtures import painted_document
from tests.fixtures_arbitrary_style import (
    MODEL_ID,
    arbitrary_folder,
    fixed_network_for_painting,
    painting,
)
from tests.workspace.test_style_controller import TIMEOUT, apply_and_land


def blend_registry(tmp_path, arbitrary: bool = True) -> ModelRegistry:
    root = tmp_path / "models"
    if arbitrary:
        arbitrary_folder(root)
    fixed_network_for_painting(root, "starry", "van_gogh_starry_night.jpg")
    fixed_network_for_painting(root, "plain", None)
    return ModelRegistry(roots=[(root, "user")], settings={"session_cache_size": 6})


@pytest.fixture
def workspace(tmp_path):
    workspace = Workspace(blend_registry(tmp_path), name="test-blend")
    yield workspace
    workspace.shutdown()


@pytest.fixture
def controller(workspace):
    return StyleController(workspace)


def engine_render(registry, pixels, pairs, settings):
    """What the engine makes of ``pairs`` of (stats, weight) on its own: the reference for the controller."""
    model = ArbitraryStyleModel.from_registry(registry, MODEL_ID)
    return model.pipeline(blend_stats(pairs)).apply(pixels, settings)


def test_options_are_networks_presets_and_user_styles(controller, tmp_path):
    assert [(o.choice, o.kind) for o in controller.options()] == [
        ("plain", "network"), ("starry", "network"), ("preset:starry-night", "preset"),
        ("preset:great-wave", "preset"), ("preset:held-out", "preset")]
    Image.fromarray(painting(9, 40)).save(tmp_path / "mine.png")
    added = controller.add_style_from_image(tmp_path / "mine.png")
    assert controller.options()[-1] == added and added.name == "mine"


def test_a_fixed_network_alone_runs_as_before(controller):
    controller.select("starry")
    recipe = controller.recipe()
    assert recipe.model_id == "starry" and recipe.picks == ()


def test_a_blend_renders_the_engine_blend_and_names_the_layer(controller, workspace):
    doc = painted_document(64, 48)
    controller.select_many(["preset:starry-night", "preset:great-wave"], [0.7, 0.3])
    controller.set_settings(strength=0.8)
    layer = apply_and_land(controller, doc)
    assert layer.name == "Style: The Starry Night (van Gogh) 70% + The Great Wave (Hokusai) 30%, strength 80%"
    assert doc.history.undo_count == 1
    assert [s["weight"] for s in layer.metadata["styles"]] == [0.7, 0.3]
    model = ArbitraryStyleModel.from_registry(workspace.registry, MODEL_ID)
    pairs = [(model.preset("starry-night").stats, 0.7), (model.preset("great-wave").stats, 0.3)]
    expected = engine_render(workspace.registry, doc.layers[-2].pixels, pairs, StyleSettings(strength=0.8))
    np.testing.assert_array_equal(layer.pixels, expected)
    controller.set_weight("preset:great-wave", 0.0)
    assert controller.recipe().model_name == "The Starry Night (van Gogh) 100% + The Great Wave (Hokusai) 0%"


def test_a_fixed_network_blends_as_its_painting_and_one_without_is_refused(controller):
    controller.select_many(["starry", "preset:great-wave"])
    picks = controller.recipe().picks
    assert [(p.choice, p.preset, p.weight) for p in picks] == [("starry", "starry-night", 1.0),
                                                             ("preset:great-wave", "great-wave", 1.0)]
    with pytest.raises(InputError, match="Plain cannot be blended"):
        controller.select_many(["plain", "preset:great-wave"])
    assert [c for c, _w in controller.choices] == ["starry", "preset:great-wave"]


def test_a_user_style_is_measured_from_its_stored_picture(controller, workspace):
    doc = painted_document(48, 40)
    option = controller.add_style_from_layer(doc)
    assert option.name == "Painting"
    controller.select(option.choice)
    layer = apply_and_land(controller, doc)
    model = ArbitraryStyleModel.from_registry(workspace.registry, MODEL_ID)
    stats = model.measure(controller.library.pixels(option.choice.split(":")[1]))
    np.testing.assert_array_equal(layer.pixels, engine_render(workspace.registry, doc.layers[-2].pixels,
                                                              [(stats, 1.0)], StyleSettings()))
    assert layer.name == "Style: Painting, strength 100%"
    controller.remove_style(option.choice)
    assert controller.choices == () and option.choice not in [o.choice for o in controller.options()]


def test_choices_are_checked_before_anything_changes(controller):
    controller.select("preset:great-wave")
    for choices, reason in ((["preset:nope"], "no preset"), (["a", "b", "c", "d", "e"], "1 to 4"),
                            (["user:000000000000"], "no user style"), (["preset:great-wave"] * 2, "different")):
        with pytest.raises(InputError, match=reason):
            controller.select_many(choices)
    assert controller.choices == (("preset:great-wave", 1.0),)


def test_without_the_arbitrary_model_presets_and_pictures_are_refused(tmp_path):
    workspace = Workspace(blend_registry(tmp_path, arbitrary=False), name="test-no-arbitrary")
    try:
        controller = StyleController(workspace, library=StyleLibrary(tmp_path / "styles"))
        assert [o.kind for o in controller.options()] == ["network", "network"]
        with pytest.raises(InputError, match="arbitrary style model"):
            controller.select("preset:great-wave")
        with pytest.raises(InputError, match="arbitrary style model"):
            controller.add_style_from_layer(painted_document(16, 16))
        with pytest.raises(InputError, match="arbitrary style model"):
            controller.select_many(["starry", "plain"])
        controller.select("starry")  # a fixed network alone still runs
        assert controller.recipe().picks == ()
        assert not (tmp_path / "styles").exists()  # nothing written
    finally:
        workspace.shutdown()


def test_previews_are_not_listed_and_show_only_the_current_blend(controller, workspace):
    shown = []
    controller.preview_ready.connect(lambda preview, final: shown.append(preview))
    controller.select_many(["preset:starry-night", "preset:great-wave"], [1, 1])
    handle = controller.preview(painted_document(64, 48))
    assert handle.wait(TIMEOUT)
    assert not workspace.runner.is_listed(handle.job_id)
    assert isinstance(shown[-1], StylePreviewImage) and shown[-1].recipe.key == controller.choices
    controller.set_weight("preset:great-wave", 3.0)
    stale = controller.preview(painted_document(64, 48))
    controller.choices = (("preset:starry-night", 1.0),)  # the choice moved on before the preview came back
    assert stale.wait(TIMEOUT) and len(shown) == 1


def test_a_preset_thumbnail_is_the_models_render_and_is_cached(workspace, isolated_home):
    registry = workspace.registry
    first = load_or_render_thumbnail(registry, MODEL_ID, preset="great-wave")
    model = ArbitraryStyleModel.from_registry(registry, MODEL_ID)
    expected = model.pipeline(model.preset("great-wave").stats).apply(sample_scene(THUMB_SIDE), StyleSettings())
    np.testing.assert_array_equal(first, expected)
    cached = list((isolated_home / "cache" / "style-thumbnails").glob(f"{MODEL_ID}-great-wave-*.png"))
    assert len(cached) == 1
    np.testing.assert_array_equal(load_or_render_thumbnail(registry, MODEL_ID, preset="great-wave"), first)
    with pytest.raises(InputError, match="no preset"):
        load_or_render_thumbnail(registry, MODEL_ID, preset="nope")
