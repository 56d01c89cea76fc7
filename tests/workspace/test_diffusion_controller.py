"""The diffusion dock's controller with tiny ONNX U-Nets on a real job runner (no Qt)."""

from __future__ import annotations

import dataclasses
import json
import threading
import types

import numpy as np
import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from genart_desktop.core.errors import InputError, ModelError
from genart_desktop.document.document import Document
from genart_desktop.document.geometry import Rect
from genart_desktop.engine.events import Preview, Progress
from genart_desktop.engine.jobs import JobRequest, call_payload
from genart_desktop.engine.registry import ModelRegistry
from genart_desktop.engine.pipelines.recipe import RECIPE_KEY, Recipe
from genart_desktop.workspace.diffusion import (
    FROM_CANVAS,
    GENERATE,
    INPAINT,
    LAYER_METADATA_KEY,
    DiffusionController,
    DiffusionSettings,
)
from genart_desktop.workspace.workspace import Workspace
from tests.fixtures import noise_document
from tests.tiny_onnx import sha256_of
from tests.workspace.tiny_diffusion import CLASS_COLOURS, UNCONDITIONAL_COLOUR, colour_pixels, diffusion_folder

RED = colour_pixels(CLASS_COLOURS[0])
PLAIN = colour_pixels(UNCONDITIONAL_COLOUR)


class Harness:
    """A controller on a real workspace; as in the app, events are posted by the worker and delivered on the test
    thread (the app's GUI thread) with ``workspace.deliver``."""

    def __init__(self, registry, **kw):
        self.events = []
        self.lock = threading.Lock()
        self.workspace = Workspace(registry, post=self._collect, name="test-diffusion")
        self.workspace.register(types.FunctionType, call_payload)  # plain functions (the blocker) run as before
        self.runner = self.workspace.runner
        self.controller = DiffusionController(self.workspace, **kw)
        self.on_event = None

    def _collect(self, event):
        with self.lock:
            self.events.append(event)
        if self.on_event is not None:
            self.on_event(event)

    def run(self, action, settings, doc=None):
        entries, shown = self.controller.submit(action, settings, doc)
        self.settle(entries)
        return entries, shown

    def settle(self, entries):
        for entry in entries:
            assert entry.handle.wait(20)
        with self.lock:
            events, self.events = self.events, []
        for event in events:
            self.workspace.deliver(event)
        return events

    def shutdown(self):
        self.workspace.shutdown()


@pytest.fixture
def registry(tmp_path):
    root = tmp_path / "models"
    diffusion_folder(root, "tiny-diffusion", conditioned=False)
    diffusion_folder(root, "tiny-class", conditioned=True)
    return ModelRegistry(roots=[(root, "user")])


@pytest.fixture
def harness(registry):
    h = Harness(registry, preview_every=2)
    yield h
    h.shutdown()


def settings(harness, model_id="tiny-diffusion", **changes):
    base = harness.controller.default_settings(model_id)
    return dataclasses.replace(base, **{"seed_mode": "fixed", "seed": 7, **changes})


def test_models_and_their_facts_come_from_the_cards(harness, registry):
    assert sorted(e.id for e in harness.controller.models()) == ["tiny-class", "tiny-diffusion"]
    info = harness.controller.info("tiny-class")
    assert info.conditioning == "class" and info.classes == ("red", "green", "blue")
    assert info.native_size == (16, 16) and info.default_steps == 8 and info.default_guidance == 2.0
    assert info.fingerprint == sha256_of(registry.get("tiny-class").files["unet"])[:16]
    plain = harness.controller.default_settings("tiny-diffusion")
    assert plain.guidance == 1.0 and (plain.width, plain.height) == (16, 16) and plain.steps == 8
    assert harness.controller.default_settings("tiny-class").class_label == "red"


