"""Conditioning: a word vocabulary built from the dataset's captions, a small learned text encoder, class labels,
and condition dropout for classifier-free guidance (Ho & Salimans 2022).

Token ids (the contract the app follows; the card carries the word list inline as ``config.conditioning.vocabulary``
and the length as ``max_tokens``):
- words are ``re.findall(r"[a-z0-9]+", text.lower())``; word ``i`` of the vocabulary has id ``2 + i``;
- a word not in the vocabulary becomes ``UNKNOWN`` (1); the first ``tokens`` words are kept, the rest cut;
- shorter prompts are padded with ``PAD`` (0); the empty prompt (all ``PAD``) is the unconditional (null) prompt.
Class ids: label ``i`` of the card's ``classes`` list is ``i``; ``len(classes)`` is the null class.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from genart_desktop.core.errors import InputError
from genart_desktop.training.data.store import caption_vocabulary, caption_words
from genart_desktop.training.diffusion.unet import attend

PAD = 0
UNKNOWN = 1
FIRST_WORD = 2
VOCAB_FORMAT = "genart-vocab/1"
WORD_PATTERN = "[a-z0-9]+"


@dataclass(frozen=True)
class Vocabulary:
    words: tuple[str, ...]
    tokens: int

    @classmethod
    def from_dataset(cls, meta: dict[str, Any], captions: list[str | None], tokens: int) -> Vocabulary:
        """The dataset's recorded vocabulary (built when the dataset was made), else every caption word."""
        words = meta.get("vocabulary")
        if not isinstance(words, list) or not words:
            words = caption_vocabulary(captions)
        if not words:
            raise InputError("--condition text needs captions, but the dataset has none; build it with "
                             "`genart-train dataset ... --captions FILE` or `genart-train dataset-emoji`.")
        return cls(tuple(dict.fromkeys(str(w) for w in words)), tokens)

    @property
    def size(self) -> int:
        """Number of ids (words plus PAD and UNKNOWN)."""
        return FIRST_WORD + len(self.words)

    def encode(self, text: str | None) -> list[int]:
        index = {w: FIRST_WORD + i for i, w in enumerate(self.words)}
        ids = [index.get(w, UNKNOWN) for w in caption_words(text or "")][: self.tokens]
        return ids + [PAD] * (self.tokens - len(ids))

    def encode_batch(self, texts: list[str | None]) -> torch.Tensor:
        return torch.tensor([self.encode(t) for t in texts], dtype=torch.int64).reshape(len(texts), self.tokens)

    def to_json(self) -> dict[str, Any]:
        return {"format": VOCAB_FORMAT, "tokens": self.tokens, "pad_id": PAD, "unknown_id": UNKNOWN,
                "first_word_id": FIRST_WORD, "word_pattern": WORD_PATTERN, "lowercase": True,
                "words": list(self.words)}

    def to_bytes(self) -> bytes:
        return json.dumps(self.to_json(), indent=1, ensure_ascii=False).encode("utf-8")

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Vocabulary:
        if not isinstance(data, dict) or data.get("format") != VOCAB_FORMAT or not isinstance(data.get("words"), list):
            raise InputError(f"Not a {VOCAB_FORMAT} vocabulary.")
        return cls(tuple(str(w) for w in data["words"]), int(data["tokens"]))


class TextLayer(nn.Module):
    """Pre-norm transformer encoder layer with a key padding mask (written out so it exports to ONNX plainly)."""

    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        q, k, v = self.qkv(self.norm1(x)).chunk(3, dim=2)
        x = x + self.out(attend(q, k, v, self.heads, mask))
        return x + self.mlp(self.norm2(x))


