"""The latent explorer panel driven with pytest-qt: tiny GAN/VAE models built in the tests, renders off-thread."""

from __future__ import annotations

import types

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt

from genart_desktop.document.document import Document
from genart_desktop.document.geometry import Rect
from genart_desktop.engine.jobs import call_payload
from genart_desktop.engine.latent import animation
from genart_desktop.engine.latent.bookmarks import METADATA_KEY, BookmarkLibrary
from genart_desktop.engine.registry import ModelRegistry
from genart_desktop.ui import dialogs
from genart_desktop.ui.job_bridge import JobBridge
from genart_desktop.ui.latent_explorer import LatentExplorerPanel
from genart_desktop.workspace.latent import mp4
from genart_desktop.workspace.workspace import Workspace
from tests.fixtures import blocker, latent_registry

WAIT_MS = 10_000


@pytest.fixture
def models(tmp_path):
    return latent_registry(tmp_path)


@pytest.fixture
def doc():
    return Document(64, 48)


@pytest.fixture
def workspace(qtbot, models):
    """As in the app: the runner posts events to a bridge, which delivers them on the GUI thread."""
    bridge = JobBridge()
    workspace = Workspace(models, post=bridge.post, name="test-latent-ui")
    bridge.event.connect(workspace.deliver)
    workspace.bridge_ref = bridge
    yield workspace
    workspace.shutdown()


@pytest.fixture
def panel(qtbot, workspace, doc, tmp_path):
    widget = LatentExplorerPanel(workspace, lambda: doc, library=BookmarkLibrary(tmp_path / "lib.json"))
    qtbot.addWidget(widget)
    widget.resize(420, 900)
    widget.show()
    settle(qtbot, widget)
    yield widget
    widget.shutdown()


def settle(qtbot, panel):
    qtbot.waitUntil(lambda: not panel.busy, timeout=WAIT_MS)


def choose_model(qtbot, panel, model_id):
    panel.model_combo.setCurrentIndex(panel.model_combo.findData(model_id))
    qtbot.waitUntil(lambda: panel.controller.state.is_model(model_id), timeout=WAIT_MS)
    settle(qtbot, panel)


def click_cell(qtbot, grid, index):
    qtbot.mouseClick(grid, Qt.MouseButton.LeftButton, pos=grid.cell_rect(index).center())


def test_opens_first_model_renders_grid_and_finds_directions(qtbot, panel):
    assert panel.model_combo.count() == 2
    assert panel.controller.state.space.model_id == "tiny-gan"
    assert panel.shown_grid.images.shape == (9, 8, 8, 3)
    assert panel.grid.image_count() == 9
    assert len(panel.directions.sliders.sliders) == len(panel.controller.state.directions) >= 4
    assert panel.truncation.isVisible() and not panel.canvas.encode_button.isEnabled()
    assert f"Seed {panel.controller.state.seed}" in panel.seed_label.text()


def test_click_neighbour_recentres_and_history_goes_back_and_forward(qtbot, panel):
    panel.grid_combo.setCurrentIndex(panel.grid_combo.findData(5))
    settle(qtbot, panel)
    shown = panel.shown_grid
    assert shown.size == 5
    start = panel.controller.state.centre.copy()
    click_cell(qtbot, panel.grid, 0)
    settle(qtbot, panel)
    np.testing.assert_array_equal(panel.controller.state.centre, shown.latents[0])
    np.testing.assert_array_equal(panel.shown_grid.latents[12], shown.latents[0])
    np.testing.assert_array_equal(panel.current_image(), shown.images[0])
    assert panel.back_button.isEnabled() and not panel.forward_button.isEnabled()
    qtbot.mouseClick(panel.back_button, Qt.MouseButton.LeftButton)
    settle(qtbot, panel)
    np.testing.assert_array_equal(panel.controller.state.centre, start)
    np.testing.assert_array_equal(panel.current_image(), shown.images[12])
    assert panel.forward_button.isEnabled()
    qtbot.mouseClick(panel.forward_button, Qt.MouseButton.LeftButton)
    settle(qtbot, panel)
    np.testing.assert_array_equal(panel.controller.state.centre, shown.latents[0])