def test_generate_stages_a_result_with_previews_and_its_full_recipe(harness):
    doc = noise_document(3)
    before = doc.composite().copy()
    entries, shown = harness.controller.submit(GENERATE, settings(harness), doc)
    assert shown == 7 and [e.state for e in entries] == ["queued"]
    events = harness.settle(entries)
    entry = entries[0]
    assert entry.state == "done" and harness.controller.staged == [entry]
    assert entry.pixels.shape == (16, 16, 3)
    assert np.abs(entry.pixels.astype(int) - PLAIN).max() <= 1
    previews = [e for e in events if isinstance(e, Preview)]
    assert len(previews) >= 2 and previews[0].image.shape == (16, 16, 3) and previews[0].image.dtype == np.uint8
    assert any(isinstance(e, Progress) and e.message.startswith("Step") for e in events)
    recipe = entry.recipe
    assert (recipe.model_id, recipe.seed, recipe.steps, recipe.sampler, recipe.mode) == (
        "tiny-diffusion", 7, 8, settings(harness).sampler, "txt2img")
    assert recipe.model_hash == harness.controller.info("tiny-diffusion").fingerprint != ""
    assert harness.controller.history[0].recipe == recipe
    assert harness.controller.history[0].thumbnail.shape == (16, 16, 3)
    np.testing.assert_array_equal(doc.composite(), before)  # nothing lands before accept
    assert not doc.can_undo


def test_seed_modes_and_batch_count(harness):
    fixed, shown = harness.run(GENERATE, settings(harness, batch_count=3))
    assert [e.recipe.seed for e in fixed] == [7, 8, 9] and shown == 7
    again, _ = harness.run(GENERATE, settings(harness, batch_count=1))
    np.testing.assert_array_equal(again[0].pixels, fixed[0].pixels)
    _, shown = harness.run(GENERATE, settings(harness, batch_count=2, seed_mode="increment"))
    assert shown == 9
    randoms, shown = harness.run(GENERATE, settings(harness, batch_count=2, seed_mode="random"))
    assert [e.recipe.seed for e in randoms] == [shown, shown + 1]
    assert len(harness.controller.staged) == 8 and len(harness.controller.history) == 8


def test_accept_adds_exactly_one_undoable_layer_with_the_recipe(harness):
    doc = noise_document(3)
    layers_before, before = len(doc.layers), doc.composite().copy()
    (entry,), _ = harness.run(GENERATE, settings(harness), doc)
    layer = harness.controller.accept(entry.id, doc)
    assert len(doc.layers) == layers_before + 1 and doc.history.undo_count == 1
    assert layer.metadata["source"] == "diffusion"
    assert Recipe.from_dict(layer.metadata[LAYER_METADATA_KEY]) == entry.recipe
    assert entry not in harness.controller.staged
    # a 16x16 result fits the 64x48 canvas as a centred 48x48 square
    assert (layer.pixels[:, 8:56, 3] == 255).all() and (layer.pixels[:, :8, 3] == 0).all()
    assert np.abs(layer.pixels[:, 8:56, :3].astype(int) - PLAIN).max() <= 2
    doc.undo()
    assert len(doc.layers) == layers_before
    np.testing.assert_array_equal(doc.composite(), before)
    with pytest.raises(InputError):
        harness.controller.accept(entry.id, doc)  # already accepted


def test_class_model_generates_into_the_selection_only(harness):
    doc = noise_document(3)
    doc.select_ellipse(Rect(10, 8, 30, 20))
    before = doc.composite().copy()
    (entry,), _ = harness.run(GENERATE, settings(harness, "tiny-class", class_label="red", guidance=1.0), doc)
    assert entry.recipe.class_label == "red" and entry.recipe.prompt == "red"
    harness.controller.accept(entry.id, doc)
    after = doc.composite()
    outside = doc.selection.mask == 0
    np.testing.assert_array_equal(after[outside], before[outside])
    inside = doc.selection.mask == 255
    assert np.abs(after[inside][:, :3].astype(int) - RED).max() <= 2


