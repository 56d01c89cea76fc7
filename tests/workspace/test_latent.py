"""The latent explorer's Qt-free controller, driven with tiny GAN/VAE models through a real registry and workspace
(events reach the controller on the worker threads)."""

import time
import types

import numpy as np
import pytest
from PIL import Image

from genart_desktop.core.errors import InputError
from genart_desktop.document.document import Document
from genart_desktop.document.geometry import Rect
from genart_desktop.engine.jobs import call_payload
from genart_desktop.engine.latent.bookmarks import METADATA_KEY, BookmarkLibrary
from genart_desktop.workspace.latent import Encoded, GridResult, LatentController
from genart_desktop.workspace.workspace import INTERACTIVE_LANE, Workspace
from tests.fixtures import blocker, latent_registry

TIMEOUT = 10


@pytest.fixture
def registry(tmp_path):
    return latent_registry(tmp_path)


@pytest.fixture
def workspace(registry):
    workspace = Workspace(registry, name="test-latent")
    yield workspace
    workspace.shutdown()


def settle(controller):
    """Wait until every job the controller started (load, directions, grids) has ended."""
    deadline = time.monotonic() + TIMEOUT
    while controller.busy:
        assert time.monotonic() < deadline, "the explorer's jobs did not finish"
        time.sleep(0.01)


def open_model(controller, model_id, seed=None):
    assert controller.open_model(model_id, seed).wait(TIMEOUT)
    settle(controller)
    assert controller.state.is_model(model_id)
    return controller.state.space


def render(controller, request) -> GridResult:
    """Run a request inline with the workspace's executor (what the queued job computes)."""
    return controller.workspace.run(request, "test")


@pytest.fixture
def explorer(workspace, tmp_path):
    controller = LatentController(workspace, BookmarkLibrary(tmp_path / "bookmarks.json"))
    open_model(controller, "tiny-gan", seed=5)
    return controller


def test_lists_only_gan_and_vae(explorer):
    assert sorted(e.id for e in explorer.models()) == ["tiny-gan", "tiny-vae"]


def test_opening_a_model_renders_the_grid_and_finds_directions(workspace, tmp_path):
    controller = LatentController(workspace, BookmarkLibrary(tmp_path / "b.json"))
    grids, spaces = [], []
    controller.grid_ready.connect(grids.append)
    controller.model_changed.connect(spaces.append)
    open_model(controller, "tiny-gan", seed=5)
    assert [space.model_id for space in spaces] == ["tiny-gan"] and controller.state.seed == 5
    assert len(controller.state.directions) >= 4 and controller.state.sliders == [0.0] * len(
        controller.state.directions)
    assert len(grids) == 1 and grids[0].images.shape == (9, 8, 8, 3)
    np.testing.assert_array_equal(grids[0].latents[4], controller.state.current())


def test_seed_reproduces_the_centre(explorer):
    first = explorer.state.centre.copy()
    explorer.history.randomise(99)
    assert explorer.state.seed == 99
    explorer.history.randomise(5)
    np.testing.assert_array_equal(explorer.state.centre, first)


def test_grid_render_and_recentre_with_history(explorer):
    history, state = explorer.history, explorer.state
    history.set_grid(size=5, spread=0.8)
    result = render(explorer, history.grid_request())
    assert result.images.shape == (25, 8, 8, 3) and result.size == 5
    np.testing.assert_array_equal(result.latents[12], state.current())
    start = state.centre.copy()
    history.recentre(3, result.latents)
    np.testing.assert_array_equal(state.centre, result.latents[3])
    assert state.seed is None and history.can_go_back and not history.can_go_forward
    assert history.back()
    np.testing.assert_array_equal(state.centre, start)
    assert state.seed == 5
    assert history.forward()
    np.testing.assert_array_equal(state.centre, result.latents[3])


def test_a_move_re_renders_the_grid_around_the_new_centre(explorer):
    shown = []
    explorer.grid_ready.connect(shown.append)
    explorer.history.randomise(11)
    settle(explorer)
    assert shown and isinstance(shown[-1], GridResult)
    np.testing.assert_array_equal(shown[-1].latents[4], explorer.state.current())


def test_sliders_move_the_image_and_survive_history(explorer):
    state, history = explorer.state, explorer.history
    before = render(explorer, history.grid_request()).images[4]
    state.set_slider(0, 0.9)
    after = render(explorer, history.grid_request()).images[4]
    assert np.abs(after.astype(int) - before.astype(int)).mean() > 1.0
    history.randomise(7)
    assert state.sliders[0] == 0.0
    history.back()
    assert state.sliders[0] == pytest.approx(0.9)


