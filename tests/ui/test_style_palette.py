"""The Style dock driven with pytest-qt on tiny ONNX style networks: thumbnails, click to preview, Apply, cancel."""

from __future__ import annotations

import types

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget

from genart_desktop.document.geometry import Rect
from genart_desktop.engine.jobs import call_payload
from genart_desktop.engine.registry import ModelRegistry
from genart_desktop.ui.job_bridge import JobBridge
from genart_desktop.ui.style_palette import StylePalettePanel
from genart_desktop.workspace.style_jobs import PREVIEW_SIDE
from genart_desktop.workspace.workspace import Workspace
from tests.fixtures import blocker, painted_document, style_registry
from tests.tiny_onnx import image_model, write_model_folder

WAIT_MS = 10_000


@pytest.fixture
def doc():
    return painted_document(200, 150)


def make_panel(qtbot, registry, doc):
    """The panel on its own workspace, whose events reach the GUI thread through a bridge, as in the app."""
    bridge = JobBridge()
    workspace = Workspace(registry, post=bridge.post, name="test-style-ui")
    bridge.event.connect(workspace.deliver)
    workspace.register(types.FunctionType, call_payload)  # the blocker
    panel = StylePalettePanel(workspace, lambda: doc)
    panel.workspace, panel._bridge_ref = workspace, bridge  # keep both alive as long as the panel
    qtbot.addWidget(panel)
    panel.resize(300, 760)
    panel.show()
    qtbot.waitUntil(lambda: not panel.controller.thumbnails_pending, timeout=WAIT_MS)
    return panel


@pytest.fixture
def panel(qtbot, tmp_path, doc):
    widget = make_panel(qtbot, style_registry(tmp_path), doc)
    yield widget
    widget.workspace.shutdown()


def click_style(qtbot, panel, model_id):
    item = panel.grid.item_for(model_id)
    rect = panel.grid.visualItemRect(item)
    qtbot.mouseClick(panel.grid.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def settle(qtbot, panel):
    qtbot.waitUntil(lambda: not panel.busy, timeout=WAIT_MS)


def test_grid_lists_styles_with_rendered_thumbnails(panel, isolated_home):
    assert panel.grid.model_ids() == ["tiny-invert", "tiny-wash"]
    assert [panel.grid.item(i).text() for i in range(2)] == ["Tiny Invert", "Tiny Wash"]
    assert not panel.empty_label.isVisible()
    assert len(list((isolated_home / "cache" / "style-thumbnails").glob("*.png"))) == 2
    assert not panel.apply_button.isEnabled() and not panel.cancel_button.isEnabled()


def test_click_previews_the_style_on_a_downscaled_copy(qtbot, panel, doc):
    before = doc.composite()
    click_style(qtbot, panel, "tiny-wash")
    qtbot.waitUntil(lambda: panel.last_preview is not None, timeout=WAIT_MS)
    preview = panel.last_preview
    assert preview.recipe.model_id == "tiny-wash" and panel.controller.model_id == "tiny-wash"
    assert panel.preview_view.has_image() and max(panel.preview_view.image_size()) <= PREVIEW_SIDE
    assert "Tiny Wash on the active layer (200\u00d7150)" in panel.preview_caption.text()
    assert panel.apply_button.isEnabled()
    np.testing.assert_array_equal(doc.composite(), before)
    assert not doc.can_undo

    click_style(qtbot, panel, "tiny-invert")
    qtbot.waitUntil(lambda: panel.last_preview.recipe.model_id == "tiny-invert", timeout=WAIT_MS)
    expected = 255 - before[..., :3].astype(int)  # 200x150 fits the preview size: exact
    assert panel.last_preview.exact
    assert np.abs(panel.last_preview.pixels[..., :3].astype(int) - expected).max() <= 1


def test_settings_widgets_drive_the_controller_and_refresh_the_preview(qtbot, panel):
    click_style(qtbot, panel, "tiny-invert")
    settle(qtbot, panel)
    first = panel.last_preview
    panel.strength.spin.setValue(0.5)
    panel.scale.spin.setValue(2.0)
    panel.preserve_colors.setChecked(True)
    qtbot.waitUntil(lambda: panel.last_preview is not first and panel.last_preview.recipe.settings.scale == 2.0
                    and panel.last_preview.recipe.settings.preserve_colors, timeout=WAIT_MS)
    settle(qtbot, panel)
    settings = panel.controller.settings
    assert (settings.strength, settings.scale, settings.preserve_colors) == (0.5, 2.0, True)
    panel.source_combo.setCurrentIndex(panel.source_combo.findData("layer"))
    assert panel.controller.source == "layer"


def test_apply_adds_one_layer_and_one_undo_step_and_undo_removes_it(qtbot, panel, doc):
    before = doc.composite()
    click_style(qtbot, panel, "tiny-invert")
    settle(qtbot, panel)
    added = []
    panel.layer_added.connect(added.append)
    qtbot.mouseClick(panel.apply_button, Qt.MouseButton.LeftButton)
    assert not panel.apply_button.isEnabled() and panel.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: bool(added), timeout=WAIT_MS)
    settle(qtbot, panel)
    assert len(doc.layers) == 3 and doc.history.undo_count == 1
    layer = added[0]
    assert layer.metadata["model_id"] == "tiny-invert" and layer.metadata["strength"] == 1.0
    assert np.abs(doc.composite()[..., :3].astype(int) - (255 - before[..., :3].astype(int))).max() <= 1
    assert "Undo removes it" in panel.status_label.text()
    assert panel.apply_button.isEnabled() and not panel.cancel_button.isEnabled()
    assert panel.progress.isHidden()
    doc.undo()
    assert len(doc.layers) == 2
    np.testing.assert_array_equal(doc.composite(), before)


