"""model.json cards: a valid card parses; every kind of mistake is refused with a reason naming the field."""

from __future__ import annotations

import copy
import json
import os

import pytest

from genart_desktop.core.errors import ModelError
from genart_desktop.engine.cards import load_card, parse_card, sha256_file, verify_files
from tests.tiny_onnx import card_dict, decoder, encoder, image_model, linear_generator, write_model_folder


@pytest.fixture
def gan_folder(tmp_path):
    return write_model_folder(tmp_path, "tiny-gan", "gan", {"generator": linear_generator()})


@pytest.fixture
def gan_card(gan_folder):
    return json.loads((gan_folder / "model.json").read_text())


def test_valid_card_parses(gan_folder):
    card = load_card(gan_folder)
    assert (card.id, card.family, card.name) == ("tiny-gan", "gan", "Tiny Gan")
    assert card.files["generator"].path == gan_folder / "generator.onnx"
    assert card.onnx_roles == ["generator"]
    assert card.io["generator"].inputs["z"].shape == ("batch", 8)
    assert card.io["generator"].outputs["image"].range == (-1.0, 1.0)
    assert card.resolution == (8, 8) and card.latent_shape == (8,)
    assert card.provenance["command"] == "tests/tiny_onnx.py"
    verify_files(card)


def test_vae_card_needs_a_decoder(tmp_path):
    folder = write_model_folder(tmp_path, "tiny-vae", "vae", {"encoder": encoder(), "decoder": decoder()})
    assert sorted(load_card(folder).onnx_roles) == ["decoder", "encoder"]
    card = json.loads((folder / "model.json").read_text())
    del card["files"]["decoder"], card["io"]["decoder"]
    with pytest.raises(ModelError, match="needs the role"):
        parse_card(card, folder)


def _edit(path, value):
    def apply(card):
        target = card
        for key in path[:-1]:
            target = target[key]
        if value is _DELETE:
            del target[path[-1]]
        else:
            target[path[-1]] = value
    return apply


_DELETE = object()
BAD_EDITS = [
    (("format",), "genart-model-card/2", "'format' must be"),
    (("id",), "Tiny GAN", "id 'Tiny GAN' must be lower-case"),
    (("id",), "-gan", "must be lower-case"),
    (("id",), _DELETE, "'id' is missing"),
    (("name",), "", "'name' is missing"),
    (("family",), "transformer", "family 'transformer' is not one of"),
    (("license",), _DELETE, "'license' is missing"),
    (("provenance",), "yesterday", "'provenance' is missing or not an object"),
    (("files", "generator", "path"), "../generator.onnx", "must stay inside the model folder"),
    (("files", "generator", "path"), "/etc/generator.onnx", "must stay inside the model folder"),
    (("files", "generator", "sha256"), "abc", "64 hexadecimal digits"),
    (("files",), {}, "'files' must map"),
    (("io", "generator", "inputs", "z", "dtype"), "float8", "dtype 'float8' is not one of"),
    (("io", "generator", "inputs", "z", "shape"), ["batch", 0], "positive ints or axis names"),
    (("io", "generator", "inputs", "z", "range"), [1, -1], "range must be"),
    (("io", "generator", "outputs"), {}, "declares no outputs"),
    (("io", "generator"), _DELETE, "'io' must map"),
    (("resolution",), [8], "'resolution' must be"),
    (("latent",), _DELETE, "'latent' must be an object"),
    (("latent", "shape"), [], "latent.shape must be"),
]


@pytest.mark.parametrize("path,value,message", BAD_EDITS, ids=[m for _, _, m in BAD_EDITS])
def test_bad_cards_are_refused_with_a_reason(gan_folder, gan_card, path, value, message):
    card = copy.deepcopy(gan_card)
    _edit(path, value)(card)
    with pytest.raises(ModelError, match=message):
        parse_card(card, gan_folder)


def test_roles_must_match_the_family_and_the_tensor_names(gan_folder, gan_card):
    card = copy.deepcopy(gan_card)
    card["io"]["generator"]["inputs"] = {"noise": card["io"]["generator"]["inputs"]["z"]}
    with pytest.raises(ModelError, match="must take an input named 'z'"):
        parse_card(card, gan_folder)
    card = copy.deepcopy(gan_card)
    card["files"]["stylizer"] = card["files"].pop("generator")
    card["io"]["stylizer"] = card["io"].pop("generator")
    with pytest.raises(ModelError, match="needs the role"):
        parse_card(card, gan_folder)
    card = copy.deepcopy(gan_card)
    card["io"]["extra"] = card["io"]["generator"]
    with pytest.raises(ModelError, match="io.extra describes a role with no .onnx file"):
        parse_card(card, gan_folder)


