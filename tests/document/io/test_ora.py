import io
import zipfile

import numpy as np
import pytest
from PIL import Image

from genart_desktop.core.errors import InputError, SaveError
from genart_desktop.document import BrushSettings, Document
from genart_desktop.document.io import ora
from genart_desktop.document.io.ora import load_ora, save_ora
from genart_desktop.document.layer import BLEND_MODES


def make_doc():
    doc = Document(64, 48)
    rng = np.random.default_rng(3)
    for i, mode in enumerate(BLEND_MODES):
        pixels = rng.integers(0, 256, (48, 64, 4), dtype=np.uint8)
        pixels[: i * 5] = 0
        pixels[-3:, :, 3] = 0  # colour hidden under zero alpha must survive too
        doc.add_layer(f"L{i} ünïcode & <xml>", pixels)
        doc.set_layer_property(doc.active_index, blend_mode=mode, opacity=round(0.3 + i * 0.1, 3),
                               visible=i % 3 != 1, locked=i == 2)
    doc.active_layer.metadata["model"] = "style/starry"
    doc.metadata["bookmarks"] = [[0.1, 0.2]]
    doc.set_active(3)
    return doc


def png(pixels):
    buffer = io.BytesIO()
    Image.fromarray(pixels, "RGBA").save(buffer, "PNG")
    return buffer.getvalue()


def write_zip(path, stack_xml, members=None, mimetype=b"image/openraster"):
    with zipfile.ZipFile(path, "w") as archive:
        if mimetype is not None:
            archive.writestr("mimetype", mimetype)
        if stack_xml is not None:
            archive.writestr("stack.xml", stack_xml)
        for name, data in (members or {}).items():
            archive.writestr(name, data)


def test_round_trip_is_lossless(tmp_path):
    doc = make_doc()
    path = tmp_path / "art.ora"
    save_ora(doc, path)
    assert doc.path == path and not doc.dirty
    back = load_ora(path)
    assert (back.width, back.height) == (64, 48)
    assert len(back.layers) == len(doc.layers)
    for a, b in zip(doc.layers, back.layers):
        assert a.properties() == b.properties()
        assert np.array_equal(a.pixels, b.pixels)
        assert a.metadata == b.metadata
    assert back.active_index == 3
    assert back.metadata == {"bookmarks": [[0.1, 0.2]]}
    assert np.array_equal(back.composite(), doc.composite())
    assert not back.dirty and not back.can_undo and back.path == path


def test_layout_follows_the_spec(tmp_path):
    path = tmp_path / "art.ora"
    save_ora(make_doc(), path)
    with zipfile.ZipFile(path) as archive:
        first = archive.infolist()[0]
        assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED
        assert archive.read("mimetype") == b"image/openraster"
        names = set(archive.namelist())
        assert {"stack.xml", "mergedimage.png", "Thumbnails/thumbnail.png"} <= names
        assert sum(n.startswith("data/") and n.endswith(".png") for n in names) == len(BLEND_MODES) + 1
        xml = archive.read("stack.xml").decode()
        assert 'composite-op="svg:multiply"' in xml and 'composite-op="svg:plus"' in xml
        assert 'visibility="hidden"' in xml
        thumb = Image.open(io.BytesIO(archive.read("Thumbnails/thumbnail.png")))
        assert max(thumb.size) <= 256
    # the file starts with the uncompressed mimetype at a fixed offset, as the spec asks
    assert path.read_bytes()[30:38] == b"mimetype"


def test_failed_save_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "art.ora"
    save_ora(Document(8, 8), path)
    old = path.read_bytes()
    doc = make_doc()
    doc.add_layer()

    def explode(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ora, "_png_bytes", explode)
    with pytest.raises(SaveError):
        save_ora(doc, path)
    assert path.read_bytes() == old
    assert doc.dirty and doc.path is None
    assert [p.name for p in tmp_path.iterdir()] == ["art.ora"]


