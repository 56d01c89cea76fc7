"""Render the Noto Color Emoji font into a captioned dataset (``genart-train dataset-emoji``).

The emoji list and names come from Unicode's ``emoji-test.txt`` (Debian package ``unicode-data``) when present, which
also gives sequences (flags, ZWJ families, skin tones) and group/subgroup labels; otherwise every single code point in
the emoji blocks that the font draws is used, named by ``unicodedata.name``. Sequences need Pillow's RAQM layout;
without it they are skipped. The bitmap font only loads at size 109.
"""

from __future__ import annotations

import os
import re
import sys
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont, features

from genart_desktop.core.errors import InputError
from genart_desktop.engine.alpha import premultiply
from genart_desktop.engine.cards import sha256_file
from genart_desktop.training.data.fit import fit_square
from genart_desktop.training.data.store import caption_vocabulary, write_dataset
from genart_desktop.training.runs import now_iso

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf",
    "/usr/share/fonts/noto/NotoColorEmoji.ttf",
    "/usr/share/fonts/google-noto-emoji/NotoColorEmoji.ttf",
    "/Library/Fonts/NotoColorEmoji.ttf",
)
EMOJI_TEST_CANDIDATES = ("/usr/share/unicode/emoji/emoji-test.txt", "/usr/share/unicode-data/emoji/emoji-test.txt")
FONT_SIZE = 109  # the only size the CBDT bitmap strike loads at
FONT_LICENSE = "SIL Open Font License 1.1 (Noto Color Emoji, Copyright 2021 Google Inc.)"
SKIN_TONES = {0x1F3FB, 0x1F3FC, 0x1F3FD, 0x1F3FE, 0x1F3FF}
EMOJI_BLOCKS = ((0x2600, 0x27BF), (0x2B00, 0x2BFF), (0x1F000, 0x1FAFF))
CELL = 144  # canvas side; one glyph is 136 x 128 at size 109


@dataclass(frozen=True)
class Emoji:
    text: str
    name: str
    group: str = ""
    subgroup: str = ""


def find_font(explicit: str | None = None) -> Path:
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise InputError(f"The emoji font {path} does not exist.")
        return path
    for candidate in FONT_CANDIDATES:
        if Path(candidate).is_file():
            return Path(candidate)
    raise InputError("Noto Color Emoji is not installed; install it (Debian/Ubuntu: apt-get install "
                     "fonts-noto-color-emoji) or pass --font PATH.")


def parse_emoji_test(text: str) -> list[Emoji]:
    """Fully-qualified entries of Unicode's emoji-test.txt, with their CLDR names and groups."""
    found: list[Emoji] = []
    group = subgroup = ""
    pattern = re.compile(r"^([0-9A-F ]+?)\s*;\s*fully-qualified\s*#\s*\S+\s+E\d+\.\d+\s+(.+)$")
    for line in text.splitlines():
        if line.startswith("# group:"):
            group = line.split(":", 1)[1].strip()
        elif line.startswith("# subgroup:"):
            subgroup = line.split(":", 1)[1].strip()
        elif (match := pattern.match(line.strip())):
            chars = "".join(chr(int(cp, 16)) for cp in match.group(1).split())
            found.append(Emoji(chars, match.group(2).strip(), group, subgroup))
    return found


def single_codepoint_emoji() -> list[Emoji]:
    found = []
    for start, end in EMOJI_BLOCKS:
        for cp in range(start, end + 1):
            try:
                name = unicodedata.name(chr(cp)).lower()
            except ValueError:
                continue
            if cp not in SKIN_TONES:
                found.append(Emoji(chr(cp), name))
    return found


def load_emoji_list(test_file: str | None = None) -> tuple[list[Emoji], str]:
    """The emoji to render and a description of where the list came from."""
    candidates = [test_file] if test_file else list(EMOJI_TEST_CANDIDATES)
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            entries = parse_emoji_test(Path(candidate).read_text(encoding="utf-8"))
            if entries:
                return entries, f"Unicode emoji-test.txt ({candidate})"
        elif test_file:
            raise InputError(f"The emoji list {test_file} does not exist.")
    return single_codepoint_emoji(), f"code points of the emoji blocks named by unicodedata (Unicode {unicodedata.unidata_version})"


