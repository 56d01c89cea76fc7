"""Layer > Upscale without Qt on a 1920x1080 document and a tiny x2 upscaler: the layer and the selection land as
one undoable layer of the enlarged size; Lanczos without a model; errors and cancels change nothing."""

from __future__ import annotations

import threading
import types

import numpy as np
import pytest

from genart_desktop.core.errors import InputError
from genart_desktop.document.document import Document
from genart_desktop.document.geometry import Rect
from genart_desktop.document.selection import mask_bounds
from genart_desktop.engine.jobs import call_payload
from genart_desktop.engine.registry import ModelRegistry
from genart_desktop.workspace.upscale import (LANCZOS, UpscaleController, UpscaleRequest, landing_origin,
                                              pick_model, upscale_to)
from genart_desktop.workspace.workspace import Workspace
from tests.engine.tiny_upscaler import write_upscaler_folder
from tests.fixtures import blocker

TIMEOUT = 60


@pytest.fixture
def registry(tmp_path):
    write_upscaler_folder(tmp_path / "models", scale=2, tile=64, overlap=8)
    return ModelRegistry(roots=[(tmp_path / "models", "user")], settings={"execution_provider": "cpu"})


@pytest.fixture
def workspace(registry):
    workspace = Workspace(registry, name="test-upscale")
    yield workspace
    workspace.shutdown()


def hd_document() -> Document:
    """1920x1080 with a 200x120 picture on a transparent layer above the background."""
    doc = Document(1920, 1080)
    picture = np.zeros((120, 200, 4), np.uint8)
    yy, xx = np.mgrid[0:120, 0:200]
    picture[..., 0], picture[..., 1], picture[..., 2] = xx, yy * 2, 255 - xx
    picture[..., 3] = 255
    doc.add_layer("Picture", pixels=picture, origin=(300, 200))
    doc.history.clear()
    return doc


def run_and_wait(controller, document, **options):
    done = threading.Event()
    landed = []
    controller.applied.connect(lambda layer: (landed.append(layer), done.set()))
    controller.status.connect(lambda message, error: done.set() if error else None)
    controller.upscale(document, **options)
    assert done.wait(TIMEOUT)
    return landed


def test_layer_upscale_lands_as_one_undoable_layer_twice_the_size(workspace):
    doc = hd_document()
    controller = UpscaleController(workspace)
    landed = run_and_wait(controller, doc, source="layer", scale=2)
    assert len(landed) == 1 and len(doc.layers) == 3
    layer = doc.active_layer
    assert layer is landed[0] and layer.pixels.shape == (1080, 1920, 4)
    bounds = mask_bounds(layer.pixels[..., 3])
    assert (bounds.width, bounds.height) == (400, 240)
    assert (bounds.x + 200, bounds.y + 120) == (300 + 100, 200 + 60)  # centred on the picture it came from
    assert layer.metadata["upscale"]["model"] == "tiny-upscaler"
    assert doc.undo() and len(doc.layers) == 2 and not doc.can_undo


def test_selection_upscale_enlarges_only_the_selection(workspace):
    doc = hd_document()
    doc.select_rect(Rect(320, 220, 50, 40))
    doc.history.clear()
    controller = UpscaleController(workspace)
    run_and_wait(controller, doc, source="selection", scale=4)  # a x2 model: twice over
    bounds = mask_bounds(doc.active_layer.pixels[..., 3])
    assert (bounds.width, bounds.height) == (200, 160)
    assert doc.active_layer.metadata["upscale"]["source"] == "selection"
    doc.undo()
    assert len(doc.layers) == 2


def test_without_an_upscaler_lanczos_does_the_work(tmp_path):
    empty = ModelRegistry(roots=[(tmp_path, "user")], settings={"execution_provider": "cpu"})
    assert pick_model(empty, 4) is None
    workspace = Workspace(empty, name="test-upscale-lanczos")
    try:
        controller = UpscaleController(workspace)
        request = controller.request(hd_document(), "layer", 2)
        assert request.model_id is None and LANCZOS in request.label
        result = workspace.run(request, request.label)
        assert result.pixels.shape == (240, 400, 4)
    finally:
        workspace.shutdown()
    small = np.full((16, 16, 3), 90, np.uint8)
    assert upscale_to(small, 64, 40, empty).shape == (40, 64, 3)


