import numpy as np
import pytest
from PIL import Image

from genart_desktop.core.errors import InputError, SaveError
from genart_desktop.engine.latent import animation


def _frames(count=6, size=(10, 12)):
    h, w = size
    return [np.full((h, w, 3), (i * 40) % 256, np.uint8) for i in range(count)]


def test_gif_is_valid_and_has_all_frames(tmp_path):
    path = animation.export_gif(_frames(), tmp_path / "walk.gif", fps=10)
    with Image.open(path) as image:
        assert image.format == "GIF" and image.n_frames == 6 and image.size == (12, 10)
        assert image.info["duration"] == 100
    assert [p.name for p in tmp_path.iterdir()] == ["walk.gif"]


def test_png_sequence(tmp_path):
    paths = animation.export_png_sequence(_frames(3), tmp_path, "walk")
    assert [p.name for p in paths] == ["walk_0001.png", "walk_0002.png", "walk_0003.png"]
    with Image.open(paths[2]) as image:
        assert image.getpixel((0, 0)) == (80, 80, 80)
    assert sorted(p.name for p in tmp_path.iterdir()) == [p.name for p in paths]


def test_scale_frames_is_smooth_not_blocky():
    frame = np.zeros((4, 4, 3), np.uint8)
    frame[:, 2:] = 255
    big = animation.scale_frames([frame], 32, 32)[0]
    assert big.shape == (32, 32, 3)
    assert len(np.unique(big[16, :, 0])) > 3  # a resampled edge has intermediate values


def test_bad_input_writes_nothing(tmp_path):
    with pytest.raises(InputError):
        animation.export_gif([], tmp_path / "a.gif", 10)
    with pytest.raises(InputError):
        animation.export_gif(_frames(), tmp_path / "a.gif", 0)
    with pytest.raises(InputError):
        animation.export_gif([np.zeros((4, 4, 3), np.uint8), np.zeros((5, 4, 3), np.uint8)], tmp_path / "a.gif", 5)
    with pytest.raises(SaveError):
        animation.export_gif(_frames(), tmp_path / "missing" / "a.gif", 10)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not animation.mp4_available(), reason="ffmpeg (imageio-ffmpeg) is not installed")
def test_mp4_is_valid(tmp_path):
    import imageio.v2 as imageio

    path = animation.export_mp4(_frames(8, (15, 21)), tmp_path / "walk.mp4", fps=12)
    data = path.read_bytes()
    assert data[4:8] == b"ftyp"
    reader = imageio.get_reader(path)
    try:
        frames = [f for f in reader]
    finally:
        reader.close()
    assert len(frames) == 8 and frames[0].shape == (16, 22, 3)  # odd sizes resampled to even
    assert [p.name for p in tmp_path.iterdir()] == ["walk.mp4"]


def test_mp4_without_ffmpeg_is_a_clear_error(tmp_path, monkeypatch):
    def missing():
        raise SaveError("MP4 export needs ffmpeg, which was not found (install the imageio-ffmpeg package).")

    monkeypatch.setattr(animation, "ffmpeg_executable", missing)
    assert not animation.mp4_available()
    with pytest.raises(SaveError, match="ffmpeg"):
        animation.export_mp4(_frames(), tmp_path / "a.mp4", 10)
    assert list(tmp_path.iterdir()) == []


def test_export_animation_dispatches(tmp_path):
    assert animation.export_animation(_frames(2), tmp_path / "x.gif", 5)[0].suffix == ".gif"
    out = tmp_path / "seq"
    out.mkdir()
    assert len(animation.export_animation(_frames(2), out, 5)) == 2
