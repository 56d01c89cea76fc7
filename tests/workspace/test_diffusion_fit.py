"""AI results fit the painting (issue 18), Qt-free on a 1920x1080 document: never stretched, fitted or filled, cut to
an elliptical selection with a soft edge and no white box, sizes known before a job starts, inpainting blended."""

from __future__ import annotations

import dataclasses
import types

import numpy as np
import pytest

from genart_desktop.core.errors import InputError, ModelError
from genart_desktop.document.document import Document
from genart_desktop.document.geometry import Rect
from genart_desktop.engine.pipelines.generator import GenerationOutput
from genart_desktop.engine.registry import ModelRegistry
from genart_desktop.workspace.diffusion import FROM_CANVAS, GENERATE, INPAINT, DiffusionController
from genart_desktop.workspace.diffusion_blend import background_colour, cut_out, inward_feather, seam_energy
from genart_desktop.workspace.diffusion_models import model_info
from genart_desktop.workspace.diffusion_placement import Placement, lanczos, placed_pixels
from genart_desktop.workspace.workspace import Workspace
from tests.fixtures import painted_document
from tests.tiny_onnx import write_model_folder
from tests.workspace.tiny_diffusion import CLASS_COLOURS, SCHEDULE, colour_pixels, diffusion_folder, ideal_unet

RED = colour_pixels(CLASS_COLOURS[0])
ELLIPSE = Rect(400, 150, 974, 780)


def fixed_folder(root, model_id="tiny-fixed", side=16):
    """A class model whose U-Net graph only takes ``side`` x ``side`` samples."""
    unet = ideal_unet(True)
    for value in (*unet.graph.input[:1], *unet.graph.output):
        dims = value.type.tensor_type.shape.dim
        dims[2].dim_value = dims[3].dim_value = side
    config = {"schedule": SCHEDULE.to_dict(), "conditioning": {"type": "class", "classes": ["red", "green", "blue"]},
              "default_steps": 4, "default_guidance": 1.0}
    write_model_folder(root, model_id, "diffusion", {"unet": unet}, resolution=[side, side], config=config)


def heart(width, height):
    """A red disc on white, like an emoji without alpha."""
    yy, xx = np.mgrid[0:height, 0:width]
    inside = (xx - width / 2 + 0.5) ** 2 + (yy - height / 2 + 0.5) ** 2 < (min(width, height) * 0.35) ** 2
    pixels = np.full((height, width, 3), 255, np.uint8)
    pixels[inside] = (220, 30, 40)
    return pixels


class HeartModel:
    """Stands in for a loaded generator: renders the recipe's size as a red disc on white."""

    def render(self, recipe, init=None, mask=None, control=None):
        return GenerationOutput(heart(recipe.width, recipe.height), recipe)


@pytest.fixture
def registry(tmp_path):
    root = tmp_path / "models"
    fixed_folder(root)
    diffusion_folder(root, "tiny-class", conditioned=True)
    return ModelRegistry(roots=[(root, "user")])


def make(registry, **kw):
    return DiffusionController(Workspace(registry), preview_every=0, **kw)


def run(controller, action, doc, **changes):
    model = changes.pop("model_id", "tiny-fixed")
    base = controller.default_settings(model)
    s = dataclasses.replace(base, seed_mode="fixed", seed=3, class_label="red", guidance=1.0, **changes)
    entries, _ = controller.submit(action, s, doc)
    for entry in entries:
        assert entry.handle.wait(30)
    return entries


def opaque_box(alpha):
    ys, xs = np.nonzero(alpha > 0)
    return xs.min(), ys.min(), xs.max() + 1 - xs.min(), ys.max() + 1 - ys.min()


