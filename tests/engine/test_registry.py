"""Model registry: good, corrupt, mismatched, wrong-hash and card-less folders; cached sessions."""

from __future__ import annotations

import json
import shutil

import numpy as np
import onnx
import pytest

from genart_desktop.core.errors import ModelError
from genart_desktop.engine.registry import ModelRegistry
from tests.tiny_onnx import (
    decoder, encoder, image_model, io_from_graph, linear_generator, sha256_of, tiny_unet, write_card,
    write_model_folder, write_optimum_sd_folder,
)

SETTINGS = {"execution_provider": "cpu", "intra_op_threads": 1, "session_cache_size": 2}


def registry_for(*roots, **settings):
    return ModelRegistry([(root, source) for root, source in roots], {**SETTINGS, **settings})


def by_folder(registry):
    return {entry.folder.name: entry for entry in registry.entries()}


@pytest.fixture
def library(tmp_path):
    """One folder per case, side by side, so a broken folder is shown not to stop the others loading."""
    root = tmp_path / "models"
    write_model_folder(root, "good-gan", "gan", {"generator": linear_generator()})
    write_model_folder(root, "good-vae", "vae", {"encoder": encoder(), "decoder": decoder()}, latent={"shape": [4]})
    write_model_folder(root, "good-style", "style", {"stylizer": image_model()}, resolution=[256, 256])
    write_model_folder(root, "good-diffusion", "diffusion", {"unet": tiny_unet()})
    write_optimum_sd_folder(root, "Tiny SD 1.5")

    wrong_hash = write_model_folder(root, "wrong-hash", "gan", {"generator": linear_generator()})
    card = json.loads((wrong_hash / "model.json").read_text())
    card["files"]["generator"]["sha256"] = "0" * 64
    write_card(wrong_hash, card)

    # truncated after the card was written: the hash catches it
    truncated = write_model_folder(root, "truncated", "gan", {"generator": linear_generator()})
    onnx_file = truncated / "generator.onnx"
    onnx_file.write_bytes(onnx_file.read_bytes()[:200])

    # truncated and re-hashed (a bad export): onnxruntime refuses to load it
    corrupt = write_model_folder(root, "corrupt", "gan", {"generator": linear_generator()})
    onnx_file = corrupt / "generator.onnx"
    onnx_file.write_bytes(onnx_file.read_bytes()[:200])
    card = json.loads((corrupt / "model.json").read_text())
    card["files"]["generator"]["sha256"] = sha256_of(onnx_file)
    write_card(corrupt, card)

    io = io_from_graph(linear_generator())
    io["inputs"]["z"]["shape"] = ["batch", 16]
    write_model_folder(root, "mismatched", "gan", {"generator": linear_generator()}, io={"generator": io})

    cardless = root / "cardless"
    cardless.mkdir()
    shutil.copy(root / "good-gan" / "generator.onnx", cardless / "generator.onnx")
    return root


def test_good_models_load_and_bad_ones_are_rejected_with_reasons(library):
    registry = registry_for((library, "builtin"))
    entries = by_folder(registry)
    ok = sorted(entry.id for entry in registry.models())
    assert ok == ["good-diffusion", "good-gan", "good-style", "good-vae", "tiny-sd-1.5"]
    reasons = {name: entry.reason for name, entry in entries.items() if not entry.ok}
    assert set(reasons) == {"wrong-hash", "truncated", "corrupt", "mismatched", "cardless"}
    assert "does not match its sha256" in reasons["wrong-hash"]
    assert "does not match its sha256" in reasons["truncated"]
    assert "onnxruntime refused it" in reasons["corrupt"] or "not a valid ONNX file" in reasons["corrupt"]
    assert "axis 1 is 8 in the graph but 16 in the card" in reasons["mismatched"]
    assert "no model.json" in reasons["cardless"]
    assert entries["mismatched"].family == "gan" and entries["mismatched"].id == "mismatched"
    assert entries["good-vae"].roles == ["encoder", "decoder"]
    assert registry.models("vae")[0].card.latent_shape == (4,)


def test_optimum_stable_diffusion_folder_is_recognised_without_a_card(library, tmp_path):
    entry = by_folder(registry_for((library, "user")))["Tiny SD 1.5"]
    assert entry.ok and entry.family == "sd-onnx" and entry.card is None and entry.source == "user"
    assert set(entry.roles) == {"unet", "text_encoder", "vae_decoder"}
    shutil.rmtree(library / "Tiny SD 1.5" / "tokenizer")
    entry = by_folder(registry_for((library, "user")))["Tiny SD 1.5"]
    assert not entry.ok and "lacks tokenizer/vocab.json, tokenizer/merges.txt" in entry.reason
    (library / "Tiny SD 1.5" / "model_index.json").write_text("{")
    assert "not valid JSON" in by_folder(registry_for((library, "user")))["Tiny SD 1.5"].reason


