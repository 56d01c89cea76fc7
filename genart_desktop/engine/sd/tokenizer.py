"""CLIP's byte-level BPE tokenizer in pure Python (vocab.json + merges.txt), so Stable Diffusion runs without
transformers or tokenizers.

Steps, as in transformers' CLIPTokenizer without ftfy: clean the text (collapse whitespace, lower-case), split it
into words with CLIP's pattern, map each word's UTF-8 bytes to printable characters, mark the word's end with ``</w>``, apply merges
in rank order, look the pieces up in the vocabulary, then add the start and end tokens and pad to the model length.
CLIP's pattern uses Unicode classes (\\p{L}, \\p{N}) that Python's ``re`` lacks; letters are ``[^\\W\\d_]`` and digits
``\\d`` here, which agree for ordinary prompts (ftfy's mojibake and HTML repair is not applied).
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from genart_desktop.core.errors import ModelError
from genart_desktop.engine.contained import load_contained_json, read_contained

BOS = "<|startoftext|>"
EOS = "<|endoftext|>"
_WORDS = re.compile(
    r"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[^\W\d_]+|\d|(?:[^\s\w]|_)+", re.IGNORECASE
)
_SPACES = re.compile(r"\s+")
MAX_FILE_BYTES = 16 << 20
MAX_CONFIG_BYTES = 1 << 20
MAX_ENTRIES = 500_000
MAX_PROMPT_CHARS = 20_000
MAX_WORD_SYMBOLS = 64


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
        vocab = _read_json(folder, "vocab.json", MAX_FILE_BYTES)
        if not isinstance(vocab, dict) or not all(isinstance(k, str) and isinstance(v, int) for k, v in vocab.items()):
            raise ModelError(f"{folder.name}/vocab.json must map token strings to integer ids.")
        if len(vocab) > MAX_ENTRIES:
            raise ModelError(f"{folder.name}/vocab.json has {len(vocab):,} tokens, more than {MAX_ENTRIES:,}.")
        merges = _read_merges(folder)
        config = _read_optional_json(folder, "tokenizer_config.json")
        special = _read_optional_json(folder, "special_tokens_map.json")
        max_length = config.get("model_max_length", 77)
        if not isinstance(max_length, int) or max_length > 4096:  # transformers writes 1e30 for "unbounded"
            max_length = 77
        pad = special.get("pad_token", config.get("pad_token", EOS))
        if isinstance(pad, dict):
            pad = pad.get("content", EOS)
        return cls(vocab, merges, max_length=max_length, pad_token=str(pad)[:256])

    def _bpe(self, word: str, end: bool = True) -> list[str]:
        """BPE pieces of ``word`` (byte symbols); ``end`` marks its last symbol as the end of a word."""
        key = word + "</w>" if end else word
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        parts = list(word[:-1]) + [word[-1] + "</w>"] if end else list(word)
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
            self._cache[key] = parts
        return parts

    def tokenize(self, text: str, limit: int | None = None) -> list[str]:
        """The BPE pieces of ``text`` (no start/end tokens); with ``limit``, at most that many (stopping early)."""
        pieces: list[str] = []
        for word in _WORDS.finditer(clean_text(text[:MAX_PROMPT_CHARS])):
            word = word.group()
            if limit is not None and len(pieces) >= limit:
                break
            if word in (BOS, EOS):
                pieces.append(word)
                continue
            symbols = "".join(self._bytes[b] for b in word.encode("utf-8"))
            for start in range(0, len(symbols), MAX_WORD_SYMBOLS):
                if limit is not None and len(pieces) >= limit:
                    break
                chunk = symbols[start:start + MAX_WORD_SYMBOLS]
                pieces.extend(self._bpe(chunk, end=start + MAX_WORD_SYMBOLS >= len(symbols)))
        return pieces if limit is None else pieces[:limit]

    def encode(self, text: str, limit: int | None = None) -> list[int]:
        """Ids of ``text`` without start/end tokens; a piece missing from the vocabulary maps to the end token."""
        return [self.vocab.get(piece, self.eos_id) for piece in self.tokenize(text, limit)]

    def __call__(self, texts: str | list[str], length: int | None = None) -> np.ndarray:
        """(batch, length) int64 ids: start, the text truncated to fit, end, then padding."""
        batch = [texts] if isinstance(texts, str) else list(texts)
        size = int(length or self.max_length)
        out = np.full((len(batch), size), self.pad_id, dtype=np.int64)
        for row, text in enumerate(batch):
            ids = [self.bos_id, *self.encode(text, size - 2), self.eos_id]
            out[row, : len(ids)] = ids
        return out


def _read_json(folder: Path, name: str, limit: int) -> Any:
    return load_contained_json(folder, name, limit, f"{folder.name}/{name}")


def _read_optional_json(folder: Path, name: str) -> dict[str, Any]:
    if not os.path.lexists(folder / name):
        return {}
    data = _read_json(folder, name, MAX_CONFIG_BYTES)
    return data if isinstance(data, dict) else {}


def _read_merges(folder: Path) -> list[tuple[str, str]]:
    """The merge rules in rank order; a bad line is named by number, never quoted."""
    where = f"{folder.name}/merges.txt"
    try:
        text = read_contained(folder, "merges.txt", MAX_FILE_BYTES, where).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ModelError(f"{where} is not UTF-8 text (bad byte at offset {exc.start}).") from exc
    merges: list[tuple[str, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or (number == 1 and line.startswith("#version")):
            continue
        parts = line.split()
        if len(parts) != 2:
            raise ModelError(f"{where} line {number} should hold two symbols separated by a space.")
        if len(merges) >= MAX_ENTRIES:
            raise ModelError(f"{where} has more than {MAX_ENTRIES:,} merges.")
        merges.append((parts[0], parts[1]))
    return merges
