import stat
import subprocess
import sys
import types

import numpy as np
import pytest

from genart_desktop.core.errors import JobCancelled, SaveError
from genart_desktop.workspace.latent import mp4

REAL = mp4.find_encoder()
needs_ffmpeg = pytest.mark.skipif(REAL is None, reason="no ffmpeg (imageio-ffmpeg or on the PATH)")


def _frames(count=8, size=(15, 21)):
    h, w = size
    return [np.full((h, w, 3), (i * 30) % 256, np.uint8) for i in range(count)]


def _without_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)  # import raises ImportError


def _path_ffmpeg(monkeypatch, exe):
    monkeypatch.setattr(mp4.shutil, "which", lambda name: exe if name == "ffmpeg" else None)


def _decoded(exe, path):
    """The file's frames as raw RGB bytes, decoded by ffmpeg itself."""
    return subprocess.run([exe, "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"],
                          capture_output=True, check=True).stdout


def test_package_ffmpeg_comes_first(monkeypatch, tmp_path):
    exe = tmp_path / "ffmpeg-static"
    exe.write_bytes(b"")
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", types.SimpleNamespace(get_ffmpeg_exe=lambda: str(exe)))
    _path_ffmpeg(monkeypatch, "/usr/bin/ffmpeg")
    assert mp4.find_encoder() == mp4.Encoder(str(exe), mp4.FROM_PACKAGE)


def test_system_ffmpeg_without_the_package(monkeypatch):
    _without_package(monkeypatch)
    _path_ffmpeg(monkeypatch, "/usr/bin/ffmpeg")
    encoder = mp4.find_encoder()
    assert encoder == mp4.Encoder("/usr/bin/ffmpeg", mp4.FROM_PATH)
    assert "system" in encoder.describe() and "/usr/bin/ffmpeg" in encoder.describe()


def test_a_package_without_its_binary_falls_back_to_the_path(monkeypatch):
    def broken():
        raise RuntimeError("No ffmpeg exe could be found.")

    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", types.SimpleNamespace(get_ffmpeg_exe=broken))
    _path_ffmpeg(monkeypatch, "/opt/bin/ffmpeg")
    assert mp4.find_encoder().source == mp4.FROM_PATH


def test_neither_encoder_is_one_clear_line_and_writes_nothing(monkeypatch, tmp_path):
    _without_package(monkeypatch)
    _path_ffmpeg(monkeypatch, None)
    assert mp4.find_encoder() is None
    with pytest.raises(SaveError) as error:
        mp4.export_mp4(_frames(), tmp_path / "walk.mp4", 12)
    message = str(error.value)
    assert "\n" not in message and "sudo apt install ffmpeg" in message and "genart-desktop[mp4]" in message
    assert list(tmp_path.iterdir()) == []


@needs_ffmpeg
@pytest.mark.parametrize("source", [mp4.FROM_PACKAGE, mp4.FROM_PATH])
def test_mp4_round_trip(monkeypatch, tmp_path, source):
    if source == mp4.FROM_PATH:  # the same binary, found the way a system ffmpeg is
        _without_package(monkeypatch)
        _path_ffmpeg(monkeypatch, REAL.executable)
    elif REAL.source != mp4.FROM_PACKAGE:
        pytest.skip("imageio-ffmpeg is not installed")
    assert mp4.find_encoder().source == source
    seen = []
    path = mp4.export_mp4(_frames(8, (15, 21)), tmp_path / "walk.mp4", 12, progress=seen.append)
    assert path.read_bytes()[4:8] == b"ftyp"
    assert len(_decoded(REAL.executable, path)) == 8 * 16 * 22 * 3  # 8 frames, odd sides made even
    assert seen[-1] == 1.0
    assert [p.name for p in tmp_path.iterdir()] == ["walk.mp4"]


@needs_ffmpeg
def test_bad_output_path_is_one_line_and_writes_nothing(tmp_path):
    with pytest.raises(SaveError) as error:
        mp4.export_mp4(_frames(), tmp_path / "missing" / "walk.mp4", 12, encoder=REAL)
    assert "\n" not in str(error.value) and "missing" in str(error.value)
    (tmp_path / "walk.mp4").mkdir()
    with pytest.raises(SaveError, match="folder of that name"):
        mp4.export_mp4(_frames(), tmp_path / "walk.mp4", 12, encoder=REAL)
    assert [p.name for p in tmp_path.iterdir()] == ["walk.mp4"]


def test_failing_ffmpeg_is_one_line_and_writes_nothing(tmp_path):
    fake = tmp_path / "bin" / "ffmpeg"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho \"Unknown encoder 'libx264'\" >&2\nexit 1\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(SaveError) as error:
        mp4.export_mp4(_frames(200, (64, 64)), out / "walk.mp4", 12, encoder=mp4.Encoder(str(fake), mp4.FROM_PATH))
    assert str(error.value) == ("Cannot save walk.mp4: ffmpeg failed (Unknown encoder 'libx264'). "
                                "Nothing was written.")
    assert list(out.iterdir()) == []


@needs_ffmpeg
def test_cancel_writes_nothing(tmp_path):
    with pytest.raises(JobCancelled):
        mp4.export_mp4(_frames(), tmp_path / "walk.mp4", 12, cancelled=lambda: True, encoder=REAL)
    assert list(tmp_path.iterdir()) == []