def test_apply_with_a_selection_leaves_outside_pixels_untouched(qtbot, panel, doc):
    doc.select_ellipse(Rect(50, 40, 80, 60))
    before = doc.composite()
    mask = doc.selection.mask.copy()
    click_style(qtbot, panel, "tiny-invert")
    settle(qtbot, panel)
    assert "on the selection" in panel.preview_caption.text()
    panel.apply()
    qtbot.waitUntil(lambda: len(doc.layers) == 3, timeout=WAIT_MS)
    after = doc.composite()
    np.testing.assert_array_equal(after[mask == 0], before[mask == 0])
    assert np.abs(after[70, 90, :3].astype(int) - (255 - before[70, 90, :3].astype(int))).max() <= 1


def test_strength_zero_gives_the_original(qtbot, panel, doc):
    before = doc.composite()
    click_style(qtbot, panel, "tiny-invert")
    panel.strength.spin.setValue(0.0)
    settle(qtbot, panel)
    panel.apply()
    qtbot.waitUntil(lambda: len(doc.layers) == 3, timeout=WAIT_MS)
    np.testing.assert_array_equal(doc.composite(), before)


def test_cancel_leaves_the_document_untouched(qtbot, panel, doc):
    before = doc.composite()
    click_style(qtbot, panel, "tiny-invert")
    settle(qtbot, panel)
    release = blocker(panel.workspace.runner)
    panel.apply()
    assert panel.cancel_button.isEnabled() and panel.progress.isVisible()
    qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    release.set()
    qtbot.waitUntil(lambda: not panel.controller.applying, timeout=WAIT_MS)
    settle(qtbot, panel)
    assert "Cancelled; the canvas is unchanged." in panel.status_label.text()
    assert len(doc.layers) == 2 and not doc.can_undo
    np.testing.assert_array_equal(doc.composite(), before)
    assert panel.apply_button.isEnabled() and not panel.cancel_button.isEnabled()