def test_inpaint_repaints_the_selection_and_keeps_every_unselected_pixel(harness):
    doc = noise_document(3)
    doc.select_rect(Rect(20, 12, 16, 16))
    before = doc.composite().copy()
    s = settings(harness, "tiny-class", class_label="red", guidance=1.0, strength=1.0, width=32, height=32)
    (entry,), _ = harness.run(INPAINT, s, doc)
    assert entry.recipe.mode == "inpaint" and entry.recipe.strength == 1.0
    # the region is the selection grown by context on every side, diffused at about 32x32
    assert entry.placement.rect == Rect(12, 4, 32, 32)
    harness.controller.accept(entry.id, doc)
    after = doc.composite()
    outside = doc.selection.mask == 0
    np.testing.assert_array_equal(after[outside], before[outside])
    core = after[15:25, 23:33, :3].astype(int)
    assert np.abs(core - RED).max() <= 12


def test_from_canvas_strength_zero_returns_the_canvas_and_strength_one_repaints(harness):
    doc = noise_document(3)
    before = doc.composite().copy()
    s = settings(harness, width=64, height=48, strength=0.0)
    (entry,), _ = harness.run(FROM_CANVAS, s, doc)
    assert (entry.recipe.width, entry.recipe.height, entry.recipe.mode) == (64, 48, "img2img")
    np.testing.assert_array_equal(entry.pixels, before[..., :3])
    (full,), _ = harness.run(FROM_CANVAS, dataclasses.replace(s, strength=1.0), doc)
    assert np.abs(full.pixels.astype(int) - PLAIN).max() <= 2
    harness.controller.accept(full.id, doc)
    assert np.abs(doc.composite()[..., :3].astype(int) - PLAIN).max() <= 2


def test_cancel_queued_and_running_jobs_leaves_the_document_untouched(harness):
    doc = noise_document(3)
    doc.select_rect(Rect(4, 4, 20, 20))
    before, layers, undo = doc.composite().copy(), len(doc.layers), doc.history.undo_count
    gate = threading.Event()
    blocker = harness.runner.submit(JobRequest(lambda context: gate.wait(10), "blocker"))
    entries, _ = harness.controller.submit(INPAINT, settings(harness, batch_count=2, steps=40), doc)
    first, second = entries
    assert harness.controller.cancel(second.id)  # still queued
    harness.on_event = lambda e: harness.runner.cancel(first.job_id) if (
        isinstance(e, Progress) and e.job_id == first.job_id and e.message.startswith("Step")) else None
    gate.set()
    blocker.wait(10)
    harness.settle(entries)
    assert first.state == second.state == "cancelled"
    assert harness.controller.staged == [] and harness.controller.history == []
    with pytest.raises(InputError):
        harness.controller.accept(first.id, doc)
    np.testing.assert_array_equal(doc.composite(), before)
    assert len(doc.layers) == layers and doc.history.undo_count == undo


def test_discard_removes_and_cancels(harness):
    (done,), _ = harness.run(GENERATE, settings(harness))
    harness.controller.discard(done.id)
    assert harness.controller.staged == [] and len(harness.controller.history) == 1
    with pytest.raises(InputError):
        harness.controller.discard(done.id)


def test_bad_requests_are_refused_before_anything_is_queued(harness):
    doc = noise_document(3)
    c = harness.controller
    with pytest.raises(InputError, match="Select the area"):
        c.submit(INPAINT, settings(harness), doc)
    with pytest.raises(InputError, match="classes"):
        c.submit(GENERATE, settings(harness, "tiny-class", class_label="purple"), doc)
    with pytest.raises(InputError, match="Steps"):
        c.submit(GENERATE, settings(harness, steps=0), doc)
    with pytest.raises(InputError, match="at most 100 steps"):
        c.submit(GENERATE, settings(harness, steps=400), doc)
    with pytest.raises(InputError, match="sampler"):
        c.submit(GENERATE, settings(harness, sampler="bogus"), doc)
    with pytest.raises(InputError, match="model"):
        c.submit(GENERATE, dataclasses.replace(settings(harness), model_id=""), doc)
    with pytest.raises(ModelError):
        c.submit(GENERATE, dataclasses.replace(settings(harness), model_id="nope"), doc)
    assert c.staged == [] and harness.runner.pending_count() == 0


def test_a_model_that_fails_to_load_marks_the_result_failed(registry):
    def broken(registry, model_id):
        raise ModelError("the U-Net file is damaged")

    h = Harness(registry, loader=broken)
    try:
        (entry,), _ = h.run(GENERATE, settings(h))
        assert entry.state == "failed" and "damaged" in entry.message
        with pytest.raises(InputError):
            h.controller.accept(entry.id, Document(8, 8))
    finally:
        h.shutdown()


