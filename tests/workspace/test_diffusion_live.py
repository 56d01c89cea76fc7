"""Live mode (issue 20), Qt-free: changes coalesce into few frames of the newest canvas, a fixed seed gives stable
frames, Keep lands one undoable layer on a 1920x1080 document, disabling cancels. Events are posted by the worker
and delivered on the test thread, as the app's bridge does."""

from __future__ import annotations

import dataclasses
import queue
import threading

import numpy as np
import pytest

from genart_desktop.core.errors import InputError
from genart_desktop.document.document import Document
from genart_desktop.document.geometry import Rect
from genart_desktop.engine.events import Cancelled
from genart_desktop.engine.pipelines.generator import GenerationOutput
from genart_desktop.engine.registry import ModelRegistry
from genart_desktop.workspace.diffusion import LAYER_METADATA_KEY, DiffusionController
from genart_desktop.workspace.diffusion_live import LiveController, LiveFrame
from genart_desktop.workspace.diffusion_models import load_generator
from genart_desktop.workspace.workspace import Workspace
from tests.workspace.tiny_diffusion import diffusion_folder


class EchoModel:
    """Stands in for a loaded generator: returns the init picture plus noise drawn from the recipe's seed, so a
    frame shows both which canvas it read and which seed it used. ``gate`` (an Event) holds a frame back."""

    def __init__(self, gate: threading.Event | None = None) -> None:
        self.gate = gate
        self.calls = 0

    def render(self, recipe, init=None, mask=None, control=None):
        self.calls += 1
        if self.gate is not None:
            self.gate.wait(10)
        noise = np.random.default_rng(recipe.seed).integers(-3, 4, init.shape)
        return GenerationOutput(np.clip(init.astype(int) + noise, 0, 255).astype(np.uint8), recipe)


class Live:
    """A live controller on a real workspace whose events the test delivers (``pump``)."""

    def __init__(self, registry, model=None):
        self.events: queue.Queue = queue.Queue()
        self.workspace = Workspace(registry, post=self.events.put, name="test-live")
        loader = (lambda _registry, _id: model) if model is not None else load_generator
        self.diffusion = DiffusionController(self.workspace, preview_every=0, loader=loader)
        self.live = LiveController(self.diffusion)
        self.frames: list[LiveFrame | None] = []
        self.live.frame_changed.connect(self.frames.append)

    def pump(self, timeout: float = 30.0) -> None:
        """Deliver events until no frame is in flight."""
        while self.live.busy:
            self.workspace.deliver(self.events.get(timeout=timeout))
        while not self.events.empty():
            self.workspace.deliver(self.events.get_nowait())


@pytest.fixture
def registry(tmp_path):
    root = tmp_path / "models"
    diffusion_folder(root, "tiny-diffusion", conditioned=False)
    return ModelRegistry(roots=[(root, "user")])


@pytest.fixture
def make(registry):
    made = []

    def build(model=None, doc=None, **settings):
        harness = Live(registry, model)
        base = harness.diffusion.default_settings("tiny-diffusion")
        harness.diffusion.set_settings(dataclasses.replace(base, seed=11, strength=0.5, **settings))
        harness.live.set_document(doc if doc is not None else flat_document(64, 48, (200, 40, 40)))
        made.append(harness)
        return harness

    yield build
    for harness in made:
        harness.workspace.shutdown()


def flat_document(width, height, colour):
    doc = Document(width, height)
    doc.add_layer("Paint", pixels=np.full((height, width, 4), (*colour, 255), np.uint8))
    doc.history.clear()
    return doc


def paint(doc, colour):
    assert doc.fill(1, 1, colour, tolerance=255)


def test_a_burst_of_changes_renders_few_frames_and_the_last_shows_the_last_change(make):
    h = make(EchoModel())
    h.live.set_enabled(True)
    colours = [(10 * i, 255 - 10 * i, 7 * i, 255) for i in range(20)]
    for colour in colours:
        paint(h.live.document, colour)
    h.pump()
    assert h.live.frames_submitted <= 2
    shown = [f for f in h.frames if f is not None]
    assert 1 <= len(shown) <= 2
    last = h.live.frame
    assert last is shown[-1] and last.revision == h.live._revision
    assert np.abs(last.pixels.reshape(-1, 3).mean(0) - colours[-1][:3]).max() < 2.0
    assert last.recipe.mode == "img2img" and last.recipe.steps == 8  # fewer steps while live
    assert h.live.document.layers[-1].name == "Paint"  # frames are never layers