def test_fixed_size_model_fits_inside_an_ellipse_with_transparent_margins(registry):
    controller = make(registry)
    doc = painted_document(1920, 1080)
    doc.select_ellipse(ELLIPSE)
    before = doc.composite().copy()
    (entry,) = run(controller, GENERATE, doc, fit="fit")
    assert entry.state == "done" and (entry.recipe.width, entry.recipe.height) == (16, 16)
    layer = controller.accept(entry.id, doc)
    alpha = layer.pixels[..., 3]
    x, y, w, h = opaque_box(alpha)
    assert h == 780 and abs(w - 780) <= 2  # a square picture stays square: 780x780 inside 974x780
    assert abs(x - (ELLIPSE.x + (974 - 780) // 2)) <= 2 and y == ELLIPSE.y
    centre = layer.pixels[ELLIPSE.y + 390, ELLIPSE.x + 487]
    assert centre[3] == 255 and np.abs(centre[:3].astype(int) - RED).max() <= 2
    outside = doc.selection.mask == 0
    np.testing.assert_array_equal(doc.composite()[outside], before[outside])
    doc.undo()
    np.testing.assert_array_equal(doc.composite(), before)
    controller.workspace.shutdown()


def test_fill_crops_instead_of_stretching(registry):
    controller = make(registry)
    doc = painted_document(1920, 1080)
    doc.select_rect(ELLIPSE)
    (entry,) = run(controller, GENERATE, doc, fit="fill")
    placed = entry.placed
    assert placed.shape == (780, 974, 4) and (placed[..., 3] == 255).all()
    entry.placed = None  # as a result read back from a saved file: placed again when the canvas shows it
    np.testing.assert_array_equal(controller.landing(entry), placed)
    controller.workspace.shutdown()


def test_a_heart_lands_as_a_cut_out_sharp_through_the_upscaler_and_keep_background_keeps_the_box(registry):
    calls = []

    def upscaler(pixels, width, height):
        calls.append((pixels.shape[1], pixels.shape[0], width, height))
        return lanczos(pixels, width, height)

    controller = make(registry, loader=lambda _registry, _id: HeartModel(), scale=upscaler)
    doc = painted_document(1920, 1080)
    doc.select_ellipse(ELLIPSE)
    before = doc.composite().copy()
    (cut,) = run(controller, GENERATE, doc)
    assert calls == [(16, 16, 780, 780)]  # the small picture goes to the region's size through the scaler, once
    corner = cut.placed[390, 97 + 30]  # in the fitted square, outside the disc: the white is keyed out
    assert corner[3] == 0
    layer = controller.accept(cut.id, doc)
    after = doc.composite()
    inside_corner = (ELLIPSE.y + 390, ELLIPSE.x + 97 + 30)
    np.testing.assert_array_equal(after[inside_corner], before[inside_corner])  # no white box over the painting
    assert np.abs(after[ELLIPSE.y + 390, ELLIPSE.x + 487, :3].astype(int) - (220, 30, 40)).max() <= 3
    assert layer in doc.layers and doc.can_undo
    (kept,) = run(controller, GENERATE, doc, keep_background=True)
    assert kept.placed[390, 97 + 30, 3] == 255
    controller.workspace.shutdown()


def test_dynamic_model_generates_at_the_regions_shape_on_its_grid(registry):
    controller = make(registry)
    doc = painted_document(1920, 1080)
    doc.select_ellipse(ELLIPSE)
    (entry,) = run(controller, GENERATE, doc, model_id="tiny-class", width=64, height=64)
    assert (entry.recipe.width, entry.recipe.height) == (64, 48)  # 974:780 on the 8-pixel grid
    inside = doc.selection.mask[ELLIPSE.slices()] == 255
    assert (entry.placed[..., 3][inside] == 255).all()  # filled (a few pixels cropped), not stretched
    controller.workspace.shutdown()


def test_sizes_are_known_before_anything_runs(registry):
    controller = make(registry)
    info = controller.info("tiny-fixed")
    assert info.fixed_size == (16, 16) and "16\u00d716 images only" in info.size_rule()
    assert info.snap_size(256, 256) == (16, 16)
    with pytest.raises(InputError, match="16\u00d716 images only.*Generate at 16\u00d716"):
        controller.jobs(controller.default_settings("tiny-fixed"), "txt2img", (256, 256))
    # asking the dock for 256x256 generates natively and never fails after its steps
    (entry,) = run(controller, GENERATE, None, width=256, height=256)
    assert entry.state == "done" and entry.pixels.shape == (16, 16, 3)
    controller.workspace.shutdown()


def test_a_latent_models_fixed_decoder_fixes_its_size():
    spec = lambda *shape: types.SimpleNamespace(shape=list(shape))  # noqa: E731
    io = {"unet": types.SimpleNamespace(inputs={"sample": spec("batch", 4, "height", "width")}),
          "vae_decoder": types.SimpleNamespace(inputs={"latent": spec("batch", 4, 8, 8)})}
    card = types.SimpleNamespace(
        config={"conditioning": {"type": "none"}, "latent": {"factor": 8, "vae": "vae"}}, resolution=[64, 64], io=io,
        files={"unet": types.SimpleNamespace(sha256="ab" * 32), "vae_decoder": object()}, description="")
    info = model_info(types.SimpleNamespace(id="emoji", name="Emoji", family="diffusion", card=card))
    assert info.fixed_size == (64, 64) and info.snap_size(256, 256) == (64, 64)


def test_failed_results_leave_the_strip(registry):
    def broken(_registry, _id):
        raise ModelError("the U-Net file is damaged")

    controller = make(registry, loader=broken)
    seen = []
    controller.staged_changed.connect(lambda entry: seen.append(entry and (entry.state, entry.message)))
    run(controller, GENERATE, None)
    controller.workspace.shutdown()
    assert controller.staged == [] and ("failed", "the U-Net file is damaged") in seen


def test_inpainting_blends_without_a_hard_seam(registry):
    controller = make(registry)
    doc = painted_document(1920, 1080)
    doc.select_ellipse(ELLIPSE)
    before = doc.composite().copy()
    figures = {}
    for feather in (0, 24):
        (entry,) = run(controller, INPAINT, doc, model_id="tiny-class", feather=feather, strength=1.0)
        layer = controller.accept(entry.id, doc)
        after = doc.composite()
        np.testing.assert_array_equal(after[doc.selection.mask == 0], before[doc.selection.mask == 0])
        figures[feather] = seam_energy(after, doc.selection.mask)
        doc.undo()
        assert layer not in doc.layers
    assert figures[24] < 0.7 * figures[0]
    controller.workspace.shutdown()


def test_from_canvas_on_a_large_region_keeps_fine_detail_where_strength_is_low(registry):
    controller = make(registry)
    pixels = painted_document(1920, 1080).composite().copy()
    texture = np.random.default_rng(0).integers(-40, 40, (1080, 1920, 1))
    pixels[..., :3] = np.clip(pixels[..., :3].astype(int) + texture, 0, 255).astype(np.uint8)
    doc = Document(1920, 1080)
    doc.add_layer("Paint", pixels=pixels)
    source = pixels[..., :3]

    def high(image):
        image = np.asarray(image, np.float32)
        return image - lanczos(lanczos(image.astype(np.uint8), 64, 36), 1920, 1080).astype(np.float32)

    detail = {}
    for strength in (0.3, 1.0):
        (entry,) = run(controller, FROM_CANVAS, doc, model_id="tiny-class", strength=strength, width=64, height=64)
        assert entry.placed.shape == (1080, 1920, 4)  # back at the canvas's size, not the model's
        ratio = np.abs(high(entry.placed[..., :3])).mean() / np.abs(high(source)).mean()
        detail[strength] = ratio
    assert detail[0.3] == pytest.approx(0.7, abs=0.12) and detail[1.0] < 0.1
    controller.workspace.shutdown()


def test_blend_helpers():
    mask = np.zeros((40, 40), np.uint8)
    mask[10:30, 10:30] = 255
    soft = inward_feather(mask, 4)
    assert soft[20, 20] == 1.0 and (soft[mask == 0] == 0).all() and 0 < soft[10, 20] < 0.5
    assert background_colour(np.full((16, 16, 3), 200, np.uint8)) is None  # all background: keep it whole
    ring = heart(32, 32)
    ring[14:18, 14:18] = 255  # a white patch inside the subject is not background
    colour = background_colour(ring)
    cut = cut_out(ring, ring, colour)
    assert cut[0, 0, 3] == 0 and cut[16, 16, 3] == 255 and cut[16, 8, 3] == 255
    ramp = np.dstack([np.tile(np.linspace(0, 255, 40), (40, 1))] * 3).astype(np.uint8)
    pasted = ramp.copy()
    pasted[mask > 0] = 200
    assert seam_energy(ramp, mask) < 1.5 < 3 < seam_energy(pasted, mask)
    placed = placed_pixels(heart(16, 16), Placement(Rect(0, 0, 64, 32), fit="fit"))
    assert placed.shape == (32, 64, 4) and (placed[:, :16, 3] == 0).all() and (placed[:, 16:48, 3] == 255).all()


def test_a_placement_that_cannot_land_is_refused_when_made():
    with pytest.raises(InputError, match="mask does not match"):
        Placement(Rect(0, 0, 10, 8), np.zeros((4, 4), np.uint8))
    with pytest.raises(InputError, match="source does not match"):
        Placement(Rect(0, 0, 10, 8), source=np.zeros((8, 9, 3), np.uint8))
    with pytest.raises(InputError, match="Unknown placement"):
        Placement(Rect(0, 0, 10, 8), fit="stretch")