def test_layers_outside_the_canvas_are_cropped_and_groups_flattened(tmp_path):
    layer = np.full((10, 10, 4), 200, np.uint8)
    xml = b"""<image w="8" h="8"><stack>
      <stack name="g" opacity="0.5" x="1" y="0"><layer name="in group" src="data/b.png" x="0" y="0"/></stack>
      <layer name="off" src="data/a.png" x="-5" y="4" composite-op="svg:color-dodge"/>
    </stack></image>"""
    path = tmp_path / "x.ora"
    write_zip(path, xml, {"data/a.png": png(layer), "data/b.png": png(layer[:2, :2])})
    doc = load_ora(path)
    bottom, top = doc.layers
    assert bottom.name == "off" and bottom.blend_mode == "normal"
    assert bottom.metadata["ora_composite_op"] == "svg:color-dodge"
    assert bottom.pixels[4:, :5, 3].min() == 200 and bottom.pixels[:4].max() == 0 and bottom.pixels[:, 5:].max() == 0
    assert top.opacity == 0.5 and top.pixels[0, 1, 3] == 200 and top.pixels[0, 0, 3] == 0


@pytest.mark.parametrize("src", ["../evil.png", "data/../../evil.png", "C:/evil.png", "//server/x.png",
                                 "data\\evil.png", "data//x.png", ""])
def test_path_traversal_names_are_refused(tmp_path, src):
    path = tmp_path / "evil.ora"
    xml = f'<image w="4" h="4"><stack><layer name="x" src="{src}"/></stack></image>'.encode()
    write_zip(path, xml, {"data/x.png": png(np.zeros((4, 4, 4), np.uint8))})
    with pytest.raises(InputError, match="evil.ora"):
        load_ora(path)


@pytest.mark.parametrize("xml,reason", [
    (None, "stack.xml is missing"),
    (b"<image w='4' h='4'><stack><layer", "malformed"),
    (b"<picture/>", "instead of <image>"),
    (b"<image w='4' h='4'></image>", "no <stack>"),
    (b"<image w='4' h='4'><stack/></image>", "no layers"),
    (b"<image w='0' h='4'><stack/></image>", "Canvas size"),
    (b"<image w='40000' h='40000'><stack/></image>", "Canvas size"),
    (b"<image w='4' h='4'><stack><layer src='data/x.png' opacity='nan'/></stack></image>", "finite"),
    (b"<image w='4' h='4'><stack><layer src='data/missing.png'/></stack></image>", "missing"),
    (b"<!DOCTYPE x [<!ENTITY a 'aaaa'>]><image w='4' h='4'><stack/></image>", "entities"),
])
def test_malformed_stack_xml_is_refused(tmp_path, xml, reason):
    path = tmp_path / "bad.ora"
    write_zip(path, xml, {"data/x.png": png(np.zeros((4, 4, 4), np.uint8))})
    with pytest.raises(InputError, match=reason):
        load_ora(path)


def test_wrong_mimetype_not_a_zip_and_broken_png(tmp_path):
    path = tmp_path / "a.ora"
    write_zip(path, b"<image w='4' h='4'><stack/></image>", mimetype=b"application/zip")
    with pytest.raises(InputError, match="mimetype"):
        load_ora(path)
    path.write_bytes(b"not a zip at all")
    with pytest.raises(InputError, match="zip"):
        load_ora(path)
    write_zip(path, b"<image w='4' h='4'><stack><layer src='data/x.png'/></stack></image>",
              {"data/x.png": b"\x89PNG\r\n\x1a\nbroken"})
    with pytest.raises(InputError):
        load_ora(path)
    with pytest.raises(InputError, match="does not exist"):
        load_ora(tmp_path / "nope.ora")


def test_zip_bombs_are_refused(tmp_path, monkeypatch):
    path = tmp_path / "bomb.ora"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", b"image/openraster", compress_type=zipfile.ZIP_STORED)
        archive.writestr("stack.xml", b"<image w='4' h='4'><stack/></image>")
        archive.writestr("data/zeros.bin", b"\0" * (8 << 20))  # 8 MiB of zeros deflate ~1000:1
    with pytest.raises(InputError, match="zip bomb"):
        load_ora(path)
    monkeypatch.setattr(ora, "MAX_TOTAL_BYTES", 1000)
    monkeypatch.setattr(ora, "MAX_RATIO", 10**9)
    with pytest.raises(InputError, match="unpack to more than"):
        load_ora(path)


def test_painting_then_saving_commits_the_stroke(tmp_path):
    doc = Document(32, 32)
    stroke = doc.begin_stroke(BrushSettings(size=6, color=(0, 0, 0)))
    stroke.add_point(16, 16)
    save_ora(doc, tmp_path / "s.ora")
    assert doc.can_undo and not doc.dirty
    assert load_ora(tmp_path / "s.ora").layers[0].pixels[16, 16, 0] == 0