def test_history_restore_gives_back_every_setting_and_the_same_image(harness):
    doc = noise_document(3)
    doc.select_rect(Rect(8, 8, 24, 16))
    s = settings(harness, "tiny-class", class_label="blue", guidance=3.5, steps=6, sampler="ddim", eta=0.5,
                 strength=0.8, width=24, height=24, seed=99)
    (entry,), _ = harness.run(FROM_CANVAS, s, doc)
    item = harness.controller.history[0]
    assert "seed 99" in item.summary and item.title == "blue"
    restored = harness.controller.restore(item.id, DiffusionSettings(batch_count=4))
    assert restored.model_id == "tiny-class" and restored.class_label == "blue"
    assert (restored.guidance, restored.steps, restored.sampler, restored.eta, restored.strength) == (
        3.5, 6, "ddim", 0.5, 0.8)
    assert (restored.seed, restored.seed_mode, restored.batch_count) == (99, "fixed", 4)
    assert (restored.width, restored.height) == (entry.recipe.width, entry.recipe.height)
    (again,), _ = harness.run(FROM_CANVAS, dataclasses.replace(restored, batch_count=1), doc)
    np.testing.assert_array_equal(again.pixels, entry.pixels)


def test_export_and_open_png_round_trip_the_recipe(harness, tmp_path):
    s = settings(harness, "tiny-class", class_label="green", guidance=2.0, seed=1234)
    (entry,), _ = harness.run(GENERATE, s)
    path = harness.controller.export_png(entry.id, tmp_path / "green.png")
    fresh = Harness(harness.controller.registry)
    try:
        opened, item = fresh.controller.open_png(path)
        assert item.recipe == entry.recipe and fresh.controller.history == [item]
        assert (opened.model_id, opened.class_label, opened.seed, opened.guidance) == ("tiny-class", "green", 1234, 2.0)
        info = PngInfo()
        info.add_itxt(RECIPE_KEY, json.dumps({**entry.recipe.to_dict(), "steps": -9}))
        Image.fromarray(entry.pixels).save(tmp_path / "bad.png", pnginfo=info)
        with pytest.raises(InputError, match="steps"):
            fresh.controller.open_png(tmp_path / "bad.png")
        assert fresh.controller.history == [item]  # a bad file changes nothing
    finally:
        fresh.shutdown()


@pytest.mark.slow
def test_stable_diffusion_folder_runs_through_the_same_controller(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("diffusers")
    pytest.importorskip("transformers")
    import warnings

    from tests.engine.tiny_sd import export_tiny_sd

    root = tmp_path / "models"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        export_tiny_sd(root / "tiny-sd", seed=0)
    registry = ModelRegistry(roots=[(root, "user")], settings={"execution_provider": "cpu", "intra_op_threads": 2})
    h = Harness(registry)
    try:
        info = h.controller.info("tiny-sd")
        assert (info.family, info.conditioning, info.native_size, info.size_step) == ("sd-onnx", "text", (16, 16), 16)
        assert info.can_start_from_image
        base = dataclasses.replace(h.controller.default_settings("tiny-sd"), prompt="a red fox", steps=4,
                                   seed_mode="fixed", seed=3, guidance=5.0)
        (entry,), _ = h.run(GENERATE, base)
        assert entry.state == "done", entry.message
        assert entry.pixels.shape == (16, 16, 3) and entry.recipe.model_hash  # the folder's fingerprint
        doc = noise_document(3)
        doc.select_rect(Rect(16, 16, 16, 16))
        before = doc.composite().copy()
        (inpainted,), _ = h.run(INPAINT, dataclasses.replace(base, strength=1.0, width=32, height=32), doc)
        assert inpainted.state == "done", inpainted.message
        h.controller.accept(inpainted.id, doc)
        outside = doc.selection.mask == 0
        np.testing.assert_array_equal(doc.composite()[outside], before[outside])
    finally:
        h.shutdown()
