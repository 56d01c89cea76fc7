"""Captions that vary from step to step, so one prompt stands for many pictures and many prompts for one.

An emoji dataset has one picture per Unicode name, so a model trained on the names alone learns one picture per
prompt: eight seeds give eight near copies. Here each training step shows an item under a variant of its caption:
the name itself, a subset of its words, its words shuffled, some words swapped for a synonym (:data:`SYNONYMS`),
and its category words (the emoji-test subgroup and group, ``face-smiling`` / ``Smileys & Emotion``), which
several emoji share, sometimes alone. A prompt such as "cat face" or "animal mammal" then meets many pictures.

A variant depends only on (seed, step, item index), drawn from its own generator, so a resumed run sees exactly
the captions it would have seen, and turning variants off leaves a run's random streams as they were. Every word
a variant uses is in :meth:`CaptionVariants.vocabulary`: the dataset's vocabulary plus the category words and the
synonyms of its words, so the model's prompt vocabulary covers every caption it trained on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from genart_desktop.training.data.store import caption_words

# Frequent words of the emoji names and words a person might type for them instead.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "face": ("head",), "woman": ("lady", "female"), "man": ("guy", "male"), "person": ("human", "someone"),
    "heart": ("love",), "hand": ("palm",), "arrow": ("pointer",), "boy": ("kid", "child"), "girl": ("kid", "child"),
    "smiling": ("happy", "smile"), "grinning": ("happy", "grin"), "frowning": ("sad", "unhappy"),
    "crying": ("sad", "tears"), "angry": ("mad",), "pouting": ("grumpy",), "cat": ("kitty", "kitten"),
    "dog": ("puppy",), "horse": ("pony",), "mouse": ("rodent",), "baby": ("infant",), "red": ("crimson",),
    "black": ("dark",), "white": ("pale",), "small": ("little", "tiny"), "large": ("big",), "moon": ("lunar",),
    "sun": ("sunny",), "star": ("sparkle",), "cloud": ("cloudy",), "rain": ("rainy",), "fire": ("flame",),
    "water": ("aqua",), "mountain": ("peak",), "tree": ("plant",), "flower": ("blossom",), "leaf": ("foliage",),
    "globe": ("earth", "world"), "car": ("automobile",), "airplane": ("plane",), "boat": ("ship",),
    "house": ("home",), "book": ("reading",), "clock": ("time",), "ball": ("sphere",), "circle": ("round",),
    "square": ("box",), "button": ("key",), "sign": ("symbol",), "mouth": ("lips",), "eyes": ("eye",),
    "kiss": ("love",), "light": ("bright",), "musical": ("music",), "running": ("runner",), "family": ("parents",),
    "flag": ("banner",), "shoe": ("footwear",),
}

KEEP_NAME = 0.25  # default share of the name exactly as written (it stays the most common caption of its picture)
CATEGORY_ONLY = 0.1  # only the category words: one prompt for the many emoji of a subgroup
SUBSET = 0.5  # keep a random subset of the words
KEEP_WORD = 0.65  # ... each word with this chance (at least one survives)
SYNONYM = 0.3  # each word that has synonyms is swapped for one with this chance
ADD_CATEGORY = 0.35  # category words join the caption
SHUFFLE = 0.3  # the words in random order


def category_words(item: dict[str, Any]) -> list[str]:
    """The item's subgroup then group words (``face-smiling``, ``Smileys & Emotion``), without repeats."""
    return list(dict.fromkeys(w for words in _categories(item) for w in words))


def _categories(item: dict[str, Any]) -> list[list[str]]:
    """The words of each category the item belongs to that has any: subgroup, group."""
    found = [caption_words(str(item.get(key) or "")) for key in ("subgroup", "label")]
    return [words for words in found if words]


class CaptionVariants:
    """Per-step caption variants of a dataset's items (see the module's docstring)."""

    def __init__(self, items: Sequence[dict[str, Any]], vocabulary: Sequence[str], seed: int,
                 keep_name: float = KEEP_NAME):
        if not 0.0 <= keep_name <= 1.0:
            raise ValueError(f"keep_name must be in [0, 1], not {keep_name}")
        self.items = list(items)
        self.seed = int(seed)
        self.keep_name = float(keep_name)
        names = [caption_words(str(item.get("caption") or "")) for item in self.items]
        known = set(vocabulary)
        extra = {w for item in self.items for w in category_words(item)}
        extra |= {s for w in known | extra for s in SYNONYMS.get(w, ())}
        self.words = tuple(vocabulary) + tuple(sorted(extra - known))
        allowed = set(self.words)
        self._names = [[w for w in words if w in allowed] for words in names]
        self._categories = [_categories(item) for item in self.items]

    def vocabulary(self) -> tuple[str, ...]:
        """The dataset's vocabulary (ids unchanged) followed by the category words and synonyms it lacks."""
        return self.words

    def caption(self, step: int, index: int) -> str | None:
        """Item ``index``'s caption at ``step``: the same for the same (seed, step, index), whatever else ran."""
        original = self.items[index].get("caption")
        name, categories = self._names[index], self._categories[index]
        if not name and not categories:
            return original
        rng = np.random.default_rng([self.seed, int(step), int(index)])
        roll = rng.random()
        if roll < self.keep_name and original:
            return original
        if (roll < self.keep_name + CATEGORY_ONLY and categories) or not name:
            return " ".join(categories[int(rng.integers(len(categories)))])
        category = list(dict.fromkeys(w for words in categories for w in words))
        words = list(name)
        if rng.random() < SUBSET and len(words) > 1:
            kept = [w for w in words if rng.random() < KEEP_WORD]
            words = kept or [words[int(rng.integers(len(words)))]]
        words = [self._synonym(w, rng) for w in words]
        if category and rng.random() < ADD_CATEGORY:
            words += category[: 1 + int(rng.integers(len(category)))]
        words = list(dict.fromkeys(words))
        if rng.random() < SHUFFLE:
            words = [words[i] for i in rng.permutation(len(words))]
        return " ".join(words)

    def captions(self, step: int, indices: Sequence[int]) -> list[str | None]:
        return [self.caption(step, int(i)) for i in indices]

    @staticmethod
    def _synonym(word: str, rng: np.random.Generator) -> str:
        choices = SYNONYMS.get(word)
        if not choices or rng.random() >= SYNONYM:
            return word
        return choices[int(rng.integers(len(choices)))]
