"""The pure-Python CLIP BPE tokenizer, on a tiny vocabulary written by the test (and against transformers')."""

from __future__ import annotations

import json

import numpy as np
import pytest

from genart_desktop.core.errors import ModelError
from genart_desktop.engine.sd.tokenizer import BOS, EOS, CLIPTokenizer

from .tiny_sd import tiny_clip_vocab, write_tokenizer

PROMPTS = ["a red fox", "A  Painting of the SEA, in oil on canvas!!", "cats 123 4.5 don't _x_ héllo 日本", "",
           "redfox " * 40, "the\tblue\nsky"]


@pytest.fixture
def folder(tmp_path):
    write_tokenizer(tmp_path / "tokenizer")
    return tmp_path / "tokenizer"


def test_whole_words_become_single_tokens(folder):
    tok = CLIPTokenizer.from_folder(folder)
    vocab, _ = tiny_clip_vocab()
    assert tok.tokenize("A Red  FOX") == ["a</w>", "red</w>", "fox</w>"]
    assert tok.encode("painting of the sea") == [vocab[w + "</w>"] for w in ("painting", "of", "the", "sea")]
    assert tok.tokenize("foxes") == ["fo", "x", "e", "s</w>"]  # "fo x</w>" only merges at a word end
    assert tok.tokenize("it's") == ["i", "t</w>", "'", "s</w>"]  # "'s" is its own word


def test_ids_are_padded_and_truncated(folder):
    tok = CLIPTokenizer.from_folder(folder)
    vocab, _ = tiny_clip_vocab()
    ids = tok(["a red fox", ""])
    assert ids.shape == (2, 77) and ids.dtype == np.int64
    assert ids[0, :5].tolist() == [vocab[BOS], vocab["a</w>"], vocab["red</w>"], vocab["fox</w>"], vocab[EOS]]
    assert (ids[0, 5:] == vocab[EOS]).all()
    long = tok("sea " * 200)[0]
    assert long[0] == vocab[BOS] and long[-1] == vocab[EOS] and (long[1:-1] == vocab["sea</w>"]).all()
    assert tok("a", length=4).tolist() == [[vocab[BOS], vocab["a</w>"], vocab[EOS], vocab[EOS]]]


def test_config_files_set_length_and_padding(folder):
    (folder / "tokenizer_config.json").write_text(json.dumps({"model_max_length": 8}))
    (folder / "special_tokens_map.json").write_text(json.dumps({"pad_token": {"content": "!"}}))
    tok = CLIPTokenizer.from_folder(folder)
    assert tok.max_length == 8 and tok.pad_id == tiny_clip_vocab()[0]["!"]
    assert tok("a")[0, 3:].tolist() == [tok.pad_id] * 5


@pytest.mark.parametrize(
    "name, content, match",
    [
        ("vocab.json", "{not json", "vocab.json"),
        ("vocab.json", json.dumps({"a": "x"}), "integer ids"),
        ("vocab.json", json.dumps({"a": 1}), "special token"),
        ("merges.txt", "#version: 0.2\na b c\n", "line 2"),
    ],
)
def test_broken_files_raise_model_error(folder, name, content, match):
    (folder / name).write_text(content, encoding="utf-8")
    with pytest.raises(ModelError, match=match):
        CLIPTokenizer.from_folder(folder)


def test_missing_file(tmp_path):
    with pytest.raises(ModelError, match="vocab.json"):
        CLIPTokenizer.from_folder(tmp_path)


def test_matches_transformers_clip_tokenizer(folder):
    transformers = pytest.importorskip("transformers")
    theirs = transformers.CLIPTokenizer.from_pretrained(str(folder))
    ours = CLIPTokenizer.from_folder(folder)
    for prompt in PROMPTS:
        expected = theirs(prompt, padding="max_length", max_length=77, truncation=True)["input_ids"]
        assert ours(prompt)[0].tolist() == expected, prompt


def test_only_the_tokens_the_encoder_sees_are_computed(folder):
    tok = CLIPTokenizer.from_folder(folder)
    vocab, _ = tiny_clip_vocab()
    assert tok.tokenize("sea " * 50_000, limit=3) == ["sea</w>"] * 3
    assert tok("sea " * 50_000).tolist() == tok("sea " * 100).tolist()
    word = tok.tokenize("a" * 60_000, limit=75)  # one 60 000-letter word: chunked, and stopped after 75 pieces
    assert len(word) == 75 and all(piece in ("a", "a</w>") or piece in vocab for piece in word)
    ids = tok("x" * 30_000 + " red fox")[0]  # the words past the first 75 tokens never reach the encoder
    assert ids.shape == (77,) and vocab["red</w>"] not in ids.tolist()


def test_long_words_split_into_chunks_keep_the_end_marker_on_the_last(folder):
    tok = CLIPTokenizer.from_folder(folder)
    pieces = tok.tokenize("b" * 130)
    assert "".join(pieces) == "b" * 130 + "</w>" and pieces[-1].endswith("</w>")
    assert sum(piece.endswith("</w>") for piece in pieces) == 1


def test_errors_name_the_line_and_never_quote_it(folder):
    (folder / "merges.txt").write_text("#version: 0.2\nr e\nTOKEN=hunter2 x y\n", encoding="utf-8")
    with pytest.raises(ModelError, match="merges.txt line 3 should hold two symbols") as refused:
        CLIPTokenizer.from_folder(folder)
    assert "hunter2" not in str(refused.value)
