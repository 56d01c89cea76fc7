import numpy as np
import pytest
from PIL import Image

from genart_desktop.core.errors import InputError, SaveError
from genart_desktop.engine.latent import animation

PILLOW_NAMES = {animation.GIF: "GIF", animation.WEBP: "WEBP", animation.APNG: "PNG"}


def _frames(count=6, size=(10, 12)):
    """Frames that differ from each other (encoders merge identical neighbours into one frame)."""
    h, w = size
    return [np.full((h, w, 3), (i * 40) % 256, np.uint8) for i in range(count)]


@pytest.mark.parametrize("fmt", animation.ANIMATED)
def test_animated_formats_round_trip(tmp_path, fmt):
    path = animation.export_animated(_frames(), tmp_path / f"walk.{fmt}", fps=10, fmt=fmt)
    with Image.open(path, formats=[PILLOW_NAMES[fmt]]) as image:
        assert image.format == PILLOW_NAMES[fmt] and image.size == (12, 10)
        assert image.n_frames == 6 and image.is_animated
        image.load()  # WebP reads the frame's duration when it decodes the frame
        assert image.info["duration"] == 100
        image.seek(5)
        assert abs(int(np.asarray(image.convert("RGB"))[0, 0, 0]) - 200) <= 3
    assert [p.name for p in tmp_path.iterdir()] == [f"walk.{fmt}"]


def test_loop_false_plays_once(tmp_path):
    path = animation.export_animated(_frames(3), tmp_path / "once.webp", fps=10, fmt=animation.WEBP, loop=False)
    with Image.open(path, formats=["WEBP"]) as image:
        assert image.info["loop"] == 1


def test_gif_duration_floor(tmp_path):
    path = animation.export_animated(_frames(2), tmp_path / "fast.gif", fps=100, fmt=animation.GIF)
    with Image.open(path, formats=["GIF"]) as image:
        assert image.info["duration"] == 20


def test_png_sequence(tmp_path):
    paths = animation.export_png_sequence(_frames(3), tmp_path, "walk")
    assert [p.name for p in paths] == ["walk_0001.png", "walk_0002.png", "walk_0003.png"]
    with Image.open(paths[2], formats=["PNG"]) as image:
        assert image.getpixel((0, 0)) == (80, 80, 80)
    assert sorted(p.name for p in tmp_path.iterdir()) == [p.name for p in paths]


def test_scale_frames_is_smooth_not_blocky():
    frame = np.zeros((4, 4, 3), np.uint8)
    frame[:, 2:] = 255
    big = animation.scale_frames([frame], 32, 32)[0]
    assert big.shape == (32, 32, 3)
    assert len(np.unique(big[16, :, 0])) > 3  # a resampled edge has intermediate values


@pytest.mark.parametrize("fmt", animation.ANIMATED)
def test_bad_input_writes_nothing(tmp_path, fmt):
    with pytest.raises(InputError):
        animation.export_animated([], tmp_path / "a", 10, fmt)
    with pytest.raises(InputError):
        animation.export_animated(_frames(), tmp_path / "a", 0, fmt)
    with pytest.raises(InputError):
        animation.export_animated([np.zeros((4, 4, 3), np.uint8), np.zeros((5, 4, 3), np.uint8)], tmp_path / "a", 5,
                                  fmt)
    with pytest.raises(SaveError) as error:
        animation.export_animated(_frames(), tmp_path / "missing" / "a", 10, fmt)
    assert "\n" not in str(error.value) and "missing" in str(error.value)
    assert list(tmp_path.iterdir()) == []


def test_unknown_format_is_refused(tmp_path):
    with pytest.raises(InputError, match="mp4"):
        animation.export_animated(_frames(), tmp_path / "a.mp4", 10, "mp4")
    with pytest.raises(InputError, match="mp4"):
        animation.export_animation(_frames(), tmp_path / "a.mp4", 10, "mp4")
    assert list(tmp_path.iterdir()) == []


def test_export_animation_dispatches(tmp_path):
    for fmt in animation.ANIMATED:
        written = animation.export_animation(_frames(2), tmp_path / f"x.{fmt}", 5)
        with Image.open(written[0], formats=[PILLOW_NAMES[fmt]]) as image:
            assert image.format == PILLOW_NAMES[fmt] and image.n_frames == 2
    out = tmp_path / "seq"
    out.mkdir()
    assert len(animation.export_animation(_frames(2), out, 5)) == 2