@pytest.mark.parametrize("edit,message", [
    (lambda io: io["inputs"].update({"noise": io["inputs"]["z"]}), "declares generator inputs ['noise', 'z']"),
    (lambda io: io["outputs"]["image"].update(dtype="float16"), "is float32 in the graph but float16"),
    (lambda io: io["outputs"]["image"].update(shape=["batch", 3, 8]), "has 4 dimensions in the graph"),
    (lambda io: io["outputs"]["image"].update(shape=["batch", 3, "height", 8]),
     "axis 2 is dynamic ('height') in the card but fixed to 8"),
])
def test_card_disagreeing_with_graph_is_rejected(tmp_path, edit, message):
    io = io_from_graph(linear_generator())
    edit(io)
    write_model_folder(tmp_path, "liar", "gan", {"generator": linear_generator()}, io={"generator": io})
    entry = registry_for((tmp_path, "user")).entries()[0]
    assert not entry.ok and message in entry.reason
    assert (entry.id, entry.family) == ("liar", "gan")


def test_card_may_name_a_fixed_size_where_the_graph_is_dynamic(tmp_path):
    io = io_from_graph(image_model())
    io["inputs"]["content"]["shape"] = ["batch", 3, 256, 256]
    write_model_folder(tmp_path, "fixed", "style", {"stylizer": image_model()}, io={"stylizer": io})
    assert registry_for((tmp_path, "user")).entries()[0].ok


def test_duplicate_id_in_user_folder_is_rejected(tmp_path):
    write_model_folder(tmp_path / "builtin", "same", "gan", {"generator": linear_generator()})
    write_model_folder(tmp_path / "user", "same", "gan", {"generator": linear_generator()})
    entries = registry_for((tmp_path / "builtin", "builtin"), (tmp_path / "user", "user")).entries()
    assert [e.status for e in entries] == ["ok", "rejected"]
    assert "already used by" in entries[1].reason


def test_default_roots_are_the_shipped_and_user_folders(tmp_path, monkeypatch, isolated_home):
    monkeypatch.setenv("GENART_MODELS_DIR", str(tmp_path / "shipped"))
    write_model_folder(tmp_path / "shipped", "shipped-gan", "gan", {"generator": linear_generator()})
    write_model_folder(isolated_home / "models", "user-style", "style", {"stylizer": image_model()})
    registry = ModelRegistry(settings=SETTINGS)
    assert {(e.id, e.source) for e in registry.models()} == {("shipped-gan", "builtin"), ("user-style", "user")}


def test_sessions_are_lazy_cached_bounded_and_released(library):
    registry = registry_for((library, "builtin"))
    assert registry.cached_sessions() == []
    generator = registry.session("good-gan", "generator")
    assert registry.session("good-gan", "generator") is generator
    out = generator.run({"z": np.zeros((2, 8), np.float32)})["image"]
    assert out.shape == (2, 3, 8, 8)
    registry.session("good-vae", "encoder")
    registry.session("good-gan", "generator")  # most recently used again
    registry.session("good-vae", "decoder")  # cache size 2: the encoder goes
    assert registry.cached_sessions() == [("good-gan", "generator"), ("good-vae", "decoder")]
    registry.release("good-gan")
    assert registry.cached_sessions() == [("good-vae", "decoder")]
    registry.release_all()
    assert registry.cached_sessions() == []
    assert registry.session("good-gan", "generator") is not generator


def test_session_requests_for_bad_models_give_reasons(library):
    registry = registry_for((library, "builtin"))
    with pytest.raises(ModelError, match="cannot be used: .*sha256"):
        registry.session("wrong-hash", "generator")
    with pytest.raises(ModelError, match="There is no model 'nope'"):
        registry.session("nope", "generator")
    with pytest.raises(ModelError, match="has no 'decoder' network"):
        registry.session("good-gan", "decoder")


def test_file_replaced_after_scan_is_refused(library):
    registry = registry_for((library, "builtin"))
    registry.entries()
    shutil.copy(library / "good-vae" / "decoder.onnx", library / "good-gan" / "generator.onnx")
    with pytest.raises(ModelError, match="does not match its sha256"):
        registry.session("good-gan", "generator")


def test_rescan_finds_new_models_and_releases_changed_ones(tmp_path):
    registry = registry_for((tmp_path, "user"))
    assert registry.entries() == []
    folder = write_model_folder(tmp_path, "later", "style", {"stylizer": image_model(scale=1.0)})
    assert registry.entries() == []  # scanned once, until asked again
    assert [e.id for e in registry.rescan()] == ["later"]
    registry.session("later", "stylizer")
    write_model_folder(tmp_path, "later", "style", {"stylizer": image_model(scale=3.0)})
    registry.rescan()
    assert registry.cached_sessions() == []
    x = np.ones((1, 3, 2, 2), np.float32)
    np.testing.assert_allclose(registry.session("later", "stylizer").run({"content": x})["stylized"], 3 * x)
    assert folder.is_dir()