def test_upscale_to_uses_the_installed_model(registry):
    picture = np.random.default_rng(0).integers(0, 256, (24, 32, 3)).astype(np.uint8)
    ours = upscale_to(picture, 128, 96, registry)
    plain = upscale_to(picture, 128, 96, None)
    assert ours.shape == plain.shape == (96, 128, 3) and not np.array_equal(ours, plain)


def test_empty_sources_and_bad_requests_change_nothing(workspace):
    doc = Document(64, 64, background=None)
    controller = UpscaleController(workspace)
    with pytest.raises(InputError, match="empty"):
        controller.upscale(doc, source="layer")
    with pytest.raises(InputError, match="Select"):
        controller.upscale(doc, source="selection")
    with pytest.raises(InputError, match="2 or 4"):
        UpscaleRequest(None, 3, np.zeros((4, 4, 3), np.uint8))
    assert len(doc.layers) == 1 and not doc.can_undo


def test_a_failed_model_reports_and_leaves_the_canvas(workspace):
    doc = hd_document()
    controller = UpscaleController(workspace)
    messages = []
    done = threading.Event()
    controller.status.connect(lambda message, error: (messages.append(message), done.set()) if error else None)
    controller.upscale(doc, model_id="no-such-model")
    assert done.wait(TIMEOUT)
    assert "no-such-model" in messages[0] and "unchanged" in messages[0]
    assert len(doc.layers) == 2 and not controller.busy


def test_landing_origin_centres_and_stays_inside():
    canvas = Rect(0, 0, 100, 100)
    assert landing_origin(Rect(40, 40, 10, 10), (20, 20), canvas) == (35, 35)
    assert landing_origin(Rect(0, 0, 10, 10), (40, 40), canvas) == (0, 0)
    assert landing_origin(Rect(0, 0, 100, 100), (200, 200), canvas) == (-50, -50)


def test_a_cancelled_upscale_leaves_the_canvas(workspace):
    workspace.register(types.FunctionType, call_payload)
    release = blocker(workspace.runner)
    doc = hd_document()
    controller = UpscaleController(workspace)
    done = threading.Event()
    messages = []
    controller.status.connect(lambda message, error: (messages.append(message),
                                                      done.set() if "Cancelled" in message else None))
    controller.upscale(doc, source="layer", scale=4)
    controller.cancel()
    release.set()
    assert done.wait(TIMEOUT)
    assert len(doc.layers) == 2 and not doc.can_undo and not controller.busy


def test_the_cards_self_ensemble_is_used_unless_a_request_asks_otherwise(tmp_path):
    from genart_desktop.core.errors import ModelError
    from genart_desktop.workspace.upscale import open_upscaler

    root = tmp_path / "models"
    write_upscaler_folder(root, "best", scale=2, self_ensemble=4)
    write_upscaler_folder(root, "broken", scale=2, self_ensemble=3)
    registry = ModelRegistry(roots=[(root, "user")], settings={"execution_provider": "cpu"})
    assert open_upscaler(registry, "best").ensemble == 4
    assert open_upscaler(registry, "best", ensemble=1).ensemble == 1
    with pytest.raises(ModelError, match="^Model 'broken': The card's config.self_ensemble must be one of"):
        open_upscaler(registry, "broken")
    with pytest.raises(InputError, match="runs per tile"):
        UpscaleRequest("best", 2, np.zeros((4, 4, 3), np.uint8), ensemble=5)
    picture = np.random.default_rng(0).integers(0, 256, (24, 32, 3)).astype(np.uint8)
    best = upscale_to(picture, 64, 48, registry, "best")
    one = open_upscaler(registry, "best", ensemble=1).upscale(picture)
    assert best.shape == one.shape and np.abs(best.astype(int) - one.astype(int)).max() > 0
