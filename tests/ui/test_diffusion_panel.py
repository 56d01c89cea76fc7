"""The diffusion dock driven with pytest-qt: tiny ideal U-Nets built in the tests, jobs on a real runner."""

from __future__ import annotations

import json
import threading
import types

import numpy as np
import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo
from PySide6.QtCore import Qt

from genart_desktop.document.document import Document
from genart_desktop.document.geometry import Rect
from genart_desktop.engine.events import Preview
from genart_desktop.engine.jobs import JobRequest, call_payload
from genart_desktop.engine.pipelines.recipe import RECIPE_KEY
from genart_desktop.engine.registry import ModelRegistry
from genart_desktop.ui.diffusion_panel import DiffusionPanel, install_diffusion_panel
from genart_desktop.ui.job_bridge import JobBridge
from genart_desktop.workspace.diffusion import LAYER_METADATA_KEY, DiffusionController
from genart_desktop.workspace.recipe_png import read_recipe
from genart_desktop.workspace.workspace import Workspace
from tests.fixtures import noise_document
from tests.workspace.tiny_diffusion import CLASS_COLOURS, UNCONDITIONAL_COLOUR, colour_pixels, diffusion_folder

WAIT_MS = 15_000
RED, GREEN = colour_pixels(CLASS_COLOURS[0]), colour_pixels(CLASS_COLOURS[1])


def model_root(tmp_path):
    root = tmp_path / "models"
    diffusion_folder(root, "tiny-diffusion", conditioned=False)
    diffusion_folder(root, "tiny-class", conditioned=True)
    diffusion_folder(root, "tiny-text", conditioned="text")
    return root


@pytest.fixture
def doc():
    return noise_document(5)


@pytest.fixture
def workspace(qtbot, tmp_path):
    """The app's wiring: a workspace whose events reach the GUI thread through a bridge; plain functions (the
    blockers) run as jobs too."""
    bridge = JobBridge()
    workspace = Workspace(ModelRegistry(roots=[(model_root(tmp_path), "user")]), post=bridge.post,
                          name="test-diffusion-panel")
    bridge.event.connect(workspace.deliver)
    workspace.register(types.FunctionType, call_payload)
    workspace.bridge = bridge
    yield workspace
    workspace.shutdown()


@pytest.fixture
def runner(workspace):
    return workspace.runner


@pytest.fixture
def panel(qtbot, workspace, doc):
    widget = DiffusionPanel(DiffusionController(workspace), lambda: doc)
    qtbot.addWidget(widget)
    widget.resize(420, 1000)
    widget.show()
    return widget


def rewrite_recipe(source, target, **changes):
    """Copy a recipe PNG with some recipe values replaced (as a hand-edited or damaged file would have them)."""
    with Image.open(source) as image:
        data = json.loads(image.text[RECIPE_KEY])
        data.update(changes)
        info = PngInfo()
        info.add_itxt(RECIPE_KEY, json.dumps(data))
        image.save(target, pnginfo=info)


def choose(panel, model_id):
    panel.model_combo.setCurrentIndex(panel.model_combo.findData(model_id))
    assert panel.current_settings().model_id == model_id


def settle(qtbot, panel):
    qtbot.waitUntil(lambda: not panel.busy, timeout=WAIT_MS)


def click(qtbot, button):
    assert button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def generate_one(qtbot, panel, prompt, seed=3):
    """Type ``prompt``, fix the seed, press Generate and wait: the single staged entry."""
    panel.prompt_edit.setPlainText(prompt)
    panel.seed_control.set_mode("fixed")
    panel.seed_control.set_value(seed)
    click(qtbot, panel.generate_button)
    settle(qtbot, panel)
    (entry,) = panel.controller.staged
    return entry


def test_controls_follow_the_model_kind(panel):
    assert {panel.model_combo.itemData(i) for i in range(panel.model_combo.count())} == {
        "tiny-class", "tiny-diffusion", "tiny-text"}
    choose(panel, "tiny-diffusion")
    assert panel.condition_stack.currentWidget() is panel._pages["none"] and not panel.guidance_spin.isEnabled()
    choose(panel, "tiny-class")
    assert panel.condition_stack.currentWidget() is panel._pages["class"]
    assert [panel.class_combo.itemText(i) for i in range(panel.class_combo.count())] == ["red", "green", "blue"]
    assert panel.guidance_spin.value() == 2.0 and panel.steps_spin.value() == 8
    choose(panel, "tiny-text")
    assert panel.condition_stack.currentWidget() is panel._pages["text"]
    assert panel.prompt_edit.isVisible() and panel.negative_edit.isVisible()
    assert (panel.width_spin.value(), panel.height_spin.value()) == (16, 16)
    assert not panel.inpaint_button.isEnabled()  # nothing selected yet


