"""Hostile model folders, models roots and command lines, generated on the fly (registered into corpus.py's CASES).

Kinds added here (run by test_corpus_models.py; ``onnx`` and ``card`` cases also run in test_corpus.py):
- ``sd``: a Stable Diffusion export under a model root, refused by ``SDFolder.open`` or its tokenizer;
- ``special``: a model folder holding a named pipe where a file should be (a test that reads it would hang, so these
  need the FIFO-safe harness);
- ``root``: a per-user data folder whose ``models`` entry is hostile, listed by ``genart models`` in a subprocess;
- ``cli``: ``build`` returns the arguments of a ``genart`` command that must fail with one line, exit code 2.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
from onnx import TensorProto, helper

from tests.hardening.corpus import _onnx_folder, _valid_bytes, case
from tests.tiny_onnx import card_dict, image_model, io_from_graph, save_model, sha256_of, write_card
from tests.tiny_onnx import write_model_folder, write_optimum_sd_folder

SECRET = "GENART_CORPUS_SECRET_4711"  # put where an error message must never quote it
_IMAGE = ["batch", 3, "height", "width"]


# ==================================================================================================== onnx graphs
def _graph_model(nodes: list, name: str, initializers: list = (), functions: list = ()) -> bytes:
    graph = helper.make_graph(nodes, name, [helper.make_tensor_value_info("content", TensorProto.FLOAT, _IMAGE)],
                              [helper.make_tensor_value_info("stylized", TensorProto.FLOAT, _IMAGE)],
                              initializer=list(initializers))
    opsets = [helper.make_opsetid("", 17)] + ([helper.make_opsetid("local", 1)] if functions else [])
    model = helper.make_model(graph, opset_imports=opsets, functions=list(functions))
    model.ir_version = 8
    return model.SerializeToString()


def _loop_body() -> object:
    """``(i, cond, v) -> (cond, v + 1)``: the body of a loop that never ends on its own."""
    return helper.make_graph(
        [helper.make_node("Identity", ["cond"], ["cond_out"]), helper.make_node("Add", ["v", "one"], ["v_out"])],
        "body",
        [helper.make_tensor_value_info("i", TensorProto.INT64, []),
         helper.make_tensor_value_info("cond", TensorProto.BOOL, []),
         helper.make_tensor_value_info("v", TensorProto.FLOAT, None)],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("v_out", TensorProto.FLOAT, None)],
        initializer=[helper.make_tensor("one", TensorProto.FLOAT, [], [1.0])])


def loop_model_bytes(trips: int = 1 << 62) -> bytes:
    """``stylized = content + trips`` computed by a Loop of ``trips`` iterations (2**62: it never finishes)."""
    consts = [helper.make_tensor("trips", TensorProto.INT64, [], [trips]),
              helper.make_tensor("yes", TensorProto.BOOL, [], [True])]
    node = helper.make_node("Loop", ["trips", "yes", "content"], ["stylized"], body=_loop_body())
    return _graph_model([node], "loop", consts)


@case("onnx", "onnx_loop_trip_count_2_62", reason="looping operator Loop")
def _(folder: Path) -> Path:
    return _onnx_folder(folder, loop_model_bytes())


@case("onnx", "onnx_scan", reason="looping operator Scan")
def _(folder: Path) -> Path:
    body = helper.make_graph([helper.make_node("Identity", ["s"], ["s_out"])], "scan_body",
                             [helper.make_tensor_value_info("s", TensorProto.FLOAT, None)],
                             [helper.make_tensor_value_info("s_out", TensorProto.FLOAT, None)])
    node = helper.make_node("Scan", ["content"], ["stylized"], body=body, num_scan_inputs=0)
    return _onnx_folder(folder, _graph_model([node], "scan"))


@case("onnx", "onnx_loop_inside_if_branch", reason="looping operator Loop")
def _(folder: Path) -> Path:
    loop = helper.make_node("Loop", ["trips", "yes", "content"], ["looped"], body=_loop_body())
    branch = helper.make_graph([loop], "branch", [], [helper.make_tensor_value_info("looped", TensorProto.FLOAT,
                                                                                      None)])
    node = helper.make_node("If", ["yes"], ["stylized"], then_branch=branch, else_branch=branch)
    consts = [helper.make_tensor("trips", TensorProto.INT64, [], [1 << 62]),
              helper.make_tensor("yes", TensorProto.BOOL, [], [True])]
    return _onnx_folder(folder, _graph_model([node], "if_loop", consts))


@case("onnx", "onnx_loop_inside_local_function", reason="looping operator Loop")
def _(folder: Path) -> Path:
    loop = helper.make_node("Loop", ["trips", "yes", "x"], ["y"], body=_loop_body())
    trips = helper.make_node("Constant", [], ["trips"], value=helper.make_tensor("t", TensorProto.INT64, [],
                                                                                  [1 << 62]))
    yes = helper.make_node("Constant", [], ["yes"], value=helper.make_tensor("b", TensorProto.BOOL, [], [True]))
    function = helper.make_function("local", "Spin", ["x"], ["y"], [trips, yes, loop],
                                     [helper.make_opsetid("", 17)])
    node = helper.make_node("Spin", ["content"], ["stylized"], domain="local")
    return _onnx_folder(folder, _graph_model([node], "function_loop", functions=[function]))


@case("onnx", "onnx_padded_with_unknown_fields", reason="more than 1,000,000 protobuf fields")
def _(folder: Path) -> Path:
    """A valid model followed by 1.1 million unknown varint fields (3.3 MB; the 120 MB original took 24 s)."""
    return _onnx_folder(folder, _valid_bytes() + b"\x98\x06\x01" * 1_100_000)


# ==================================================================================================== cards
def _good_folder(folder: Path, name: str = "bad-link") -> Path:
    return write_model_folder(folder, name, "style", {"stylizer": image_model()})


@case("card", "card_links_to_process_environment", reason="leads outside|outside")
def _(folder: Path) -> Path:
    model_folder = _good_folder(folder)
    (model_folder / "model.json").unlink()
    (model_folder / "model.json").symlink_to("/proc/self/environ")
    return model_folder


@case("card", "card_links_to_zero_device", reason="leads outside|outside")
def _(folder: Path) -> Path:
    model_folder = _good_folder(folder)
    (model_folder / "model.json").unlink()
    (model_folder / "model.json").symlink_to("/dev/zero")
    return model_folder


@case("card", "card_onnx_links_outside_folder", reason="leads outside")
def _(folder: Path) -> Path:
    outside = save_model(image_model(scale=3.0), folder / "elsewhere.onnx")
    model_folder = folder / "bad-link"
    model_folder.mkdir()
    (model_folder / "stylizer.onnx").symlink_to(outside)
    files = {"stylizer": {"path": "stylizer.onnx", "sha256": sha256_of(outside)}}
    write_card(model_folder, card_dict("bad-link", "style", files, {"stylizer": io_from_graph(image_model())}))
    return model_folder


@case("card", "card_integer_of_5000_digits", reason="digits")
def _(folder: Path) -> Path:
    model_folder = _good_folder(folder)
    card = json.loads((model_folder / "model.json").read_text())
    card["resolution"] = "BIG"
    (model_folder / "model.json").write_text(json.dumps(card).replace('"BIG"', "[1" + "0" * 5000 + ", 8]"))
    return model_folder


# ==================================================================================================== special files
@case("special", "special_card_is_named_pipe", reason="special file|not a regular")
def _(folder: Path) -> Path:
    model_folder = _good_folder(folder, "pipe-card")
    (model_folder / "model.json").unlink()
    os.mkfifo(model_folder / "model.json")
    return model_folder


@case("special", "special_onnx_is_named_pipe", reason="not a regular file")
def _(folder: Path) -> Path:
    model_folder = _good_folder(folder, "pipe-onnx")
    (model_folder / "stylizer.onnx").unlink()
    os.mkfifo(model_folder / "stylizer.onnx")
    return model_folder


@case("special", "special_sd_index_is_named_pipe", reason="special file|not a regular")
def _(folder: Path) -> Path:
    sd = write_optimum_sd_folder(folder, "pipe-sd")
    (sd / "model_index.json").unlink()
    os.mkfifo(sd / "model_index.json")
    return sd


@case("special", "special_sd_merges_is_named_pipe", reason="not a regular file")
def _(folder: Path) -> Path:
    sd = write_optimum_sd_folder(folder, "pipe-merges")
    (sd / "tokenizer" / "merges.txt").unlink()
    os.mkfifo(sd / "tokenizer" / "merges.txt")
    return sd


@case("special", "special_thumbnail_is_named_pipe", expect="load")
def _(folder: Path) -> Path:
    model_folder = write_model_folder(folder, "pipe-thumb", "style", {"stylizer": image_model()},
                                      thumbnail="thumb.png")
    os.mkfifo(model_folder / "thumb.png")
    return model_folder


# ==================================================================================================== stable diffusion
def sd_case(name: str, reason: str):
    """Register a case that writes a valid tiny export, then lets the decorated function break it."""
    def register(breakage):
        def build(folder: Path) -> Path:
            sd = write_optimum_sd_folder(folder, "evil-sd", with_vae_encoder=True)
            breakage(sd)
            return sd
        case("sd", name, reason=reason)(build)
        return breakage
    return register


def _relink(path: Path, target: str | Path) -> None:
    if path.is_dir() and not path.is_symlink():
        for child in path.iterdir():
            child.unlink()
        path.rmdir()
    elif os.path.lexists(path):
        path.unlink()
    path.symlink_to(target)


def _json_file(sd: Path, relative: str, **values) -> None:
    path = sd / relative
    data = json.loads(path.read_text()) if path.exists() else {}
    path.write_text(json.dumps({**data, **values}))


def _outside_copy(sd: Path, relative: str) -> Path:
    """A copy of ``sd/relative`` next to the export (outside it), for links that lead out."""
    source = sd / relative
    target = sd.parent / f"outside-{source.name}"
    target.write_bytes(source.read_bytes())
    return target


sd_case("sd_unet_links_outside", "unet/model.onnx.*outside")(
    lambda sd: _relink(sd / "unet" / "model.onnx", _outside_copy(sd, "unet/model.onnx")))
sd_case("sd_vae_encoder_links_outside", "vae_encoder/model.onnx.*outside")(
    lambda sd: _relink(sd / "vae_encoder" / "model.onnx", _outside_copy(sd, "vae_encoder/model.onnx")))
sd_case("sd_merges_links_to_process_environment", "merges.txt.*outside")(
    lambda sd: _relink(sd / "tokenizer" / "merges.txt", "/proc/self/environ"))
sd_case("sd_vocab_links_to_zero_device", "vocab.json.*outside")(
    lambda sd: _relink(sd / "tokenizer" / "vocab.json", "/dev/zero"))
sd_case("sd_scheduler_links_outside", "scheduler_config.json.*outside")(
    lambda sd: _relink(sd / "scheduler" / "scheduler_config.json", "/etc/hostname"))


@sd_case("sd_tokenizer_folder_links_outside", "tokenizer/.*outside")
def _(sd: Path) -> None:
    elsewhere = sd.parent / "outside-tokenizer"
    elsewhere.mkdir()
    for child in (sd / "tokenizer").iterdir():
        (elsewhere / child.name).write_bytes(child.read_bytes())
    _relink(sd / "tokenizer", elsewhere)


sd_case("sd_merges_line_with_secret", r"merges.txt line 2 should hold two symbols")(
    lambda sd: (sd / "tokenizer" / "merges.txt").write_text(f"#version: 0.2\n{SECRET}=x y z\n"))
sd_case("sd_merges_one_huge_line", "merges.txt.*more than the 16 MiB")(
    lambda sd: (sd / "tokenizer" / "merges.txt").write_bytes(b"a" * (17 << 20)))
sd_case("sd_merges_too_many", "more than 500,000 merges")(
    lambda sd: (sd / "tokenizer" / "merges.txt").write_text("#version: 0.2\n" + "a b\n" * 500_001))
sd_case("sd_merges_not_utf8", "merges.txt is not UTF-8")(
    lambda sd: (sd / "tokenizer" / "merges.txt").write_bytes(b"#version: 0.2\n\xff\xfe b\n"))


@sd_case("sd_vocab_too_many_tokens", "vocab.json has 500,003 tokens")
def _(sd: Path) -> None:
    vocab = {f"t{i}": i for i in range(500_001)}
    vocab.update({"<|startoftext|>": 500_001, "<|endoftext|>": 500_002})
    (sd / "tokenizer" / "vocab.json").write_text(json.dumps(vocab))


sd_case("sd_vocab_integer_of_5000_digits", "vocab.json.*digits")(
    lambda sd: (sd / "tokenizer" / "vocab.json").write_text('{"<|startoftext|>": 1' + "0" * 5000 + "}"))
sd_case("sd_timesteps_10_to_12", "scheduler_config.json: num_train_timesteps")(
    lambda sd: _json_file(sd, "scheduler/scheduler_config.json", num_train_timesteps=10**12))
sd_case("sd_timesteps_1e300", "scheduler_config.json: num_train_timesteps")(
    lambda sd: _json_file(sd, "scheduler/scheduler_config.json", num_train_timesteps=1e300))
sd_case("sd_sample_size_100000", "unet/config.json: sample_size")(
    lambda sd: _json_file(sd, "unet/config.json", sample_size=100_000))
sd_case("sd_sample_size_768_past_4096_pixels", "unet/config.json: sample_size .*4096")(
    lambda sd: _json_file(sd, "unet/config.json", sample_size=768))
sd_case("sd_sample_size_text", "unet/config.json: sample_size")(
    lambda sd: _json_file(sd, "unet/config.json", sample_size="huge"))
sd_case("sd_vae_40_blocks", "vae_decoder/config.json: block_out_channels")(
    lambda sd: _json_file(sd, "vae_decoder/config.json", block_out_channels=[8] * 40))
sd_case("sd_in_channels_huge", "unet/config.json: in_channels")(
    lambda sd: _json_file(sd, "unet/config.json", in_channels=10**9))
sd_case("sd_scaling_factor_nan", "vae_decoder/config.json.*NaN")(
    lambda sd: (sd / "vae_decoder" / "config.json").write_text('{"scaling_factor": NaN}'))
sd_case("sd_index_nested_deeply", "model_index.json.*nests")(
    lambda sd: (sd / "model_index.json").write_text("[" * 50_000 + "]" * 50_000))
sd_case("sd_index_is_folder", "model_index.json.*(folder|regular)")(
    lambda sd: ((sd / "model_index.json").unlink(), (sd / "model_index.json").mkdir()))


# ==================================================================================================== models roots
def _home(folder: Path) -> Path:
    home = folder / "home"
    home.mkdir()
    return home


@case("root", "root_models_is_a_file", reason="is not a folder")
def _(folder: Path) -> Path:
    home = _home(folder)
    (home / "models").write_text("not a folder")
    return home


@case("root", "root_models_links_to_itself", reason="Cannot list|not a folder")
def _(folder: Path) -> Path:
    home = _home(folder)
    (home / "models").symlink_to(home / "models")
    return home


@case("root", "root_models_is_named_pipe", reason="is not a folder")
def _(folder: Path) -> Path:
    home = _home(folder)
    os.mkfifo(home / "models")
    return home


@case("root", "root_names_with_terminal_escapes", expect="load")
def _(folder: Path) -> Path:
    """A folder and card name that would add a forged table row and recolour the terminal if printed raw."""
    home = _home(folder)
    forged = "\x1b[32mfake\n  forged-model  Forged  gan  ok  CPU"
    write_model_folder(home / "models", "evil-names", "style", {"stylizer": image_model()}, name=forged,
                       folder_name="evil\x1b[2J\nname")
    return home


# ==================================================================================================== command lines
@case("cli", "cli_export_name_300_characters", reason="name (is )?too long")
def _(folder: Path) -> list[str]:
    return ["--export", str(folder / ("x" * 300 + ".png")), "--export-filename", str(folder / "out.png")]


@case("cli", "cli_export_output_below_a_file", reason="does not exist|Not a directory")
def _(folder: Path) -> list[str]:
    source = folder / "in.png"
    from PIL import Image

    Image.new("RGB", (4, 4)).save(source)
    (folder / "file.png").write_bytes(b"x")
    return ["--export", str(source), "--export-filename", str(folder / "file.png" / "out.png")]


@case("cli", "cli_export_forged_exported_line", reason=r"\\x1b|\\n|\\x0a")
def _(folder: Path) -> list[str]:
    name = "in\x1b[1A\x1b[2K\nExported fake.png (1x1, 1 layer) to out.png"
    return ["--export", str(folder / name), "--export-filename", str(folder / "out.png")]


@case("cli", "cli_export_input_is_named_pipe", reason="special file|not a regular")
def _(folder: Path) -> list[str]:
    os.mkfifo(folder / "pipe.png")
    return ["--export", str(folder / "pipe.png"), "--export-filename", str(folder / "out.png")]


@case("cli", "cli_style_with_looping_model", reason="looping operator Loop")
def _(folder: Path) -> list[str]:
    models = _home(folder) / "models"
    models.mkdir()
    _onnx_folder(models, loop_model_bytes(), name="spin")
    source = folder / "in.png"
    from PIL import Image

    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(source)
    (folder / "out").mkdir()
    return ["style", "--model", "spin", "--quiet", str(source), str(folder / "out")]
