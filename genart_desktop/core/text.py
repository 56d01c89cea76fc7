"""Names from files and cards made safe to print: a file name is data, not terminal input.

A name may hold newlines (a forged second line), terminal escape sequences (a recoloured or rewritten terminal),
bidirectional overrides (text that reads backwards) or, from ``os.fsdecode``, lone surrogates standing for bytes
that are not UTF-8. :func:`shown` turns every such character into a visible ``\\xNN`` / ``\\uNNNN`` escape.
"""

from __future__ import annotations

import os
import unicodedata

MAX_SHOWN = 300  # characters of a name kept in a message; file names are at most 255 bytes on common systems

# Format (Cf: bidi overrides, zero-width joiners), control (Cc), separators that break lines (Zl, Zp),
# surrogates (Cs: undecodable bytes) and unassigned code points (Cn) are all escaped.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Cn", "Zl", "Zp"})


def _escape(char: str) -> str:
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # os.fsdecode's stand-in for the undecodable byte code - 0xDC00
        return f"\\x{code - 0xDC00:02x}"
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def shown(name: object, limit: int = MAX_SHOWN) -> str:
    """``name`` (text, bytes or a path) as one printable line: unsafe characters escaped and anything past
    ``limit`` characters cut with an ellipsis (the cut is made first, so an escape is never split)."""
    if isinstance(name, bytes):
        text = os.fsdecode(name)
    elif isinstance(name, os.PathLike):
        text = os.fsdecode(os.fspath(name))
    else:
        text = str(name)
    cut = len(text) > limit
    text = text[:limit]
    out = "".join(_escape(char) if unicodedata.category(char) in _UNSAFE_CATEGORIES else char for char in text)
    return out + "..." if cut else out