def test_coalesced_grid_requests_render_only_the_latest(explorer, workspace):
    workspace.register(types.FunctionType, call_payload)
    release = blocker(workspace.runner, TIMEOUT, lane=INTERACTIVE_LANE)  # the interactive worker is busy
    shown = []
    explorer.grid_ready.connect(shown.append)
    for value in (0.1, 0.2, 0.3, 0.4):
        explorer.history.set_grid(spread=value)  # each change asks for a grid
    release.set()
    settle(explorer)
    assert len(shown) == 1  # the three older requests were replaced while waiting
    np.testing.assert_array_equal(shown[0].latents, explorer.history.grid_latents())


def test_truncation_pulls_toward_the_mean(explorer):
    explorer.state.set_truncation(0.0)
    images = render(explorer, explorer.history.grid_request()).images
    assert np.all(images == images[0])  # every latent collapses to 0
    with pytest.raises(InputError):
        explorer.state.set_truncation(2.0)


def test_bookmarks_in_document_and_library(explorer, tmp_path):
    doc = Document(32, 32)
    bookmarks = explorer.bookmarks
    mark = bookmarks.add("first", doc)
    assert mark.seed == 5 and doc.dirty
    assert [m["name"] for m in doc.metadata[METADATA_KEY]] == ["first"]
    assert [m.name for m in BookmarkLibrary(tmp_path / "bookmarks.json").all()] == ["first"]
    explorer.history.randomise(6)
    bookmarks.recall(mark.bookmark_id, doc)
    np.testing.assert_allclose(explorer.state.centre, mark.latent)
    assert explorer.history.can_go_back  # going to a bookmark is a move like any other
    bookmarks.delete(mark.bookmark_id, doc)
    assert bookmarks.all(doc) == [] and doc.metadata[METADATA_KEY] == []


def test_crossbreed_children(explorer):
    a = explorer.bookmarks.add("a")
    explorer.history.randomise(8)
    b = explorer.bookmarks.add("b")
    kids = explorer.breeding.breed([a.bookmark_id, b.bookmark_id], "crossover", 0.5, 4, seed=1)
    assert kids.shape == (4, 8)
    for kid in kids:
        from_a = np.isclose(kid, a.latent) | np.isclose(kid, b.latent)
        assert from_a.all()
    images = render(explorer, explorer.breeding.children_request()).images
    assert images.shape == (4, 8, 8, 3)
    with pytest.raises(InputError):
        explorer.breeding.breed([a.bookmark_id], "mix", 0.5, 2)


def test_direction_from_two_bookmarks_and_saved_slider_mix(explorer, workspace, tmp_path):
    state = explorer.state
    a = explorer.bookmarks.add("a")
    explorer.history.randomise(8)
    b = explorer.bookmarks.add("b")
    explorer.directions.define(a.latent, b.latent, "a-to-b")
    assert state.directions[-1].name == "a-to-b"
    explorer.history.move_to(a.latent)
    state.set_slider(len(state.directions) - 1, 1.0 / state.directions[-1].span)
    np.testing.assert_allclose(state.current(), b.latent, atol=1e-5)
    saved = explorer.directions.save_current("my mix")
    assert saved.name == "my mix"
    again = LatentController(workspace, BookmarkLibrary(tmp_path / "bookmarks.json"))
    open_model(again, "tiny-gan")
    assert [d.name for d in again.state.user_directions] == ["a-to-b", "my mix"]


def test_interpolation_export_gif_and_scrub(explorer, tmp_path):
    ids = []
    for seed in (1, 2, 3):
        explorer.history.randomise(seed)
        ids.append(explorer.bookmarks.add(f"k{seed}").bookmark_id)
    explorer.animation.set_path(ids)
    scrub = render(explorer, explorer.animation.scrub_request(0.5)).images
    assert scrub.shape == (1, 8, 8, 3)
    out = render(explorer, explorer.animation.export_request(tmp_path / "walk.gif", "gif", frames=9, fps=8, size=32))
    with Image.open(out[0], formats=["GIF"]) as gif:
        assert gif.n_frames == 9 and gif.size == (32, 32)


