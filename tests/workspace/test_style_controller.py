"""The style palette's Qt-free controller on tiny ONNX style networks: preview, apply, selection, cancel, recipe."""

from __future__ import annotations

import types

import numpy as np
import pytest
from PIL import Image

from genart_desktop.core.errors import InputError, JobCancelled
from genart_desktop.document.document import Document
from genart_desktop.document.geometry import Rect
from genart_desktop.engine.events import Cancelled, Preview, Progress
from genart_desktop.engine.jobs import REPLACED, call_payload
from genart_desktop.engine.registry import ModelRegistry
from genart_desktop.workspace.style import StyleController
from genart_desktop.workspace.style_jobs import (
    PREVIEW_SIDE,
    StylePreviewImage,
    StyleRender,
    StyleRequest,
    StyleSnapshot,
    cut_to_mask,
    source_region,
    take_snapshot,
)
from genart_desktop.workspace.style_thumbnails import THUMB_SIDE, load_or_render_thumbnail, sample_scene
from genart_desktop.workspace.workspace import Workspace
from tests.fixtures import blocker, painted_document, style_registry
from tests.tiny_onnx import image_model, write_model_folder

TIMEOUT = 30


def style_workspace(registry, name="test-style") -> Workspace:
    """A Qt-free workspace (events reach the controller on the worker thread); plain functions run as blockers."""
    workspace = Workspace(registry, name=name)
    workspace.register(types.FunctionType, call_payload)
    return workspace


@pytest.fixture
def workspace(tmp_path):
    workspace = style_workspace(style_registry(tmp_path))
    yield workspace
    workspace.shutdown()


@pytest.fixture
def controller(workspace):
    control = StyleController(workspace)
    control.select("tiny-invert")
    return control


def events_of(workspace):
    """Every event the workspace delivers, in order (what the jobs panel sees)."""
    events = []
    workspace.event.connect(events.append)
    return events


def apply_and_land(controller, doc):
    """Apply; the controller lands the result itself when its Result event arrives. Returns the new layer."""
    layers = []
    controller.applied.connect(layers.append)
    handle = controller.apply(doc)
    assert handle.wait(TIMEOUT)
    controller.applied.disconnect(layers.append)
    return layers[0] if layers else None


def test_lists_only_style_models_and_rejects_other_choices(controller):
    assert [entry.id for entry in controller.models()] == ["tiny-invert", "tiny-wash"]
    with pytest.raises(Exception, match="no model 'nope'"):
        controller.select("nope")
    assert controller.model_id == "tiny-invert"
    empty = StyleController(controller.workspace)
    with pytest.raises(InputError, match="Choose a style"):
        empty.recipe()


def test_bad_settings_are_refused_and_change_nothing(controller):
    controller.set_settings(strength=0.5, scale=2.0)
    with pytest.raises(InputError, match="strength"):
        controller.set_settings(strength=1.5, scale=1.0)
    assert (controller.settings.strength, controller.settings.scale) == (0.5, 2.0)
    with pytest.raises(InputError, match="source"):
        controller.set_source("everything")
    assert controller.source == "layer"  # the default: the active layer, not earlier style results