def test_prompt_words_the_model_never_learned_are_pointed_out(panel):
    choose(panel, "tiny-text")
    vocabulary = panel._info.vocabulary
    assert vocabulary and "knows" in panel.prompt_edit.toolTip()
    panel.prompt_edit.setPlainText(vocabulary[0])
    assert panel.prompt_hint.isHidden()
    panel.prompt_edit.setPlainText(f"{vocabulary[0]} zebra")  # max_tokens 1: the second word is never read
    assert not panel.prompt_hint.isHidden() and "zebra" in panel.prompt_hint.text()
    panel.prompt_edit.setPlainText("Zebra")
    assert "zebra" in panel.prompt_hint.text()
    choose(panel, "tiny-class")
    assert panel.prompt_hint.isHidden()  # class models have no vocabulary to check against


def test_prompt_placeholder_offers_the_cards_example_prompts(panel):
    choose(panel, "tiny-text")
    info = panel._info
    assert info.examples and all(f'"{e}"' in panel.prompt_edit.placeholderText() for e in info.examples)


def test_generate_stages_live_previews_then_accept_adds_one_undoable_layer(qtbot, panel, doc):
    choose(panel, "tiny-text")
    panel.prompt_edit.setPlainText("green")
    panel.seed_control.set_mode("fixed")
    panel.seed_control.set_value(11)
    panel.steps_spin.setValue(12)
    panel.batch_spin.setValue(2)
    previews = []
    panel.controller.workspace.event.connect(
        lambda event: previews.append(event.image.shape) if isinstance(event, Preview) else None)
    click(qtbot, panel.generate_button)
    assert panel.strip.count() == 2
    settle(qtbot, panel)
    assert len(previews) >= 4 and previews[0] == (16, 16, 3)
    entries = panel.controller.staged
    assert [e.recipe.seed for e in entries] == [11, 12] and all(e.state == "done" for e in entries)
    assert entries[0].recipe.prompt == "green"
    assert np.abs(entries[0].pixels.astype(int) - colour_pixels(2 * CLASS_COLOURS[1])).max() <= 1
    assert panel.history_list.count() == 2 and "seed 11" in panel.strip.item(0).text()
    layers_before = len(doc.layers)
    panel.strip.setCurrentRow(0)
    click(qtbot, panel.accept_button)
    assert len(doc.layers) == layers_before + 1 and doc.history.undo_count == 1
    assert doc.active_layer.metadata[LAYER_METADATA_KEY]["seed"] == 11
    assert panel.strip.count() == 1
    doc.undo()
    assert len(doc.layers) == layers_before


def test_random_seed_is_shown_after_generating(qtbot, panel):
    choose(panel, "tiny-diffusion")
    panel.seed_control.set_mode("random")
    panel.seed_control.set_value(0)
    click(qtbot, panel.generate_button)
    settle(qtbot, panel)
    assert panel.controller.staged[0].recipe.seed == panel.seed_control.value()
    assert np.abs(panel.controller.staged[0].pixels.astype(int) - colour_pixels(UNCONDITIONAL_COLOUR)).max() <= 1


def test_inpaint_selection_keeps_every_unselected_pixel(qtbot, panel, doc):
    choose(panel, "tiny-class")
    panel.class_combo.setCurrentText("red")
    panel.guidance_spin.setValue(1.0)
    panel.strength.set_value(1.0)
    assert not panel.inpaint_button.isEnabled()
    doc.select_ellipse(Rect(16, 10, 28, 24))
    assert panel.inpaint_button.isEnabled()  # follows the document's selection
    before = doc.composite().copy()
    click(qtbot, panel.inpaint_button)
    settle(qtbot, panel)
    assert panel.controller.staged[0].recipe.mode == "inpaint"
    panel.strip.setCurrentRow(0)
    assert panel.accept_selected()
    after = doc.composite()
    outside = doc.selection.mask == 0
    np.testing.assert_array_equal(after[outside], before[outside])
    assert np.abs(after[20:24, 28:32, :3].astype(int) - RED).max() <= 12


def test_history_restores_every_control(qtbot, panel, doc):
    choose(panel, "tiny-class")
    panel.class_combo.setCurrentText("blue")
    panel.steps_spin.setValue(5)
    panel.sampler_combo.setCurrentIndex(panel.sampler_combo.findData("ddim"))
    panel.eta_spin.setValue(0.3)
    panel.guidance_spin.setValue(4.5)
    panel.seed_control.set_mode("increment")
    panel.seed_control.set_value(321)
    panel.strength.set_value(0.7)
    panel.width_spin.setValue(24)
    panel.height_spin.setValue(24)
    doc.select_rect(Rect(0, 0, 32, 16))
    click(qtbot, panel.canvas_button)
    settle(qtbot, panel)
    made = panel.controller.staged[0].recipe
    assert panel.seed_control.value() == 322  # increment moved on
    choose(panel, "tiny-text")
    for spin, value in ((panel.steps_spin, 30), (panel.guidance_spin, 9.0), (panel.width_spin, 64)):
        spin.setValue(value)
    panel.sampler_combo.setCurrentIndex(panel.sampler_combo.findData("euler_a"))
    panel.history_list.setCurrentRow(0)
    click(qtbot, panel.restore_button)
    s = panel.current_settings()
    assert (s.model_id, s.class_label, s.steps, s.sampler, s.eta, s.guidance) == (
        "tiny-class", "blue", 5, "ddim", 0.3, 4.5)
    assert (s.seed, s.seed_mode, s.strength, s.width, s.height) == (321, "fixed", 0.7, made.width, made.height)
    assert panel.condition_stack.currentWidget() is panel._pages["class"]