def test_a_broken_model_reports_a_readable_error_and_changes_nothing(qtbot, tmp_path, doc):
    root = tmp_path / "models"
    write_model_folder(root, "fixed-size", "style", {"stylizer": image_model(scale=-1.0, dims=("batch", 8, 8))},
                       name="Fixed Size")
    panel = make_panel(qtbot, ModelRegistry(roots=[(root, "user")]), doc)
    before = doc.composite()
    click_style(qtbot, panel, "fixed-size")
    settle(qtbot, panel)
    assert "size 8" in panel.status_label.text() and "#f28b82" in panel.status_label.styleSheet()
    panel.apply()
    qtbot.waitUntil(lambda: not panel.controller.applying, timeout=WAIT_MS)
    assert "The canvas is unchanged." in panel.status_label.text()
    assert len(doc.layers) == 2 and not doc.can_undo
    np.testing.assert_array_equal(doc.composite(), before)
    panel.workspace.shutdown()


def test_no_style_models_explains_where_to_get_them(qtbot, tmp_path, doc):
    panel = make_panel(qtbot, ModelRegistry(roots=[(tmp_path / "none", "user")]), doc)
    assert panel.grid.count() == 0 and panel.empty_label.isVisible()
    assert "genart-train style" in panel.empty_label.text()
    assert not panel.apply_button.isEnabled()
    panel.apply()  # nothing to apply: a message, no job
    assert "Choose a style" in panel.status_label.text() and not panel.busy
    panel.workspace.shutdown()


def test_installed_in_the_main_window_with_the_jobs_panel(qtbot, tmp_path, answers):
    from genart_desktop.ui.ai_panels import install_ai_panels
    from genart_desktop.ui.main_window import MainWindow

    window = MainWindow(registry=style_registry(tmp_path), settings={"autosave_minutes": 0})
    qtbot.addWidget(window)
    docks = install_ai_panels(window)
    window.show()
    qtbot.waitExposed(window)
    assert {"Style", "Jobs"} <= set(docks) and isinstance(docks["Style"], QDockWidget)
    assert window.dockWidgetArea(docks["Jobs"]) == Qt.DockWidgetArea.BottomDockWidgetArea
    assert docks["Style"] in window.tabifiedDockWidgets(window.docks["Tools"])
    panel = window.style_palette
    qtbot.waitUntil(lambda: not panel.controller.thumbnails_pending, timeout=WAIT_MS)
    docks["Style"].raise_()
    panel.choose_style("tiny-invert")
    settle(qtbot, panel)
    jobs = window.jobs_panel
    assert panel.last_preview is not None  # the dock is shown: previews run ...
    assert not any(entry.label.startswith("Style preview") for entry in jobs.entries.values())  # ... unlisted
    window.document.select_rect(Rect(10, 10, 100, 80))
    panel.apply()
    qtbot.waitUntil(lambda: len(window.document.layers) == 2, timeout=WAIT_MS)
    assert window.document.active_layer.name == "Style: Tiny Invert, strength 100%"
    old = window.document
    window.set_document(painted_document(64, 48))  # the panel follows the new document
    assert panel._watched is window.document and panel._watched is not old
    window.document.mark_clean()
    window.close()


def test_the_preview_follows_the_canvas_and_waits_while_hidden(qtbot, panel, doc):
    click_style(qtbot, panel, "tiny-invert")
    settle(qtbot, panel)
    first = panel.last_preview
    doc.fill(5, 5, (0, 0, 0))
    qtbot.waitUntil(lambda: panel.last_preview is not first, timeout=WAIT_MS)
    assert panel.last_preview.pixels[5, 5, :3].tolist() == [255, 255, 255]
    settle(qtbot, panel)
    panel.hide()
    second = panel.last_preview
    doc.fill(100, 100, (255, 255, 255))
    qtbot.wait(900)
    assert panel.last_preview is second and not panel.busy  # hidden: no work done
    panel.show()
    qtbot.waitUntil(lambda: panel.last_preview is not second, timeout=WAIT_MS)
    assert panel.last_preview.pixels[100, 100, :3].tolist() == [0, 0, 0]
