"""``--caption-variants on``: the text condition of each training row is a per-step variant of its caption
(:mod:`genart_desktop.training.data.caption_variants`), encoded with a vocabulary that covers every variant."""

from __future__ import annotations

from typing import Any

import torch

from genart_desktop.core.errors import InputError
from genart_desktop.training.data.caption_variants import KEEP_NAME, CaptionVariants
from genart_desktop.training.diffusion.text import Conditioning, Vocabulary


class VariedCaptions:
    """``rows(step, indices)``: the ``cond`` rows for a batch, the same for the same (seed, step, indices)."""

    def __init__(self, variants: CaptionVariants, vocabulary: Vocabulary):
        self.variants, self.vocabulary = variants, vocabulary

    def rows(self, step: int, indices: torch.Tensor) -> torch.Tensor:
        return self.vocabulary.encode_batch(self.variants.captions(step, indices.tolist()))


def varied_conditioning(mode: str, items: list[dict[str, Any]], conditioning: Conditioning, seed: int,
                        keep_name: float = KEEP_NAME) -> tuple[Conditioning, VariedCaptions | None]:
    """The run's conditioning (its vocabulary grown by the variants' words) and the row maker; unchanged and None
    when variants are off."""
    if mode == "off":
        return conditioning, None
    if conditioning.kind != "text" or conditioning.vocabulary is None:
        raise InputError("--caption-variants on needs --condition text.")
    variants = CaptionVariants(items, conditioning.vocabulary.words, seed, keep_name)
    vocabulary = Vocabulary(variants.vocabulary(), conditioning.vocabulary.tokens)
    return Conditioning("text", vocabulary), VariedCaptions(variants, vocabulary)