def test_grid_renders_do_not_wait_behind_a_long_job_in_the_main_lane(qtbot, panel, workspace):
    """While a long job (a diffusion batch) holds the workspace's main worker, a click still re-renders the grid:
    explorer renders run in the interactive lane."""
    workspace.register(types.FunctionType, call_payload)
    release = blocker(workspace.runner)
    try:
        shown = panel.shown_grid
        click_cell(qtbot, panel.grid, 0)
        qtbot.waitUntil(lambda: panel.shown_grid is not shown, timeout=WAIT_MS)
        np.testing.assert_array_equal(panel.controller.state.centre, shown.latents[0])
        np.testing.assert_array_equal(panel.shown_grid.latents[4], shown.latents[0])
        assert workspace.runner.busy()  # the long job is still holding the main lane
    finally:
        release.set()


def test_dragging_a_slider_rerenders_and_the_latest_value_wins(qtbot, panel):
    before = panel.current_image().copy()
    for value in np.linspace(0.05, 0.8, 16):
        panel.set_slider(0, float(value))
    settle(qtbot, panel)
    assert panel.controller.state.sliders[0] == pytest.approx(0.8)
    np.testing.assert_allclose(panel.shown_grid.latents[4], panel.controller.state.current(), atol=1e-6)
    assert np.abs(panel.current_image().astype(int) - before.astype(int)).mean() > 1.0
    assert "(edited)" in panel.seed_label.text()
    qtbot.mouseClick(panel.directions.reset_button, Qt.MouseButton.LeftButton)
    settle(qtbot, panel)
    np.testing.assert_array_equal(panel.current_image(), before)


def test_seed_is_reusable_and_truncation_changes_the_image(qtbot, panel):
    panel.seed_spin.setValue(1234)
    qtbot.mouseClick(panel.use_seed_button, Qt.MouseButton.LeftButton)
    settle(qtbot, panel)
    first = panel.current_image().copy()
    qtbot.mouseClick(panel.random_button, Qt.MouseButton.LeftButton)
    settle(qtbot, panel)
    assert panel.controller.state.seed != 1234
    panel.use_seed(1234)
    settle(qtbot, panel)
    np.testing.assert_array_equal(panel.current_image(), first)
    panel.truncation.slider.setValue(20)
    settle(qtbot, panel)
    assert panel.controller.state.truncation == pytest.approx(0.2)
    assert not np.array_equal(panel.current_image(), first)


def bookmark_seeds(qtbot, panel, seeds):
    for seed in seeds:
        panel.use_seed(seed)
        settle(qtbot, panel)
        panel.bookmarks.name.setText(f"seed {seed}")
        qtbot.mouseClick(panel.bookmarks.add_button, Qt.MouseButton.LeftButton)
    return [m.bookmark_id for m in panel.controller.bookmarks.all(panel.document())]


def test_bookmarks_persist_in_document_and_library(qtbot, panel, doc, tmp_path):
    ids = bookmark_seeds(qtbot, panel, [3, 4])
    assert panel.bookmarks.list.count() == 2 and len(ids) == 2
    assert [m["name"] for m in doc.metadata[METADATA_KEY]] == ["seed 3", "seed 4"]
    assert len(BookmarkLibrary(tmp_path / "lib.json").all()) == 2
    panel.use_seed(9)
    settle(qtbot, panel)
    panel.bookmarks.recall(ids[0])
    settle(qtbot, panel)
    assert panel.controller.state.seed == 3