def test_preview_runs_on_a_downscaled_copy_and_leaves_the_document_alone(controller):
    doc = painted_document(800, 600)
    before = doc.composite()
    preview = controller.preview(doc).result(TIMEOUT)
    assert isinstance(preview, StylePreviewImage)
    assert preview.pixels.shape == (PREVIEW_SIDE * 600 // 800, PREVIEW_SIDE, 4)
    assert preview.region == doc.rect and not preview.exact
    small = np.asarray(Image.fromarray(before).resize((384, 288), Image.Resampling.LANCZOS))
    assert np.abs(preview.pixels[..., :3].astype(int) - (255 - small[..., :3].astype(int))).max() <= 2
    np.testing.assert_array_equal(doc.composite(), before)
    assert not doc.can_undo and len(doc.layers) == 2


def test_previews_coalesce_so_only_the_latest_click_renders(controller, workspace):
    doc = painted_document()
    shown = []
    controller.preview_ready.connect(lambda preview, final: shown.append((preview.recipe.model_id, final)))
    release = blocker(workspace.runner, TIMEOUT)
    first = controller.preview(doc)
    controller.select("tiny-wash")
    second = controller.preview(doc)
    release.set()
    assert first.wait(TIMEOUT) and isinstance(first.outcome, Cancelled) and first.outcome.reason == REPLACED
    latest = second.result(TIMEOUT)
    assert latest.recipe.model_id == "tiny-wash"
    assert shown == [("tiny-wash", True)] and not controller.busy


def test_apply_adds_exactly_one_layer_and_one_undo_step_with_the_recipe(controller, workspace):
    doc = painted_document()
    before = doc.composite()
    controller.set_settings(strength=1.0, preserve_colors=False, scale=1.0)
    events = events_of(workspace)
    statuses = []
    controller.status.connect(lambda message, error: statuses.append((message, error)))
    layer = apply_and_land(controller, doc)
    assert len(doc.layers) == 3 and doc.active_layer is layer
    assert layer.name == "Style: Tiny Invert, strength 100%"
    assert layer.metadata == {"source": "style-palette", "model_id": "tiny-invert", "model_name": "Tiny Invert",
                              "strength": 1.0, "preserve_colors": False, "scale": 1.0, "input": "layer",
                              "region": [0, 0, 160, 120]}
    after = doc.composite()
    assert np.abs(after[..., :3].astype(int) - (255 - before[..., :3].astype(int))).max() <= 1
    assert doc.history.undo_count == 1
    tiles = [e for e in events if isinstance(e, Progress) and e.message.startswith("Tile")]
    assert tiles and tiles[-1].message == "Tile 1 of 1"
    assert any(isinstance(e, Preview) for e in events)  # the live look the jobs panel shows
    assert statuses[-1] == ("Added the layer \u201cStyle: Tiny Invert, strength 100%\u201d. Undo removes it.", False)
    doc.undo()
    assert len(doc.layers) == 2
    np.testing.assert_array_equal(doc.composite(), before)
    assert controller.applying == []


def test_strength_zero_gives_the_original(controller):
    doc = painted_document()
    before = doc.composite()
    controller.set_settings(strength=0.0)
    layer = apply_and_land(controller, doc)
    assert layer is not None and len(doc.layers) == 3
    np.testing.assert_array_equal(doc.composite(), before)


def test_selection_limits_the_result_and_outside_pixels_stay_untouched(controller):
    doc = painted_document()
    doc.select_rect(Rect(40, 30, 60, 50))
    doc.history.clear()
    before = doc.composite()
    region = source_region(doc)
    assert region == Rect(8, 0, 124, 112)  # the selection plus context, cut to the canvas
    layer = apply_and_land(controller, doc)
    after = doc.composite()
    outside = np.ones((120, 160), bool)
    outside[30:80, 40:100] = False
    np.testing.assert_array_equal(after[outside], before[outside])
    assert np.all(layer.pixels[outside][:, 3] == 0)
    inner = (slice(40, 70), slice(50, 90))  # 10 px inside: fully restyled
    assert np.abs(after[inner][..., :3].astype(int) - (255 - before[inner][..., :3].astype(int))).max() <= 1
    edge = layer.pixels[30, 50:90, 3]  # the selection's top row, away from its corners
    assert 0 < int(edge.min()) and int(edge.max()) < 128 and layer.pixels[55, 70, 3] == 255  # a soft inner edge
    assert layer.metadata["region"] == [8, 0, 124, 112]
    assert doc.history.undo_count == 1


def test_active_layer_source_restyles_only_that_layers_paint(controller):
    doc = Document(64, 48)
    spot = np.zeros((48, 64, 4), np.uint8)
    spot[10:20, 10:30] = (200, 40, 40, 255)
    doc.add_layer("Spot", pixels=spot)
    controller.set_source("layer")
    layer = apply_and_land(controller, doc)
    assert layer.metadata["input"] == "layer"
    np.testing.assert_array_equal(layer.pixels[..., 3], spot[..., 3])
    np.testing.assert_array_equal(layer.pixels[15, 15, :3], [55, 215, 215])


def test_cancel_while_waiting_leaves_the_document_untouched(controller, workspace):
    doc = painted_document()
    before = doc.composite()
    release = blocker(workspace.runner, TIMEOUT)
    handle = controller.apply(doc)
    assert controller.is_apply(handle.job_id)
    controller.cancel_applies()
    release.set()
    with pytest.raises(JobCancelled):
        handle.result(TIMEOUT)
    assert controller.applying == [] and len(doc.layers) == 2 and not doc.can_undo
    np.testing.assert_array_equal(doc.composite(), before)


def test_cancel_between_tiles_stops_the_render(tmp_path):
    workspace = style_workspace(style_registry(tmp_path, tile=64))
    control = StyleController(workspace)
    control.select("tiny-invert")
    doc = painted_document(400, 300)
    before = doc.composite()
    tiles: list[str] = []

    def listener(event):
        if isinstance(event, Progress) and event.message.startswith("Tile"):
            tiles.append(event.message)
            control.cancel_applies()

    workspace.event.connect(listener)
    handle = control.apply(doc)
    with pytest.raises(JobCancelled):
        handle.result(TIMEOUT)
    workspace.shutdown()
    assert tiles == [tiles[0]] and tiles[0].startswith("Tile 1 of ") and not tiles[0].endswith(" 1")
    assert control.applying == [] and control.land(handle.job_id, None, doc) is None
    assert len(doc.layers) == 2 and not doc.can_undo
    np.testing.assert_array_equal(doc.composite(), before)


def test_a_render_for_a_replaced_document_is_dropped(workspace):
    doc, other = painted_document(), Document(160, 120)
    controller = StyleController(workspace, current_document=lambda: other)  # the window now shows ``other``
    controller.select("tiny-invert")
    statuses = []
    controller.status.connect(lambda message, error: statuses.append(message))
    handle = controller.apply(doc)
    assert handle.wait(TIMEOUT) and isinstance(handle.result(), StyleRender)
    assert len(doc.layers) == 2 and len(other.layers) == 1 and controller.applying == []
    assert "the result was dropped" in statuses[-1]


def test_a_cli_request_and_a_dock_request_render_the_same_pixels(controller, workspace):
    """``genart style`` builds its request from an image with the dock's controller function: same pixels."""
    doc = painted_document()
    controller.set_settings(strength=0.7, preserve_colors=True, scale=1.5)
    layer = apply_and_land(controller, doc)
    request = controller.style_request(StyleSnapshot.of_image(doc.layers[1].pixels))
    assert isinstance(request, StyleRequest) and request.recipe == controller.recipe()
    render = workspace.run(request, request.label)
    assert render.pixels.tobytes() == layer.pixels.tobytes()


def test_snapshot_is_a_copy_taken_at_request_time():
    doc = painted_document()
    snap = take_snapshot(doc)
    doc.fill(5, 5, (0, 0, 0))
    assert not snap.pixels.flags.writeable and snap.mask is None
    assert tuple(snap.pixels[5, 5, :3]) != (0, 0, 0)


def test_cut_to_mask_keeps_a_feathered_selection_as_it_is():
    pixels = np.full((20, 20, 4), 255, np.uint8)
    soft = np.tile(np.linspace(0, 255, 20).astype(np.uint8), (20, 1))
    np.testing.assert_array_equal(cut_to_mask(pixels, soft)[..., 3], soft)
    np.testing.assert_array_equal(cut_to_mask(pixels, None), pixels)


def test_thumbnail_is_rendered_once_then_cached_and_a_card_thumbnail_wins(tmp_path, isolated_home):
    registry = style_registry(tmp_path)
    thumb = load_or_render_thumbnail(registry, "tiny-invert")
    assert thumb.shape == (THUMB_SIDE, THUMB_SIDE, 4)
    scene = sample_scene(THUMB_SIDE)
    assert np.abs(thumb[..., :3].astype(int) - (255 - scene[..., :3].astype(int))).max() <= 1
    cached = list((isolated_home / "cache" / "style-thumbnails").glob("tiny-invert-*.png"))
    assert len(cached) == 1
    Image.fromarray(np.zeros((THUMB_SIDE, THUMB_SIDE, 4), np.uint8) + 7).save(cached[0])  # the cache is read back
    assert int(load_or_render_thumbnail(registry, "tiny-invert")[0, 0, 0]) == 7

    folder = tmp_path / "carded"
    write_model_folder(folder, "with-thumb", "style", {"stylizer": image_model(scale=-1.0)},
                       thumbnail="thumb.png")
    Image.new("RGB", (200, 100), (10, 200, 30)).save(folder / "with-thumb" / "thumb.png")
    carded = ModelRegistry(roots=[(folder, "user")])
    image = load_or_render_thumbnail(carded, "with-thumb")
    assert image.shape == (48, 96, 4) and tuple(image[10, 10]) == (10, 200, 30, 255)