class TextEncoder(nn.Module):
    """Word ids (B, T) -> (pooled vector (B, emb_dim), tokens (B, T + 1, dim), mask (B, T + 1)).

    A learned start token is always present, so the null prompt (all PAD) still attends to something and gives the
    network a distinct unconditional input.
    """

    def __init__(self, vocab_size: int, tokens: int, dim: int, layers: int, heads: int, emb_dim: int):
        super().__init__()
        self.tokens = tokens
        self.embed = nn.Embedding(vocab_size, dim)
        self.start = nn.Parameter(torch.randn(1, 1, dim) * 0.02)
        self.position = nn.Parameter(torch.randn(1, tokens + 1, dim) * 0.02)
        self.layers = nn.ModuleList(TextLayer(dim, heads) for _ in range(layers))
        self.norm = nn.LayerNorm(dim)
        self.pooled = nn.Linear(dim, emb_dim)

    def forward(self, ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        b = ids.shape[0]
        mask = torch.cat([torch.ones_like(ids[:, :1], dtype=torch.bool), ids != PAD], dim=1)
        x = torch.cat([self.start.expand(b, -1, -1), self.embed(ids)], dim=1) + self.position
        for layer in self.layers:
            x = layer(x, mask)
        x = self.norm(x)
        weights = mask.to(x.dtype)[:, :, None]
        pooled = (x * weights).sum(dim=1) / weights.sum(dim=1)
        return self.pooled(pooled), x, mask


class ClassEncoder(nn.Module):
    """Class ids (B, 1) -> an embedding added to the timestep embedding; id ``classes`` is the null class."""

    def __init__(self, classes: int, emb_dim: int):
        super().__init__()
        self.embed = nn.Embedding(classes + 1, emb_dim)

    def forward(self, ids: torch.Tensor) -> tuple[torch.Tensor, None, None]:
        return self.embed(ids[:, 0]), None, None


@dataclass(frozen=True)
class Conditioning:
    """What the model is conditioned on, and how dataset items become ``cond`` rows."""

    kind: str  # none | class | text
    vocabulary: Vocabulary | None = None
    classes: tuple[str, ...] = ()

    @classmethod
    def from_dataset(cls, kind: str, meta: dict[str, Any], captions: list[str | None], tokens: int) -> Conditioning:
        if kind == "text":
            return cls(kind, Vocabulary.from_dataset(meta, captions, tokens))
        if kind == "class":
            labels = meta.get("labels")
            if not isinstance(labels, list) or not labels:
                labels = sorted({i["label"] for i in meta.get("items", []) if isinstance(i, dict) and i.get("label")})
            if not labels:
                raise InputError("--condition class needs labels, but the dataset has none; give a captions file with "
                                 "a 'label' column when building it.")
            return cls(kind, classes=tuple(str(label) for label in labels))
        return cls("none")

    @property
    def width(self) -> int:
        """Columns of ``cond`` (0 when unconditional)."""
        if self.kind == "text":
            assert self.vocabulary is not None
            return self.vocabulary.tokens
        return 1 if self.kind == "class" else 0

    def null(self, count: int) -> torch.Tensor | None:
        """The unconditional rows: the empty prompt or the null class."""
        if self.kind == "none":
            return None
        value = len(self.classes) if self.kind == "class" else PAD
        return torch.full((count, self.width), value, dtype=torch.int64)

    def encode_items(self, items: list[dict[str, Any]]) -> torch.Tensor | None:
        """One ``cond`` row per dataset item (items without a caption or label get the null row)."""
        if self.kind == "none":
            return None
        if self.kind == "text":
            assert self.vocabulary is not None
            return self.vocabulary.encode_batch([item.get("caption") for item in items])
        index = {label: i for i, label in enumerate(self.classes)}
        ids = [index.get(item.get("label"), len(self.classes)) for item in items]
        return torch.tensor(ids, dtype=torch.int64).reshape(-1, 1)

    def encode_prompt(self, prompt: str | None) -> torch.Tensor | None:
        """A single row for a prompt (text) or a label name (class)."""
        if self.kind == "none":
            return None
        if self.kind == "text":
            assert self.vocabulary is not None
            return self.vocabulary.encode_batch([prompt])
        if prompt not in self.classes:
            raise InputError(f"Unknown class {prompt!r}; the model knows {', '.join(self.classes)}.")
        return torch.tensor([[self.classes.index(prompt)]], dtype=torch.int64)

    def build_encoder(self, emb_dim: int, text_dim: int, text_layers: int, heads: int) -> tuple[nn.Module | None, int]:
        """The conditioning module for the U-Net and its context width (0: no cross-attention)."""
        if self.kind == "text":
            assert self.vocabulary is not None
            encoder = TextEncoder(self.vocabulary.size, self.vocabulary.tokens, text_dim, text_layers, heads, emb_dim)
            return encoder, text_dim
        if self.kind == "class":
            return ClassEncoder(len(self.classes), emb_dim), 0
        return None, 0

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "vocabulary": self.vocabulary.to_json() if self.vocabulary else None,
                "classes": list(self.classes)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Conditioning:
        vocab = Vocabulary.from_json(data["vocabulary"]) if data.get("vocabulary") else None
        return cls(str(data["kind"]), vocab, tuple(data.get("classes") or ()))


def drop_conditions(cond: torch.Tensor | None, null: torch.Tensor | None, probability: float
                    ) -> torch.Tensor | None:
    """Replace each row by the null row with ``probability`` (trains the unconditional mode for guidance)."""
    if cond is None or null is None or probability <= 0:
        return cond
    drop = torch.rand(cond.shape[0], device=cond.device) < probability
    return torch.where(drop[:, None], null.to(cond.device).expand_as(cond), cond)
