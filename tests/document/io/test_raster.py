import numpy as np
import pytest
from PIL import Image

from genart_desktop.core.errors import InputError
from genart_desktop.document import Document
from genart_desktop.document.io.raster import (
    export_flat,
    load_image_document,
    load_image_pixels,
    open_document,
    save_document,
)


@pytest.mark.parametrize("name,mode", [
    ("a.png", "RGBA"), ("b.png", "P"), ("c.png", "LA"), ("d.png", "I;16"), ("e.jpg", "RGB"), ("f.jpg", "L"),
    ("g.jpg", "CMYK"), ("h.webp", "RGBA"), ("i.tif", "RGB"), ("j.tiff", "1"), ("k.bmp", "RGB"), ("l.png", "1"),
])
def test_import_any_format_and_mode(tmp_path, name, mode):
    rng = np.random.default_rng(0)
    image = Image.fromarray(rng.integers(0, 256, (12, 20, 3), dtype=np.uint8), "RGB")
    image = image.convert(mode) if mode not in ("I;16",) else image.convert("L").convert("I;16")
    path = tmp_path / name
    image.save(path)
    pixels = load_image_pixels(path)
    assert pixels.shape == (12, 20, 4) and pixels.dtype == np.uint8
    doc = load_image_document(path)
    assert (doc.width, doc.height) == (20, 12)
    assert doc.layers[0].name == path.stem and doc.path == path and not doc.dirty


def test_import_errors(tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    with pytest.raises(InputError):
        load_image_document(bad)
    with pytest.raises(InputError, match="does not exist"):
        open_document(tmp_path / "none.png")


def test_export_png_jpeg_webp(tmp_path):
    doc = Document(16, 16, background=None)
    doc.active_layer.pixels[4:12, 4:12] = (255, 0, 0, 255)
    export_flat(doc, tmp_path / "o.png")
    assert np.array_equal(np.asarray(Image.open(tmp_path / "o.png")), doc.composite())
    export_flat(doc, tmp_path / "o.jpg", quality=90)
    jpeg = np.asarray(Image.open(tmp_path / "o.jpg"))
    assert jpeg.shape == (16, 16, 3) and jpeg[0, 0].min() > 240  # transparent flattened on white
    export_flat(doc, tmp_path / "o.webp", quality=100)
    assert np.array_equal(np.asarray(Image.open(tmp_path / "o.webp").convert("RGBA"))[..., 3], doc.composite()[..., 3])
    assert doc.path is None  # export does not adopt the file
    with pytest.raises(InputError):
        export_flat(doc, tmp_path / "o.gif")
    assert not (tmp_path / "o.gif").exists()


def test_save_and_open_dispatch_on_extension(tmp_path):
    doc = Document(10, 10)
    doc.add_layer("Top")
    save_document(doc, tmp_path / "x.ora")
    assert len(open_document(tmp_path / "x.ora").layers) == 2
    save_document(doc, tmp_path / "x.png")
    assert doc.path == tmp_path / "x.png" and not doc.dirty
    assert len(open_document(tmp_path / "x.png").layers) == 1
