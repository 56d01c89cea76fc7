"""OpenRaster limits that keep a small hostile file cheap: the zip directory is sized up before it is parsed, each
layer image is decoded once within one pixel budget, stack.xml has no DTD in any encoding, and layer names stay short
enough that what the app saves it can open again."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
from PIL import Image

from genart_desktop.core.errors import InputError
from genart_desktop.document import Document
from genart_desktop.document.io import ora
from genart_desktop.document.io.ora import MAX_LAYER_NAME, load_ora, save_ora
from genart_desktop.document.io.plain_xml import parse_plain_xml
from genart_desktop.document.io.zip_directory import directory_extent
from tests.hardening.corpus import make_ora, simple_ora, stack_xml
from tests.hardening.corpus_files import _forged_zip64_end


def png(width: int, height: int, value: int = 200) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (width, height), (value, value, value, 255)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("zip64", [False, True])
def test_directory_extent_matches_what_zipfile_finds(tmp_path, monkeypatch, zip64):
    if zip64:  # as if the archive held more than 65535 entries: zipfile then writes zip64 end records
        monkeypatch.setattr(zipfile, "ZIP_FILECOUNT_LIMIT", 5)
    path = make_ora(tmp_path, "x.ora", [("stack.xml", b"<image/>")] + [(f"m{i}", b"") for i in range(20)],
                    compress=zipfile.ZIP_STORED)
    assert (b"PK\x06\x06" in path.read_bytes()[-200:]) == zip64
    with open(path, "rb") as handle, zipfile.ZipFile(path) as archive:
        entries, size = directory_extent(handle)
        assert entries == len(archive.infolist()) == 22
        assert size == sum(46 + len(info.filename.encode()) + len(info.extra) + len(info.comment)
                           for info in archive.infolist())
    with io.BytesIO(b"not a zip") as handle:
        assert directory_extent(handle) is None


def test_claimed_entries_are_refused_before_zipfile_parses_anything(tmp_path, monkeypatch):
    path = tmp_path / "claims.ora"
    path.write_bytes(_forged_zip64_end(simple_ora(tmp_path, "small.ora").read_bytes(), 3_000_000, 4096))
    monkeypatch.setattr(zipfile, "ZipFile", lambda *a, **k: pytest.fail("the directory was parsed"))
    with pytest.raises(InputError, match=r"claims\.ora: it holds 3,000,000 files, more than 10,000"):
        load_ora(path)


def test_a_real_directory_over_the_size_cap_is_refused(tmp_path, monkeypatch):
    path = make_ora(tmp_path, "toc.ora", [("stack.xml", stack_xml([{"src": "data/a.png"}])),
                                          ("data/a.png", png(4, 4))] + [(f"pad/{i:04}", b"") for i in range(50)])
    assert load_ora(path).layers
    monkeypatch.setattr(ora, "MAX_DIRECTORY_BYTES", 1000)
    with pytest.raises(InputError, match="toc.ora: its table of contents is [0-9,]+ bytes, more than 1,000"):
        load_ora(path)


def test_each_layer_image_is_decoded_once(tmp_path, monkeypatch):
    layers = [{"name": f"l{i}", "src": "data/a.png" if i % 3 else "/data/b.png"} for i in range(30)]
    path = make_ora(tmp_path, "shared.ora", [("stack.xml", stack_xml(layers)), ("data/a.png", png(16, 12, 10)),
                                             ("data/b.png", png(16, 12, 20))])
    decoded = []
    real = ora.open_image_rgba
    monkeypatch.setattr(ora, "open_image_rgba", lambda data, **k: decoded.append(len(data)) or real(data, **k))
    doc = load_ora(path)
    assert len(decoded) == 2 and len(doc.layers) == 30
    assert [int(layer.pixels[0, 0, 0]) for layer in doc.layers[::-1][:4]] == [20, 10, 10, 20]


def test_decoded_pixels_have_one_budget_for_the_whole_file(tmp_path, monkeypatch):
    members = [(f"data/{i}.png", png(16, 12)) for i in range(3)]
    path = make_ora(tmp_path, "budget.ora", [("stack.xml", stack_xml([{"src": m} for m, _ in members]))] + members)
    assert len(load_ora(path).layers) == 3
    monkeypatch.setattr(ora, "MAX_DECODED_PIXELS", 16 * 12 * 2 + 5)
    with pytest.raises(InputError, match=r"budget.ora: layer 'data/\d.png': 16x12 is larger than the 5 pixel limit "
                                         r"\(the file's layers may decode to 389 pixels in all\)"):
        load_ora(path)


def test_a_layer_image_may_be_as_large_as_the_canvas_but_not_much_larger(tmp_path, monkeypatch):
    monkeypatch.setattr(ora, "MAX_DECODE_PIXELS", 100)
    fits = make_ora(tmp_path, "fits.ora", [("stack.xml", stack_xml([{"src": "data/a.png"}], 16, 12)),
                                           ("data/a.png", png(16, 12))])
    assert load_ora(fits).layers[0].pixels.shape == (12, 16, 4)
    larger = make_ora(tmp_path, "larger.ora", [("stack.xml", stack_xml([{"src": "data/a.png"}], 16, 12)),
                                               ("data/a.png", png(16, 13))])
    with pytest.raises(InputError, match="larger.ora: layer 'data/a.png': 16x13 is larger than the 192 pixel limit"):
        load_ora(larger)


def test_big_documents_are_refused_before_any_layer_is_decoded(tmp_path, monkeypatch):
    path = make_ora(tmp_path, "big.ora", [("stack.xml", stack_xml([{"src": "data/a.png"}] * 17, 4096, 4096)),
                                          ("data/a.png", png(1, 1))])
    monkeypatch.setattr(ora, "open_image_rgba", lambda *a, **k: pytest.fail("decoded"))
    with pytest.raises(InputError, match="17 layers of 4096x4096 need more memory than allowed"):
        load_ora(path)


def test_saved_layer_names_are_short_and_valid_xml(tmp_path):
    doc = Document(8, 8)
    doc.add_layer("n" * (2 << 20))
    doc.add_layer("bell\x07 nul\x00 esc\x1b \ud800 tab\tok")
    path = tmp_path / "names.ora"
    save_ora(doc, path)
    back = load_ora(path)
    assert [layer.name for layer in back.layers[1:]] == ["n" * MAX_LAYER_NAME,
                                                         "bell\ufffd nul\ufffd esc\ufffd \ufffd tab\tok"]
    assert path.stat().st_size < 64 << 10


@pytest.mark.parametrize("encoding,declared", [("utf-16", "UTF-16"), ("utf-16-le", None), ("utf-16-be", None),
                                               ("utf-8-sig", "UTF-8"), ("latin-1", "ISO-8859-1")])
def test_no_dtd_in_any_encoding(encoding, declared):
    declaration = f"<?xml version='1.0' encoding='{declared}'?>" if declared else ""
    with pytest.raises(InputError, match="stack.xml declares a DTD or entities"):
        parse_plain_xml((declaration + "<!DOCTYPE image [<!ENTITY a 'lol'>]><image n='&a;'/>").encode(encoding),
                        "stack.xml")
    plain = parse_plain_xml((declaration + "<image n='\u00e9'><stack/></image>").encode(encoding), "stack.xml")
    assert plain.get("n") == "\u00e9" and plain.find("stack") is not None


def test_entities_are_not_expanded_even_without_a_declaration():
    with pytest.raises(InputError, match="malformed .*undefined entity"):
        parse_plain_xml(b"<image n='&secret;'/>", "stack.xml")
    assert parse_plain_xml(b"<image n='a &amp; &#233;'/>", "stack.xml").get("n") == "a & \u00e9"


def test_every_layer_pixel_is_where_the_file_put_it(tmp_path):
    """The shared decode must not share pixels: painting one layer leaves the others untouched."""
    path = make_ora(tmp_path, "same.ora", [("stack.xml", stack_xml([{"src": "data/a.png"}] * 3)),
                                           ("data/a.png", png(16, 12, 50))])
    doc = load_ora(path)
    doc.layers[0].pixels[0, 0] = 0
    assert all(np.array_equal(layer.pixels[0, 0], [50, 50, 50, 255]) for layer in doc.layers[1:])