def test_card_file_problems(tmp_path, gan_folder):
    (gan_folder / "model.json").write_text("{not json")
    with pytest.raises(ModelError, match="not valid JSON"):
        load_card(gan_folder)
    (gan_folder / "model.json").write_text("[1, 2]")
    with pytest.raises(ModelError, match="must hold a JSON object"):
        load_card(gan_folder)
    (gan_folder / "model.json").unlink()
    with pytest.raises(ModelError, match="has no model.json"):
        load_card(gan_folder)


def test_symlink_escaping_the_folder_is_refused(tmp_path, gan_folder, gan_card):
    outside = tmp_path / "outside.onnx"
    outside.write_bytes((gan_folder / "generator.onnx").read_bytes())
    os.symlink(outside, gan_folder / "link.onnx")
    gan_card["files"]["generator"]["path"] = "link.onnx"
    with pytest.raises(ModelError, match="leads outside the model folder"):
        parse_card(gan_card, gan_folder)


def test_verify_files_reports_missing_and_changed_files(gan_folder):
    card = load_card(gan_folder)
    path = gan_folder / "generator.onnx"
    data = path.read_bytes()
    path.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    with pytest.raises(ModelError, match="does not match its sha256"):
        verify_files(card)
    path.write_bytes(data)
    verify_files(card)
    path.unlink()
    with pytest.raises(ModelError, match="generator file generator.onnx is missing"):
        verify_files(card)


def test_sha256_cache_notices_changes(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"one")
    first = sha256_file(path)
    path.write_bytes(b"three")
    assert sha256_file(path) != first


def test_card_helper_defaults_are_complete():
    card = card_dict("x", "style", {}, {})
    assert {"format", "id", "name", "family", "files", "io", "resolution", "license", "provenance"} <= set(card)


def test_roles_map_to_the_graphs_own_tensor_names(tmp_path):
    folder = write_model_folder(tmp_path, "zoo", "style", {"stylizer": image_model("input1", "output1")})
    card = json.loads((folder / "model.json").read_text())
    with pytest.raises(ModelError, match="must take an input named 'content'; declare it, or map"):
        parse_card(card, folder)
    card["io"]["stylizer"]["names"] = {"content": "input1", "stylized": "output1"}
    card["io"]["stylizer"]["inputs"]["input1"]["range"] = [0, 255]
    parsed = parse_card(card, folder)
    assert parsed.tensor_name("stylizer", "content") == "input1"
    assert parsed.value_range("stylizer", "content") == (0.0, 255.0)
    assert parsed.value_range("stylizer", "stylized") == (-1.0, 1.0)  # undeclared: the default
    card["io"]["stylizer"]["names"]["stylized"] = "output2"
    with pytest.raises(ModelError, match=r"produce an output named 'stylized' \(mapped to 'output2'\)"):
        parse_card(card, folder)
    card["io"]["stylizer"]["names"] = {"content": "input1", "stylized": "output1", "style": "x"}
    with pytest.raises(ModelError, match="names maps 'style', which is not a stylizer tensor"):
        parse_card(card, folder)
    card["io"]["stylizer"]["names"] = {"content": 3}
    with pytest.raises(ModelError, match="names must map"):
        parse_card(card, folder)


def test_an_image_range_must_be_wider_than_a_point(tmp_path):
    folder = write_model_folder(tmp_path, "flat", "style", {"stylizer": image_model()})
    card = json.loads((folder / "model.json").read_text())
    card["io"]["stylizer"]["outputs"]["stylized"]["range"] = [1, 1]
    with pytest.raises(ModelError, match="range must have low < high"):
        parse_card(card, folder)


def test_a_decoder_only_vae_is_a_valid_card(tmp_path):
    folder = write_model_folder(tmp_path, "dec", "vae", {"decoder": decoder()})
    assert load_card(folder).onnx_roles == ["decoder"]


def test_external_data_files_are_listed_and_hashed(gan_folder, gan_card):
    data = gan_folder / "generator.onnx.data"
    data.write_bytes(b"weights")
    card = copy.deepcopy(gan_card)
    card["files"]["generator"]["data"] = [{"path": "generator.onnx.data", "sha256": sha256_file(data)}]
    parsed = parse_card(card, gan_folder)
    assert [d.relative for d in parsed.files["generator"].data] == ["generator.onnx.data"]
    verify_files(parsed)
    data.write_bytes(b"other weights")
    with pytest.raises(ModelError, match="generator.onnx.data does not match its sha256"):
        verify_files(parsed)
    for bad, message in (([{"path": "../x", "sha256": "0" * 64}], "must stay inside"),
                         ("generator.onnx.data", "must be a list"),
                         ([{"path": "generator.onnx.data", "sha256": "x"}], "64 hexadecimal digits")):
        card["files"]["generator"]["data"] = bad
        with pytest.raises(ModelError, match=message):
            parse_card(card, gan_folder)