def test_crossbreed_two_bookmarks_into_children_and_adopt_one(qtbot, panel):
    ids = bookmark_seeds(qtbot, panel, [1, 2])
    panel.tick_bookmarks(ids)
    panel.breeding.mode.setCurrentIndex(panel.breeding.mode.findData("crossover"))
    panel.breeding.count.setValue(5)
    panel.breeding.mutation.set_value(0.0)  # pure crossover: every gene comes from a parent
    qtbot.mouseClick(panel.breeding.breed_button, Qt.MouseButton.LeftButton)
    settle(qtbot, panel)
    children = panel.breeding.shown
    assert children.images.shape == (5, 8, 8, 3) and panel.breeding.grid.image_count() == 5
    parents = [m.latent for m in panel.controller.bookmarks.all(panel.document())]
    for kid in children.latents:
        assert np.all(np.isclose(kid, parents[0]) | np.isclose(kid, parents[1]))
    click_cell(qtbot, panel.breeding.grid, 2)
    settle(qtbot, panel)
    np.testing.assert_array_equal(panel.controller.state.centre, children.latents[2])


def test_breeding_needs_two_bookmarks(qtbot, panel):
    ids = bookmark_seeds(qtbot, panel, [1])
    panel.tick_bookmarks(ids)
    panel.breeding.breed()
    assert "at least two" in panel.status.text()
    assert panel.breeding.shown is None


def test_direction_from_two_bookmarks_and_saved_slider_mix(qtbot, panel):
    ids = bookmark_seeds(qtbot, panel, [5, 6])
    panel.directions.pair_a.setCurrentIndex(panel.directions.pair_a.findData(ids[0]))
    panel.directions.pair_b.setCurrentIndex(panel.directions.pair_b.findData(ids[1]))
    panel.directions.pair_name.setText("five to six")
    qtbot.mouseClick(panel.directions.define_button, Qt.MouseButton.LeftButton)
    names = [d.name for d in panel.controller.state.directions]
    assert names[-1] == "five to six" and len(panel.directions.sliders.sliders) == len(names)
    panel.set_slider(0, 0.5)
    panel.directions.name.setText("half pc1")
    qtbot.mouseClick(panel.directions.save_button, Qt.MouseButton.LeftButton)
    assert [d.name for d in panel.controller.state.user_directions] == ["five to six", "half pc1"]
    settle(qtbot, panel)


def test_scrub_and_export_gif_png_sequence_and_mp4(qtbot, panel, tmp_path, monkeypatch):
    ids = bookmark_seeds(qtbot, panel, [1, 2, 3])
    panel.tick_bookmarks(ids)
    panel.tabs.setCurrentIndex(3)
    panel.animate.scrubber.setValue(500)
    settle(qtbot, panel)
    assert panel.animate.scrub_image is not None and panel.animate.preview.pixmap() is not None
    panel.animate.frames.setValue(7)
    panel.animate.fps.setValue(10)
    panel.animate.width_spin.setValue(32)
    monkeypatch.setattr(dialogs, "ask_save_path", lambda *a, **k: str(tmp_path / "walk"))
    panel.animate.format.setCurrentIndex(panel.animate.format.findData(animation.GIF))
    qtbot.mouseClick(panel.animate.export_button, Qt.MouseButton.LeftButton)
    settle(qtbot, panel)
    with Image.open(tmp_path / "walk.gif") as gif:
        assert gif.n_frames == 7 and gif.size == (32, 32)
    assert "Exported" in panel.status.text()
    frames = tmp_path / "frames"
    frames.mkdir()
    panel.animate.export_to(frames / "walk.png", animation.PNG_SEQUENCE)
    settle(qtbot, panel)
    written = sorted(p.name for p in frames.iterdir())
    assert written == [f"walk_{i:04d}.png" for i in range(1, 8)]
    with Image.open(frames / written[0]) as first:
        assert first.size == (32, 32)
    if mp4.find_encoder() is not None:
        panel.animate.export_to(tmp_path / "walk.mp4", mp4.MP4)
        settle(qtbot, panel)
        assert (tmp_path / "walk.mp4").read_bytes()[4:8] == b"ftyp"


