"""The latent explorer's Qt-free controller, driven with tiny GAN/VAE models through a real registry."""

import numpy as np
import pytest
from PIL import Image

from genart_desktop.core.errors import InputError
from genart_desktop.document.document import Document
from genart_desktop.document.geometry import Rect
from genart_desktop.engine.jobs import JobRunner, run_inline
from genart_desktop.engine.latent.bookmarks import METADATA_KEY, BookmarkLibrary
from genart_desktop.engine.registry import ModelRegistry
from genart_desktop.workspace.latent import LatentExplorer
from tests.engine.latent.tiny_latent import gan_folder, vae_folder


@pytest.fixture
def registry(tmp_path):
    root = tmp_path / "models"
    root.mkdir()
    gan_folder(root, latent=8, size=8)
    vae_folder(root, latent=6, size=8)
    return ModelRegistry(roots=[(root, "user")])


@pytest.fixture
def explorer(registry, tmp_path):
    ex = LatentExplorer(registry, BookmarkLibrary(tmp_path / "bookmarks.json"))
    ex.open_model("tiny-gan", seed=5)
    return ex


def test_lists_only_gan_and_vae(explorer):
    assert sorted(e.id for e in explorer.models()) == ["tiny-gan", "tiny-vae"]


def test_seed_reproduces_the_centre(explorer):
    first = explorer.centre.copy()
    explorer.randomise(99)
    assert explorer.seed == 99
    explorer.randomise(5)
    np.testing.assert_array_equal(explorer.centre, first)


def test_grid_render_and_recentre_with_history(explorer):
    explorer.set_grid(size=5, spread=0.8)
    result = run_inline(explorer.grid_request())
    assert result.images.shape == (25, 8, 8, 3) and result.size == 5
    np.testing.assert_array_equal(result.latents[12], explorer.current())
    start = explorer.centre.copy()
    explorer.recentre(3, result.latents)
    np.testing.assert_array_equal(explorer.centre, result.latents[3])
    assert explorer.seed is None and explorer.can_go_back and not explorer.can_go_forward
    assert explorer.back()
    np.testing.assert_array_equal(explorer.centre, start)
    assert explorer.seed == 5
    assert explorer.forward()
    np.testing.assert_array_equal(explorer.centre, result.latents[3])


def test_sliders_move_the_image_and_survive_history(explorer):
    explorer.set_principal(run_inline(explorer.principal_request()), "tiny-gan")
    assert len(explorer.directions) >= 4 and explorer.sliders == [0.0] * len(explorer.directions)
    before = run_inline(explorer.grid_request()).images[4]
    explorer.set_slider(0, 0.9)
    after = run_inline(explorer.grid_request()).images[4]
    assert np.abs(after.astype(int) - before.astype(int)).mean() > 1.0
    explorer.randomise(7)
    assert explorer.sliders[0] == 0.0
    explorer.back()
    assert explorer.sliders[0] == pytest.approx(0.9)


def test_coalesced_grid_requests_render_only_the_latest(explorer):
    runner = JobRunner()
    try:
        blocker = runner.submit(type(explorer.grid_request())(lambda ctx: __import__("time").sleep(0.3), "block"))
        handles = []
        for value in (0.1, 0.2, 0.3, 0.4):
            explorer.spread = value
            handles.append(runner.submit(explorer.grid_request()))
        last = handles[-1].result(timeout=10)
        assert [h.state for h in handles[:-1]] == ["cancelled"] * 3
        np.testing.assert_array_equal(last.latents, explorer.grid_latents())
        blocker.wait(5)
    finally:
        runner.shutdown()


def test_truncation_pulls_toward_the_mean(explorer):
    explorer.set_truncation(0.0)
    images = run_inline(explorer.grid_request()).images
    assert np.all(images == images[0])  # every latent collapses to 0
    with pytest.raises(InputError):
        explorer.set_truncation(2.0)


def test_bookmarks_in_document_and_library(explorer, tmp_path):
    doc = Document(32, 32)
    mark = explorer.bookmark("first", doc)
    assert mark.seed == 5 and doc.dirty
    assert [m["name"] for m in doc.metadata[METADATA_KEY]] == ["first"]
    assert [m.name for m in BookmarkLibrary(tmp_path / "bookmarks.json").all()] == ["first"]
    explorer.randomise(6)
    explorer.recall(mark.bookmark_id, doc)
    np.testing.assert_allclose(explorer.centre, mark.latent)
    explorer.delete_bookmark(mark.bookmark_id, doc)
    assert explorer.bookmarks(doc) == [] and doc.metadata[METADATA_KEY] == []


