"""PNG files with their diffusion recipe: round trip, atomic writes, and damaged recipes refused clearly."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from genart_desktop.core.errors import InputError, SaveError
from genart_desktop.engine.pipelines.recipe import RECIPE_KEY, Recipe
from genart_desktop.workspace.recipe_png import check_recipe, read_recipe, read_recipe_png, write_recipe_png

RECIPE = Recipe(model_id="tiny-class", model_hash="0123456789abcdef", seed=4242, steps=12, sampler="ddim",
                guidance=2.5, prompt="red", negative_prompt="blurry, dark", width=24, height=16, strength=0.4,
                mode="img2img", eta=0.3, class_label="red")


def pixels(h=16, w=24):
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (h, w, 3), dtype=np.uint8)


def png_with_text(tmp_path, text, name="x.png"):
    info = PngInfo()
    info.add_itxt(RECIPE_KEY, text)
    path = tmp_path / name
    Image.fromarray(pixels()).save(path, pnginfo=info)
    return path


def test_round_trip_keeps_pixels_and_every_recipe_field(tmp_path):
    image = pixels()
    path = write_recipe_png(tmp_path / "out.png", image, RECIPE)
    back, recipe = read_recipe_png(path)
    assert recipe == RECIPE
    np.testing.assert_array_equal(back[..., :3], image)
    assert (back[..., 3] == 255).all()
    with Image.open(path) as png:  # people and other tools see a readable line too
        assert "Seed: 4242" in png.text["parameters"] and "Model hash: 0123456789abcdef" in png.text["parameters"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.png"]  # no temporary files left


def test_rgba_pixels_are_kept(tmp_path):
    image = np.dstack([pixels(), np.full((16, 24), 128, np.uint8)])
    back, _ = read_recipe_png(write_recipe_png(tmp_path / "a.png", image, RECIPE))
    np.testing.assert_array_equal(back, image)


def test_failed_write_leaves_the_old_file_and_no_partial_file(tmp_path):
    target = tmp_path / "keep.png"
    write_recipe_png(target, pixels(), RECIPE)
    before = target.read_bytes()
    with pytest.raises(InputError):
        write_recipe_png(target, np.zeros((4, 4), np.float32), RECIPE)  # not an image
    with pytest.raises(InputError, match="sampler"):
        write_recipe_png(target, pixels(), Recipe(model_id="m", sampler="nope"))
    assert target.read_bytes() == before
    with pytest.raises(SaveError):
        write_recipe_png(tmp_path / "missing" / "x.png", pixels(), RECIPE)
    with pytest.raises(InputError, match="PNG"):
        write_recipe_png(tmp_path / "x.jpg", pixels(), RECIPE)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.png"]


def test_png_without_recipe_and_broken_files_are_clear_errors(tmp_path):
    plain = tmp_path / "plain.png"
    Image.fromarray(pixels()).save(plain)
    with pytest.raises(InputError, match="carries no GenArt recipe"):
        read_recipe(plain)
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    with pytest.raises(InputError, match="broken.png"):
        read_recipe(broken)
    with pytest.raises(InputError, match="does not exist"):
        read_recipe(tmp_path / "nothing.png")


@pytest.mark.parametrize("change, match", [
    ({"steps": -3}, "steps"),
    ({"steps": 5000}, "steps"),
    ({"steps": "many"}, "steps"),
    ({"sampler": "warp-drive"}, "sampler"),
    ({"guidance": 1e9}, "guidance"),
    ({"guidance": "NaN"}, "guidance"),
    ({"strength": 2.0}, "strength"),
    ({"seed": -1}, "seed"),
    ({"seed": 2**70}, "seed"),
    ({"width": 100000}, "size"),
    ({"mode": "explode"}, "mode"),
    ({"model_id": ""}, "model"),
    ({"prompt": ["not", "text"]}, "prompt"),
    ({"format": "other/9"}, "format"),
])
def test_garbage_recipe_values_are_refused_by_name(tmp_path, change, match):
    data = RECIPE.to_dict()
    data.update(change)
    path = png_with_text(tmp_path, json.dumps(data))
    with pytest.raises(InputError, match=match):
        read_recipe(path)


def test_recipe_that_is_not_json_is_refused(tmp_path):
    with pytest.raises(InputError, match="not valid JSON"):
        read_recipe(png_with_text(tmp_path, "{seed: 3"))
    with pytest.raises(InputError, match="JSON object"):
        read_recipe(png_with_text(tmp_path, "[1, 2]", "list.png"))


def test_sampler_aliases_are_normalised_and_bytes_can_be_read(tmp_path):
    data = RECIPE.to_dict()
    data["sampler"] = "DPM++2M"
    path = png_with_text(tmp_path, json.dumps(data))
    assert read_recipe(path).sampler == "dpmpp_2m"
    assert read_recipe(path.read_bytes()).seed == RECIPE.seed
    assert check_recipe(RECIPE) is RECIPE
    buffer = io.BytesIO()
    Image.fromarray(pixels()).save(buffer, format="PNG")
    with pytest.raises(InputError, match="no GenArt recipe"):
        read_recipe(buffer.getvalue())


def test_an_animated_png_is_read_from_its_first_frame_only(tmp_path, monkeypatch):
    """``Image.text`` would decode every frame of an APNG to look for late text chunks; the reader must not."""
    from PIL import PngImagePlugin

    info = PngInfo()
    info.add_itxt(RECIPE_KEY, RECIPE.to_json())
    frames = [Image.new("RGB", (24, 16), (i, 0, 0)) for i in range(60)]
    path = tmp_path / "anim.png"
    frames[0].save(path, "PNG", save_all=True, append_images=frames[1:], pnginfo=info)
    seeks = []
    real_seek = PngImagePlugin.PngImageFile.seek
    monkeypatch.setattr(PngImagePlugin.PngImageFile, "seek", lambda self, frame: seeks.append(frame) or
                        real_seek(self, frame))
    read_pixels, recipe = read_recipe_png(path)
    assert recipe == RECIPE and read_pixels.shape == (16, 24, 4) and read_pixels[..., 0].max() == 0
    assert set(seeks) <= {0}


def test_text_after_the_pixels_is_still_found(tmp_path):
    """Another tool may move text chunks after the image data; a still PNG is decoded (first frame) to find them."""
    from tests.hardening.corpus import png_chunk

    data = bytearray((png_with_text(tmp_path, "{}")).read_bytes())  # any PNG; its own chunk is replaced below
    start = data.index(b"iTXt") - 4
    length = int.from_bytes(data[start:start + 4], "big")
    data[start:start + 12 + length] = b""
    chunk = png_chunk(b"tEXt", RECIPE_KEY.encode() + b"\0" + RECIPE.to_json().encode())
    end = data.index(b"IEND") - 4
    path = tmp_path / "late.png"
    path.write_bytes(bytes(data[:end]) + chunk + bytes(data[end:]))
    assert read_recipe(path) == RECIPE