def test_vae_encode_selection_explore_and_place_back(qtbot, panel, doc):
    choose_model(qtbot, panel, "tiny-vae")
    assert panel.canvas.encode_button.isEnabled() and not panel.truncation.isVisible()
    space = panel.controller.state.space
    picture = space.decode(space.sample(21)[0] * 0.7)[0]
    painting = np.dstack([picture, np.full((8, 8), 255, np.uint8)])  # an image the tiny VAE represents exactly
    doc.add_layer("painting", painting, origin=(20, 10))
    doc.select_rect(Rect(20, 10, 8, 8))
    panel.canvas.source.setCurrentIndex(panel.canvas.source.findData("selection"))
    qtbot.mouseClick(panel.canvas.encode_button, Qt.MouseButton.LeftButton)
    settle(qtbot, panel)
    assert np.abs(panel.current_image().astype(int) - picture.astype(int)).max() <= 3
    assert (panel.canvas.place_width.value(), panel.canvas.place_height.value()) == (8, 8)
    layers = len(doc.layers)
    qtbot.mouseClick(panel.canvas.place_button, Qt.MouseButton.LeftButton)
    settle(qtbot, panel)
    assert len(doc.layers) == layers + 1
    placed = doc.layers[doc.active_index]
    assert placed.metadata["model_id"] == "tiny-vae"
    region = placed.pixels[10:18, 20:28]
    assert region[..., 3].min() == 255 and placed.pixels[..., 3].sum() == 255 * 64  # only the selection
    assert np.abs(region[..., :3].astype(int) - picture.astype(int)).max() <= 3  # decoded back where it was
    doc.undo()
    assert len(doc.layers) == layers


def test_place_at_a_chosen_size_is_resampled_not_blocky(qtbot, panel, doc):
    panel.canvas.place_width.setValue(40)
    panel.canvas.place_height.setValue(40)
    panel.canvas.place()
    settle(qtbot, panel)
    layer = doc.layers[doc.active_index]
    ys, xs = np.nonzero(layer.pixels[..., 3])
    assert (xs.max() - xs.min() + 1, ys.max() - ys.min() + 1) == (40, 40)
    block = layer.pixels[ys.min():ys.max() + 1, xs.min():xs.max() + 1, :3].reshape(-1, 3)
    assert len(np.unique(block, axis=0)) > 400  # nearest-neighbour from 8x8 would give at most 64 colours


def test_gan_cannot_encode_and_errors_show_in_status(qtbot, panel):
    panel.canvas.encode()
    assert "no encoder" in panel.status.text()


def test_without_models_the_panel_says_so(qtbot, tmp_path, doc):
    empty = tmp_path / "none"
    empty.mkdir()
    workspace = Workspace(ModelRegistry(roots=[(empty, "user")]), name="test-latent-empty")
    widget = LatentExplorerPanel(workspace, lambda: doc)
    qtbot.addWidget(widget)
    assert "No GAN or VAE" in widget.model_combo.currentText()
    assert not widget.tabs.isEnabled() and not widget.random_button.isEnabled()
    widget.shutdown()
    workspace.shutdown()


def test_installed_in_the_main_window_on_the_windows_workspace(qtbot, tmp_path, answers):
    """The dock explores with the window's one workspace; its renders stay out of the Jobs list, as before."""
    from genart_desktop.ui.ai_panels import install_ai_panels
    from genart_desktop.ui.main_window import MainWindow

    window = MainWindow(registry=latent_registry(tmp_path), settings={"autosave_minutes": 0})
    qtbot.addWidget(window)
    install_ai_panels(window)
    window.show()
    panel = window.latent_explorer
    assert panel.controller.workspace is window.services.workspace
    qtbot.waitUntil(lambda: panel.shown_grid is not None, timeout=WAIT_MS)
    settle(qtbot, panel)
    assert panel.grid.image_count() == 9
    assert not any(entry.label.startswith(("Rendering", "Loading")) for entry in window.jobs_panel.entries.values())
    window.document.mark_clean()
    window.close()
