import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from genart_desktop.cli import run
from genart_desktop.document import Document
from genart_desktop.document.io.ora import load_ora, save_ora


@pytest.fixture
def layered(tmp_path):
    doc = Document(24, 16)
    pixels = np.zeros((16, 24, 4), np.uint8)
    pixels[4:12, 6:18] = (0, 0, 255, 255)
    doc.add_layer("Blue", pixels)
    doc.set_layer_property(1, blend_mode="multiply", opacity=0.5)
    path = tmp_path / "in.ora"
    save_ora(doc, path)
    return doc, path


def test_ora_to_png_jpeg_webp(tmp_path, layered, capsys):
    doc, path = layered
    for name in ("out.png", "out.jpg", "out.webp"):
        assert run(["--export", "--export-filename", str(tmp_path / name), str(path)]) == 0
        image = Image.open(tmp_path / name)
        assert image.size == (24, 16)
    assert np.array_equal(np.asarray(Image.open(tmp_path / "out.png")), doc.composite())
    assert "Exported in.ora" in capsys.readouterr().out


def test_png_to_ora_and_back(tmp_path):
    source = tmp_path / "photo.png"
    pixels = np.random.default_rng(1).integers(0, 256, (9, 7, 4), dtype=np.uint8)
    Image.fromarray(pixels, "RGBA").save(source)
    out = tmp_path / "photo.ora"
    assert run(["--export", "--export-filename", str(out), str(source)]) == 0
    doc = load_ora(out)
    assert len(doc.layers) == 1 and np.array_equal(doc.layers[0].pixels, pixels)


@pytest.mark.parametrize("case", ["missing", "corrupt", "bad_ext", "no_folder"])
def test_bad_input_exits_nonzero_with_one_line_and_writes_nothing(tmp_path, capsys, case):
    source = tmp_path / "in.png"
    out = tmp_path / "out.png"
    if case == "corrupt":
        source.write_bytes(b"\x89PNG\r\n\x1a\n junk")
    elif case != "missing":
        Image.new("RGB", (4, 4)).save(source)
    if case == "bad_ext":
        out = tmp_path / "out.gif"
    if case == "no_folder":
        out = tmp_path / "nope" / "out.png"
    before = sorted(p.name for p in tmp_path.iterdir())
    assert run(["--export", "--export-filename", str(out), str(source)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("genart: ") and "\n" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_command_line_entry_point_without_qt(tmp_path, layered):
    _, path = layered
    out = tmp_path / "cli.png"
    code = ("import sys; from genart_desktop.launcher import main; rc = main(sys.argv[1:]); "
            "assert 'PySide6' not in sys.modules; sys.exit(rc)")
    result = subprocess.run([sys.executable, "-c", code, "--export", "--export-filename", str(out), str(path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert out.is_file()
    bad = subprocess.run([sys.executable, "-c", code, "--export", "--export-filename", str(out), str(tmp_path / "x")],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0 and len(bad.stderr.strip().splitlines()) == 1