class EmojiRenderer:
    def __init__(self, font_path: Path):
        self.raqm = bool(features.check("raqm"))
        layout = ImageFont.Layout.RAQM if self.raqm else ImageFont.Layout.BASIC
        try:
            self.font = ImageFont.truetype(str(font_path), FONT_SIZE, layout_engine=layout)
        except OSError as exc:
            raise InputError(f"Cannot load the emoji font {font_path.name} at size {FONT_SIZE}: {exc}.") from exc
        self.glyph_width = self.font.getbbox("\U0001F600")[2] or 136

    def render(self, text: str) -> np.ndarray | None:
        """RGBA (CELL, CELL, 4) with the glyph centred, or None when the font has no single glyph for it."""
        if len(text) > 1 and not self.raqm and not (len(text) == 2 and text[1] == "\ufe0f"):
            return None  # sequences need RAQM's shaping to become one glyph
        left, top, right, bottom = self.font.getbbox(text)
        if right - left > self.glyph_width * 1.2 or right <= left:
            return None  # shaped into several glyphs: the font does not support this sequence
        image = Image.new("RGBA", (CELL, CELL), (0, 0, 0, 0))
        ImageDraw.Draw(image).text(((CELL - self.glyph_width) // 2, (CELL - 128) // 2), text, font=self.font,
                                   embedded_color=True)
        pixels = np.asarray(image)
        if pixels[..., 3].max() == 0:
            return None
        return pixels


def build_emoji_dataset(out: str | os.PathLike[str], resolution: int = 64,
                        background: tuple[int, int, int] | None = (255, 255, 255), skin_tones: bool = False,
                        font: str | None = None, test_file: str | None = None, limit: int | None = None,
                        min_word_count: int = 2, report: Callable[[str], None] | None = None) -> tuple[Path, int, int]:
    """Render the emoji, returning (folder, images written, emoji skipped). With no ``background`` the font's own
    alpha is kept: the dataset holds premultiplied RGBA (see ``store.py``)."""
    say = report or (lambda message: print(message, file=sys.stderr))
    if resolution < 8 or resolution > CELL:
        raise InputError(f"--resolution must be between 8 and {CELL} pixels for emoji, not {resolution}.")
    font_path = find_font(font)
    renderer = EmojiRenderer(font_path)
    emoji, source = load_emoji_list(test_file)
    if not skin_tones:
        emoji = [e for e in emoji if not any(ord(c) in SKIN_TONES for c in e.text)]
    if limit is not None:
        emoji = emoji[:limit]
    if not renderer.raqm:
        say("Pillow has no RAQM layout here: emoji sequences (flags, families, skin tones) are skipped.")
    tiles, items, skipped = [], [], 0
    for entry in emoji:
        pixels = renderer.render(entry.text)
        if pixels is None:
            skipped += 1
            continue
        tile = fit_square(pixels, resolution, "pad", background)
        tiles.append(premultiply(tile) if background is None else tile)
        item = {"source": " ".join(f"U+{ord(c):04X}" for c in entry.text), "emoji": entry.text,
                "caption": entry.name.lower()}
        if entry.group:
            item["label"] = entry.group
            item["subgroup"] = entry.subgroup
        items.append(item)
    if not tiles:
        raise InputError(f"The font {font_path.name} rendered none of the {len(emoji)} emoji; nothing was written.")
    font_hash = sha256_file(font_path)
    captions = [i["caption"] for i in items]
    extra = {
        "fit": "pad", "background": None if background is None else list(background), "created": now_iso(),
        "license": FONT_LICENSE + "; emoji names from Unicode data (Unicode License v3)",
        "provenance": {"font": str(font_path), "font_sha256": font_hash, "font_size": FONT_SIZE,
                       "emoji_list": source, "raqm": renderer.raqm, "skin_tones": skin_tones,
                       "skipped_unsupported": skipped, "pillow": Image.__version__},
        "vocabulary": caption_vocabulary(captions, min_word_count),
        "labels": sorted({i["label"] for i in items if "label" in i}),
        "skipped": [],
    }
    write_dataset(out, np.stack(tiles), items, extra)
    return Path(out), len(tiles), skipped