def test_export_png_and_open_png_restore_the_recipe(qtbot, panel, tmp_path, answers):
    choose(panel, "tiny-text")
    panel.prompt_edit.setPlainText("red sky")
    panel.negative_edit.setText("blue")
    panel.seed_control.set_mode("fixed")
    panel.seed_control.set_value(77)
    click(qtbot, panel.generate_button)
    settle(qtbot, panel)
    panel.strip.setCurrentRow(0)
    answers.save_paths.append(tmp_path / "made")
    click(qtbot, panel.export_button)
    recipe = read_recipe(tmp_path / "made.png")
    assert (recipe.prompt, recipe.negative_prompt, recipe.seed, recipe.model_id) == ("red sky", "blue", 77, "tiny-text")
    choose(panel, "tiny-diffusion")
    panel.seed_control.set_value(1)
    answers.open_paths.append(tmp_path / "made.png")
    click(qtbot, panel.open_png_button)
    s = panel.current_settings()
    assert (s.model_id, s.prompt, s.negative_prompt, s.seed, s.seed_mode) == ("tiny-text", "red sky", "blue", 77,
                                                                              "fixed")
    assert panel.history_list.count() == 2
    # a PNG whose recipe is garbage: a clear error and no control changes
    rewrite_recipe(tmp_path / "made.png", tmp_path / "bad.png", seed=-77)
    answers.open_paths.append(tmp_path / "bad.png")
    click(qtbot, panel.open_png_button)
    assert answers.errors and "seed" in answers.errors[-1][1]
    assert panel.current_settings() == s and panel.history_list.count() == 2
    with open(tmp_path / "made.png", "rb") as handle:
        assert RECIPE_KEY.encode() in handle.read()


def test_cancel_leaves_the_document_untouched(qtbot, panel, runner, doc):
    choose(panel, "tiny-diffusion")
    doc.select_rect(Rect(4, 4, 20, 20))
    before, layers, undo = doc.composite().copy(), len(doc.layers), doc.history.undo_count
    gate = threading.Event()
    runner.submit(JobRequest(lambda context: gate.wait(10), "blocker"))
    panel.batch_spin.setValue(3)
    click(qtbot, panel.inpaint_button)
    assert panel.strip.count() == 3 and panel.cancel_button.isEnabled()
    click(qtbot, panel.cancel_button)
    gate.set()
    qtbot.waitUntil(lambda: panel.strip.count() == 0, timeout=WAIT_MS)
    assert panel.controller.staged == [] and panel.history_list.count() == 0
    np.testing.assert_array_equal(doc.composite(), before)
    assert len(doc.layers) == layers and doc.history.undo_count == undo == 1


def test_errors_show_in_the_panel_and_queue_nothing(qtbot, panel, runner):
    choose(panel, "tiny-class")
    panel.class_combo.clear()  # no class chosen
    assert not panel.generate()
    assert "classes" in panel.status.text() and panel.strip.count() == 0 and not runner.busy()
    choose(panel, "tiny-diffusion")
    assert panel.steps_spin.maximum() == 100  # the tiny schedule has 100 training timesteps


def test_installs_in_the_main_window_on_the_shared_services(qtbot, window, tmp_path, monkeypatch):
    monkeypatch.setenv("GENART_MODELS_DIR", str(model_root(tmp_path)))
    dock = install_diffusion_panel(window)
    panel = window.diffusion_panel
    assert dock.widget() is panel and window.docks["Diffusion"] is dock
    from genart_desktop.ui.services import services_for

    services = services_for(window)
    assert panel.controller.runner is services.runner and "Diffusion" in window.docks
    assert panel.model_combo.count() == 3
    choose(panel, "tiny-diffusion")
    click(qtbot, panel.generate_button)
    settle(qtbot, panel)
    panel.strip.setCurrentRow(0)
    layers = len(window.document.layers)
    click(qtbot, panel.accept_button)
    assert len(window.document.layers) == layers + 1
    fresh = Document(32, 32)
    window.set_document(fresh)
    fresh.select_rect(Rect(0, 0, 8, 8))
    assert panel.inpaint_button.isEnabled()