def test_crossbreed_children(explorer):
    a = explorer.bookmark("a")
    explorer.randomise(8)
    b = explorer.bookmark("b")
    kids = explorer.breed([a.bookmark_id, b.bookmark_id], "crossover", 0.5, 4, seed=1)
    assert kids.shape == (4, 8)
    for kid in kids:
        from_a = np.isclose(kid, a.latent) | np.isclose(kid, b.latent)
        assert from_a.all()
    images = run_inline(explorer.children_request()).images
    assert images.shape == (4, 8, 8, 3)
    with pytest.raises(InputError):
        explorer.breed([a.bookmark_id], "mix", 0.5, 2)


def test_direction_from_two_bookmarks_and_saved_slider_mix(explorer, registry, tmp_path):
    a = explorer.bookmark("a")
    explorer.randomise(8)
    b = explorer.bookmark("b")
    explorer.define_direction(a.latent, b.latent, "a-to-b")
    assert explorer.directions[-1].name == "a-to-b"
    explorer.move_to(a.latent)
    explorer.set_slider(len(explorer.directions) - 1, 1.0 / explorer.directions[-1].span)
    np.testing.assert_allclose(explorer.current(), b.latent, atol=1e-5)
    saved = explorer.save_current_direction("my mix")
    assert saved.name == "my mix"
    again = LatentExplorer(registry, BookmarkLibrary(tmp_path / "bookmarks.json"))
    again.open_model("tiny-gan")
    assert [d.name for d in again.user_directions] == ["a-to-b", "my mix"]


def test_interpolation_export_gif_and_scrub(explorer, tmp_path):
    ids = []
    for seed in (1, 2, 3):
        explorer.randomise(seed)
        ids.append(explorer.bookmark(f"k{seed}").bookmark_id)
    explorer.set_path(ids)
    scrub = run_inline(explorer.scrub_request(0.5)).images
    assert scrub.shape == (1, 8, 8, 3)
    out = run_inline(explorer.export_request(tmp_path / "walk.gif", "gif", frames=9, fps=8, size=32))
    with Image.open(out[0]) as gif:
        assert gif.n_frames == 9 and gif.size == (32, 32)


def test_vae_encode_decode_round_trip_through_the_canvas(registry, tmp_path):
    ex = LatentExplorer(registry, BookmarkLibrary(tmp_path / "b.json"))
    space = ex.open_model("tiny-vae", seed=3)
    picture = space.decode(space.sample(11)[0] * 0.7)[0]  # an image the tiny VAE can represent exactly
    doc = Document(40, 30)
    doc.add_layer("painting", np.dstack([picture, np.full((8, 8), 255, np.uint8)]), origin=(10, 6))
    doc.select_rect(Rect(10, 6, 8, 8))
    mean, region, model_id = run_inline(ex.encode_request(doc, "layer"))
    assert ex.apply_encoded(mean, region, model_id)
    decoded = run_inline(ex.grid_request()).images[4]
    assert np.abs(decoded.astype(int) - picture.astype(int)).max() <= 3
    place = ex.default_placement(doc)
    assert place == Rect(10, 6, 8, 8)
    layers_before = len(doc.layers)
    layer = ex.place_on_canvas(doc, decoded, place.width, place.height, (place.x, place.y))
    assert len(doc.layers) == layers_before + 1 and layer.metadata["model_id"] == "tiny-vae"
    assert np.abs(layer.pixels[6:14, 10:18, :3].astype(int) - picture.astype(int)).max() <= 3
    doc.undo()
    assert len(doc.layers) == layers_before


def test_place_on_canvas_resamples_smoothly(explorer):
    doc = Document(64, 64)
    image = run_inline(explorer.grid_request()).images[4]
    layer = explorer.place_on_canvas(doc, image, 48, 48, (8, 8))
    region = layer.pixels[8:56, 8:56, :3].astype(int)
    # Lanczos, not nearest: far more distinct colours than the 64 source pixels
    assert len(np.unique(region.reshape(-1, 3), axis=0)) > 200


def test_encoding_needs_a_vae_and_something_to_encode(explorer, registry, tmp_path):
    doc = Document(16, 16, background=None)
    with pytest.raises(InputError, match="no encoder"):
        explorer.encode_request(doc)
    ex = LatentExplorer(registry, BookmarkLibrary(tmp_path / "b.json"))
    ex.open_model("tiny-vae")
    with pytest.raises(InputError, match="nothing to encode"):
        ex.encode_request(doc, "layer")


def test_a_queued_render_keeps_its_model_when_the_user_switches(explorer):
    request = explorer.grid_request()
    explorer.open_model("tiny-vae")
    result = run_inline(request)
    assert result.latents.shape[1] == 8 and result.images.shape == (9, 8, 8, 3)
