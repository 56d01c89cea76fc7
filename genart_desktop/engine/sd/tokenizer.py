"""CLIP's byte-level BPE tokenizer in pure Python (vocab.json + merges.txt), so Stable Diffusion runs without
transformers or tokenizers.

Steps, as in transformers' CLIPTokenizer without ftfy: clean the text (collapse whitespace, lower-case), split it
into words with CLIP's pattern, map each word's UTF-8 bytes to printable characters, mark the word's end with ``</w>``, apply merges
in rank order, look the pieces up in the vocabulary, then add the start and end tokens and pad to the model length.
CLIP's pattern uses Unicode classes (\\p{L}, \\p{N}) that Python's ``re`` lacks; letters are ``[^\\W\\d_]`` and digits
``\\d`` here, which agree for ordinary prompts (ftfy's mojibake and HTML repair is not applied).
"""

from __future__ import annotations

import json
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from genart_desktop.core.errors import ModelError

BOS = "<|startoftext|>"
EOS = "<|endoftext|>"
_WORDS = re.compile(
    r"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[^\W\d_]+|\d|(?:[^\s\w]|_)+", re.IGNORECASE
)
_SPACES = re.compile(r"\s+")
MAX_VOCAB_BYTES = 64 << 20


@lru_cache(maxsize=1)
def bytes_to_unicode() -> dict[int, str]:
    """The reversible byte -> character map of GPT-2 and CLIP: printable bytes map to themselves, the rest to
    characters from U+0100 up, so every byte string becomes a string without whitespace or control characters."""
    keep = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    mapping = {b: chr(b) for b in keep}
    shifted = 0
    for b in range(256):
        if b not in mapping:
            mapping[b] = chr(256 + shifted)
            shifted += 1
    return mapping


def clean_text(text: str) -> str:
    return _SPACES.sub(" ", text).strip().lower()


class CLIPTokenizer:
    """Text -> padded id arrays for a CLIP text encoder."""

    def __init__(self, vocab: dict[str, int], merges: list[tuple[str, str]], *, max_length: int = 77,
                 pad_token: str = EOS) -> None:
        for token in (BOS, EOS):
            if token not in vocab:
                raise ModelError(f"The tokenizer vocabulary lacks the special token {token}.")
        self.vocab = vocab
        self.ranks = {pair: i for i, pair in enumerate(merges)}
        self.max_length = int(max_length)
        if self.max_length < 2:
            raise ModelError(f"The tokenizer's model_max_length must be at least 2, got {max_length}.")
        self.bos_id, self.eos_id = vocab[BOS], vocab[EOS]
        self.pad_id = vocab.get(pad_token, self.eos_id)
        self._bytes = bytes_to_unicode()
        self._cache: dict[str, list[str]] = {}

    @classmethod
    def from_folder(cls, folder: str | os.PathLike[str]) -> CLIPTokenizer:
        """Load ``vocab.json`` and ``merges.txt`` (+ optional tokenizer_config.json / special_tokens_map.json)."""
        folder = Path(folder)
        vocab = _read_json(folder / "vocab.json")
        if not isinstance(vocab, dict) or not all(isinstance(k, str) and isinstance(v, int) for k, v in vocab.items()):
            raise ModelError(f"{folder.name}/vocab.json must map token strings to integer ids.")
        merges_path = folder / "merges.txt"
        try:
            lines = merges_path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise ModelError(f"Cannot read {folder.name}/merges.txt: {exc}.") from exc
        merges: list[tuple[str, str]] = []
        for number, line in enumerate(lines, start=1):
            if not line.strip() or (number == 1 and line.startswith("#version")):
                continue
            parts = line.split()
            if len(parts) != 2:
                raise ModelError(f"{folder.name}/merges.txt line {number} should hold two symbols, got {line!r}.")
            merges.append((parts[0], parts[1]))
        config = _read_optional_json(folder / "tokenizer_config.json")
        special = _read_optional_json(folder / "special_tokens_map.json")
        max_length = config.get("model_max_length", 77)
        if not isinstance(max_length, int) or max_length > 4096:  # transformers writes 1e30 for "unbounded"
            max_length = 77
        pad = special.get("pad_token", config.get("pad_token", EOS))
        if isinstance(pad, dict):
            pad = pad.get("content", EOS)
        return cls(vocab, merges, max_length=max_length, pad_token=str(pad))

    def _bpe(self, word: str) -> list[str]:
        cached = self._cache.get(word)
        if cached is not None:
            return cached
        parts = list(word[:-1]) + [word[-1] + "</w>"]
        while len(parts) > 1:
            ranked = [(self.ranks.get((a, b), None), i) for i, (a, b) in enumerate(zip(parts, parts[1:]))]
            ranked = [(r, i) for r, i in ranked if r is not None]
            if not ranked:
                break
            best = min(ranked)[0]
            merged: list[str] = []
            i = 0
            while i < len(parts):
                if i + 1 < len(parts) and self.ranks.get((parts[i], parts[i + 1])) == best:
                    merged.append(parts[i] + parts[i + 1])
                    i += 2
                else:
                    merged.append(parts[i])
                    i += 1
            parts = merged
        if len(self._cache) < 10_000:
            self._cache[word] = parts
        return parts

    def tokenize(self, text: str) -> list[str]:
        """The BPE pieces of ``text`` (no start/end tokens)."""
        pieces: list[str] = []
        for word in _WORDS.findall(clean_text(text)):
            if word in (BOS, EOS):
                pieces.append(word)
                continue
            pieces.extend(self._bpe("".join(self._bytes[b] for b in word.encode("utf-8"))))
        return pieces

    def encode(self, text: str) -> list[int]:
        """Ids of ``text`` without start/end tokens; a piece missing from the vocabulary maps to the end token."""
        return [self.vocab.get(piece, self.eos_id) for piece in self.tokenize(text)]

    def __call__(self, texts: str | list[str], length: int | None = None) -> np.ndarray:
        """(batch, length) int64 ids: start, the text truncated to fit, end, then padding."""
        batch = [texts] if isinstance(texts, str) else list(texts)
        size = int(length or self.max_length)
        out = np.full((len(batch), size), self.pad_id, dtype=np.int64)
        for row, text in enumerate(batch):
            ids = [self.bos_id, *self.encode(text)[: size - 2], self.eos_id]
            out[row, : len(ids)] = ids
        return out


def _read_json(path: Path) -> Any:
    try:
        if path.stat().st_size > MAX_VOCAB_BYTES:
            raise ModelError(f"{path.parent.name}/{path.name} is too large to be a tokenizer file.")
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ModelError(f"The tokenizer lacks {path.parent.name}/{path.name}.") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"Cannot read {path.parent.name}/{path.name}: {exc}.") from exc


def _read_optional_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    data = _read_json(path)
    return data if isinstance(data, dict) else {}