def test_the_same_canvas_gives_the_identical_frame_with_the_fixed_seed(make):
    h = make(EchoModel(), seed_mode="random")
    h.live.set_enabled(True)
    h.pump()
    first = h.live.frame
    paint(h.live.document, (0, 90, 200, 255))
    h.pump()
    paint(h.live.document, (200, 40, 40, 255))  # back to the first canvas
    h.pump()
    again = h.live.frame
    assert again is not first and again.recipe.seed == first.recipe.seed == 11
    assert np.array_equal(again.pixels, first.pixels) and np.array_equal(again.preview, first.preview)


def test_changing_strength_or_prompt_re_renders_and_steps_come_back_after(make):
    h = make(EchoModel())
    h.live.set_enabled(True)
    h.pump()
    first = h.live.frame
    h.diffusion.set_settings(dataclasses.replace(h.diffusion.settings, strength=0.8))
    h.pump()
    assert h.live.frame is not first and h.live.frame.recipe.strength == 0.8
    h.live.set_enabled(False)
    assert h.diffusion.settings.steps == h.diffusion.info("tiny-diffusion").default_steps
    assert h.live.frame is None and h.frames[-1] is None


def test_keep_lands_one_undoable_layer_on_the_selection_of_a_1920x1080_canvas(make):
    doc = flat_document(1920, 1080, (30, 120, 200))
    region = Rect(300, 200, 640, 360)
    doc.select_rect(region)
    h = make(doc=doc)  # the real tiny U-Net through RecipeGenerator.render
    with pytest.raises(InputError):
        h.live.keep()
    h.live.set_enabled(True)
    h.pump()
    frame = h.live.frame
    assert frame.region == region and frame.preview.shape[:2] == (region.height * 512 // 640, 512)
    count = len(doc.layers)
    layer = h.live.keep()
    assert len(doc.layers) == count + 1 and layer.pixels.shape == (1080, 1920, 4)
    ys, xs = np.nonzero(layer.pixels[..., 3])
    assert (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1) == (region.x, region.y, region.right, region.bottom)
    assert layer.metadata[LAYER_METADATA_KEY]["seed"] == 11
    doc.undo()
    assert len(doc.layers) == count


def test_disabling_cancels_the_frame_in_flight_and_shows_nothing(make):
    gate = threading.Event()
    h = make(EchoModel(gate))
    h.live.set_enabled(True)
    job = h.live._in_flight
    assert job is not None
    h.live.set_enabled(False)
    gate.set()
    event = h.events.get(timeout=10)
    while not isinstance(event, Cancelled):
        h.workspace.deliver(event)
        event = h.events.get(timeout=10)
    assert event.job_id == job
    h.workspace.deliver(event)
    assert not h.live.busy and h.live.frame is None and [f for f in h.frames if f is not None] == []


def test_a_model_that_cannot_start_from_an_image_is_refused(make, monkeypatch):
    h = make(EchoModel())
    info = h.diffusion.info("tiny-diffusion")
    monkeypatch.setattr(h.diffusion, "info", lambda _id: dataclasses.replace(info, can_start_from_image=False))
    with pytest.raises(InputError, match="cannot start from an image"):
        h.live.set_enabled(True)
    assert not h.live.enabled and not h.live.busy


@pytest.mark.slow
def test_a_stable_diffusion_folder_follows_the_painting_through_the_same_path(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("diffusers")
    pytest.importorskip("transformers")
    import warnings

    from tests.engine.tiny_sd import export_tiny_sd

    root = tmp_path / "sd-models"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        export_tiny_sd(root / "tiny-sd", seed=0)
    h = Live(ModelRegistry(roots=[(root, "user")], settings={"execution_provider": "cpu", "intra_op_threads": 2}))
    try:
        base = h.diffusion.default_settings("tiny-sd")
        h.diffusion.set_settings(dataclasses.replace(base, prompt="a red fox", seed=5, guidance=5.0))
        h.live.set_document(flat_document(96, 64, (40, 160, 90)))
        h.live.set_enabled(True)
        h.pump()
        first = h.live.frame
        assert first is not None and first.recipe.model_id == "tiny-sd" and first.recipe.mode == "img2img"
        assert first.preview.shape == (64, 96, 4) and first.recipe.seed == 5
        h.live.invalidate()  # render the same picture again: the same frame
        h.pump()
        assert h.live.frame is not first and np.array_equal(h.live.frame.pixels, first.pixels)
        layer = h.live.keep()
        assert layer.pixels.shape == (64, 96, 4)
    finally:
        h.workspace.shutdown()