def test_provider_choice_follows_the_sessions(library):
    registry = registry_for((library, "builtin"))
    assert registry.provider_choice().label == "CPU"
    session = registry.session("good-style", "stylizer")
    assert registry.provider_choice() is session.choice
    entries = by_folder(registry)
    assert registry.would_run(entries["good-style"]) == "CPU"
    assert registry.would_run(entries["corrupt"]) is None


@pytest.mark.parametrize("make_root", [
    lambda root: root.write_text("a file"),
    lambda root: root.symlink_to(root),
])
def test_a_models_root_that_is_no_folder_is_one_rejected_line(library, tmp_path, make_root):
    odd = tmp_path / "odd-models"
    make_root(odd)
    entries = registry_for((odd, "builtin"), (library, "user")).entries()
    assert entries[0].folder == odd and not entries[0].ok
    assert str(odd) in entries[0].reason and "\n" not in entries[0].reason
    assert "good-gan" in {entry.id for entry in entries if entry.ok}


def test_a_missing_models_root_is_no_problem(library, tmp_path):
    entries = registry_for((tmp_path / "absent", "builtin"), (library, "user")).entries()
    assert all(entry.folder.parent == library for entry in entries)


def test_sd_files_linked_out_of_the_folder_are_refused(library, tmp_path):
    outside = tmp_path / "outside.onnx"
    unet = library / "Tiny SD 1.5" / "unet" / "model.onnx"
    outside.write_bytes(unet.read_bytes())
    unet.unlink()
    unet.symlink_to(outside)
    entry = by_folder(registry_for((library, "user")))["Tiny SD 1.5"]
    assert not entry.ok and "unet/model.onnx" in entry.reason and "outside" in entry.reason


def test_a_registry_of_one_folder_named_by_path(tmp_path):
    folder = write_model_folder(tmp_path / "anywhere", "lonely-gan", "gan", {"generator": linear_generator()})
    registry = ModelRegistry.for_folder(folder, {"execution_provider": "cpu"})
    assert [(e.id, e.source, e.ok) for e in registry.entries()] == [("lonely-gan", "path", True)]


def test_a_damaged_stable_diffusion_component_is_refused_at_scan_time_by_name(tmp_path):
    folder = write_optimum_sd_folder(tmp_path, "Tiny SD")
    assert registry_for((tmp_path, "user")).entries()[0].ok
    (folder / "unet" / "model.onnx").write_bytes(b"\x08\x07\x12damaged")
    entry = registry_for((tmp_path, "user")).entries()[0]
    assert not entry.ok and "Tiny SD: the unet component cannot be used" in entry.reason


def test_outputs_the_card_does_not_name_are_allowed_but_inputs_must_all_be_declared(tmp_path):
    both = encoder()
    both.graph.output.append(onnx.helper.make_tensor_value_info("flat", onnx.TensorProto.FLOAT, ["batch", 192]))
    io = io_from_graph(both)
    del io["outputs"]["flat"]  # an output the card does not name is simply never read
    write_model_folder(tmp_path, "partial", "vae", {"encoder": both, "decoder": decoder()},
                       io={"encoder": io, "decoder": io_from_graph(decoder())}, latent={"shape": [4]})
    assert registry_for((tmp_path, "user")).entries()[0].ok
    io = io_from_graph(linear_generator())
    io["outputs"]["features"] = dict(io["outputs"]["image"])
    write_model_folder(tmp_path, "invented", "gan", {"generator": linear_generator()}, io={"generator": io},
                       folder_name="invented")
    entry = by_folder(registry_for((tmp_path, "user")))["invented"]
    assert not entry.ok and "declares generator outputs ['features', 'image'] but the graph has ['image']" \
        in entry.reason


@pytest.mark.parametrize("shape,ok", [([8], True), ([2, 4], True), ([6], False), ([2, 3], False)])
def test_the_latent_shape_is_checked_against_the_graph(tmp_path, shape, ok):
    write_model_folder(tmp_path, "gen", "gan", {"generator": linear_generator()}, latent={"shape": shape})
    entry = registry_for((tmp_path, "user")).entries()[0]
    assert entry.ok is ok
    if not ok:
        assert "latent.shape" in entry.reason and "generator input 'z'" in entry.reason


def test_listed_external_data_the_graph_does_not_read_is_refused(tmp_path):
    folder = write_model_folder(tmp_path, "gen", "gan", {"generator": linear_generator()})
    (folder / "extra.data").write_bytes(b"x")
    card = json.loads((folder / "model.json").read_text())
    card["files"]["generator"]["data"] = [{"path": "extra.data", "sha256": sha256_of(folder / "extra.data")}]
    write_card(folder, card)
    entry = registry_for((tmp_path, "user")).entries()[0]
    assert not entry.ok and "lists extra.data, which generator.onnx does not read" in entry.reason
