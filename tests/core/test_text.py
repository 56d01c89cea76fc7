"""Names are shown as one printable line: what a hostile name holds is escaped, never sent to the terminal."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from genart_desktop.core.text import MAX_SHOWN, shown


@pytest.mark.parametrize("raw,expected", [
    ("plain ünïcode.png", "plain ünïcode.png"),
    ("two\nlines.png", "two\\x0alines.png"),
    ("\x1b[2Jclear.png", "\\x1b[2Jclear.png"),
    ("bell\x07\r.png", "bell\\x07\\x0d.png"),
    ("c1\x9bcsi.png", "c1\\x9bcsi.png"),
    ("gnp.\u202eexe", "gnp.\\u202eexe"),
    ("line\u2028sep", "line\\u2028sep"),
    ("zero\u200bwidth", "zero\\u200bwidth"),
])
def test_unsafe_characters_become_visible_escapes(raw, expected):
    assert shown(raw) == expected


def test_undecodable_bytes_show_as_the_bytes_they_were():
    name = os.fsdecode(b"caf\xe9.png")  # latin-1 bytes on a UTF-8 system: a lone surrogate after decoding
    assert shown(name) == "caf\\xe9.png"
    assert shown(b"caf\xe9.png") == "caf\\xe9.png"
    assert shown(Path("dir") / "x\ty") == str(Path("dir") / "x\\x09y")


def test_long_names_are_cut_before_escaping():
    text = shown("a" * 10_000)
    assert text == "a" * MAX_SHOWN + "..."
    cut = shown("\n" * 10, limit=3)
    assert cut == "\\x0a" * 3 + "..." and "\n" not in cut