def test_vae_encode_decode_round_trip_through_the_canvas(workspace, tmp_path):
    ex = LatentController(workspace, BookmarkLibrary(tmp_path / "b.json"))
    space = open_model(ex, "tiny-vae", seed=3)
    picture = space.decode(space.sample(11)[0] * 0.7)[0]  # an image the tiny VAE can represent exactly
    doc = Document(40, 30)
    doc.add_layer("painting", np.dstack([picture, np.full((8, 8), 255, np.uint8)]), origin=(10, 6))
    doc.select_rect(Rect(10, 6, 8, 8))
    encoded = render(ex, ex.encoding.encode_request(doc, "layer"))
    assert isinstance(encoded, Encoded) and encoded.region == Rect(10, 6, 8, 8)
    assert ex.encoding.apply_encoded(encoded)
    decoded = render(ex, ex.history.grid_request()).images[4]
    assert np.abs(decoded.astype(int) - picture.astype(int)).max() <= 3
    place = ex.encoding.default_placement(doc)
    assert place == Rect(10, 6, 8, 8)
    layers_before = len(doc.layers)
    layer = ex.encoding.place_on_canvas(doc, decoded, place.width, place.height, (place.x, place.y))
    assert len(doc.layers) == layers_before + 1 and layer.metadata["model_id"] == "tiny-vae"
    assert np.abs(layer.pixels[6:14, 10:18, :3].astype(int) - picture.astype(int)).max() <= 3
    doc.undo()
    assert len(doc.layers) == layers_before


def test_place_on_canvas_resamples_smoothly(explorer):
    doc = Document(64, 64)
    image = render(explorer, explorer.encoding.current_request()).images[0]
    layer = explorer.encoding.place_on_canvas(doc, image, 48, 48, (8, 8))
    region = layer.pixels[8:56, 8:56, :3].astype(int)
    # Lanczos, not nearest: far more distinct colours than the 64 source pixels
    assert len(np.unique(region.reshape(-1, 3), axis=0)) > 200


def test_encoding_needs_a_vae_and_something_to_encode(explorer, workspace, tmp_path):
    doc = Document(16, 16, background=None)
    with pytest.raises(InputError, match="no encoder"):
        explorer.encoding.encode_request(doc)
    ex = LatentController(workspace, BookmarkLibrary(tmp_path / "b.json"))
    open_model(ex, "tiny-vae")
    with pytest.raises(InputError, match="nothing to encode"):
        ex.encoding.encode_request(doc, "layer")


def test_a_queued_render_keeps_its_model_when_the_user_switches(explorer):
    request = explorer.history.grid_request()
    open_model(explorer, "tiny-vae")
    result = render(explorer, request)
    assert result.latents.shape[1] == 8 and result.images.shape == (9, 8, 8, 3)


def test_renders_stay_out_of_the_jobs_list_and_an_export_shows_in_it(explorer, tmp_path):
    """As before the explorer shared the app's runner: slider-step renders are not jobs-list rows; an export, which
    may now wait behind a diffusion batch in the main lane, is."""
    runner = explorer.workspace.runner
    grid = explorer.request_grid()
    assert not runner.is_listed(grid.job_id)
    ids = []
    for seed in (1, 2):
        explorer.history.randomise(seed)
        ids.append(explorer.bookmarks.add(f"k{seed}").bookmark_id)
    explorer.animation.set_path(ids)
    export = explorer.submit(explorer.animation.export_request(tmp_path / "walk.gif", "gif", 3, 8), "export")
    assert runner.is_listed(export.job_id) and export.request.lane == "main"
    assert export.wait(TIMEOUT) and (tmp_path / "walk.gif").is_file()
    settle(explorer)


def test_place_on_canvas_enlarges_through_the_installed_upscaler(tmp_path):
    from genart_desktop.core.images import resize
    from genart_desktop.engine.registry import ModelRegistry
    from genart_desktop.workspace.latent.requests import PlaceLatent
    from genart_desktop.workspace.upscale import upscale_to
    from tests.engine.tiny_upscaler import write_upscaler_folder

    root = latent_registry(tmp_path).roots()[0][0]
    write_upscaler_folder(root, scale=2, tile=32, overlap=4)
    registry = ModelRegistry(roots=[(root, "user")], settings={"execution_provider": "cpu"})
    workspace = Workspace(registry, name="test-latent-place")
    try:
        explorer = LatentController(workspace, BookmarkLibrary(tmp_path / "bookmarks.json"))
        open_model(explorer, "tiny-gan", seed=5)
        request = explorer.encoding.current_request(16, 16)
        assert isinstance(request, PlaceLatent)
        placed = render(explorer, request).images[0]
        small = render(explorer, explorer.encoding.current_request()).images[0]
        assert placed.shape == (16, 16, 3)
        np.testing.assert_array_equal(placed, upscale_to(small, 16, 16, registry))  # the upscaler's pixels ...
        assert not np.array_equal(placed, resize(small, 16, 16))  # ... not Lanczos
        doc = Document(64, 64)
        layer = explorer.encoding.place_on_canvas(doc, placed, 16, 16, (8, 8))
        np.testing.assert_array_equal(layer.pixels[8:24, 8:24, :3], placed)
        with pytest.raises(InputError, match="between 1 and"):
            explorer.encoding.current_request(0, 16)
    finally:
        workspace.shutdown()
