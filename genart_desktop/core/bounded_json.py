"""JSON from files we did not write, parsed with limits on size, nesting and numbers.

Python's parser has no limits of its own: deep nesting ends in RecursionError, a 5000-digit integer in ValueError
(not JSONDecodeError), ``1e999`` and ``NaN`` become floats no range check expects. :func:`parse_json` turns each
of these into one :class:`InputError` line naming the file, before any value reaches the caller.
"""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from genart_desktop.core.errors import GenArtError, InputError
from genart_desktop.core.safe_read import read_regular, size_text
from genart_desktop.core.text import shown

MAX_JSON_BYTES = 4 << 20
MAX_DEPTH = 64
MAX_INT_DIGITS = 40  # beyond any count, seed or size a card, note or recipe holds (2**128 has 39 digits)

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_STEP = np.zeros(256, np.int8)
_STEP[list(b"[{")] = 1
_STEP[list(b"]}")] = -1


class _Refused(ValueError):
    """Raised from inside the parser's number hooks; carries the reason."""


def nesting_depth(data: bytes) -> int:
    """How deeply arrays and objects nest, ignoring brackets inside strings (linear time, no recursion)."""
    skeleton = np.frombuffer(_STRING.sub(b"", data), np.uint8)
    return int(np.cumsum(_STEP[skeleton], dtype=np.int64).max(initial=0))


def _parse_int(limit: int):
    def parse(text: str) -> int:
        if len(text.lstrip("-")) > limit:
            raise _Refused(f"a number has {len(text.lstrip('-'))} digits, more than {limit}")
        return int(text)
    return parse


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(f"the number {text[:40]} is out of range")
    return value


def _parse_constant(text: str) -> float:
    raise _Refused(f"{text} is not a number JSON allows")


def parse_json(data: bytes | str, name: str, max_bytes: int = MAX_JSON_BYTES, max_depth: int = MAX_DEPTH,
               max_int_digits: int = MAX_INT_DIGITS, error: type[GenArtError] = InputError) -> Any:
    """The value encoded by ``data`` (UTF-8 bytes or text); ``error`` naming ``name`` (escaped) when it is too
    large, too deep, holds an over-long integer, an infinite or NaN number, or is not JSON."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else bytes(data)
    label = shown(name)
    if len(raw) > max_bytes:
        raise error(f"Cannot read {label}: its JSON is {size_text(len(raw))}, more than {size_text(max_bytes)}.")
    depth = nesting_depth(raw)
    if depth > max_depth:
        raise error(f"Cannot read {label}: its JSON nests {depth} levels deep, more than {max_depth}.")
    try:
        text = raw.decode("utf-8-sig")
        return json.loads(text, parse_int=_parse_int(max_int_digits), parse_float=_parse_float,
                          parse_constant=_parse_constant)
    except UnicodeDecodeError:
        raise error(f"Cannot read {label}: it is not UTF-8 text.") from None
    except json.JSONDecodeError as exc:
        raise error(f"Cannot read {label}: it is not valid JSON ({exc.msg} at line {exc.lineno} column "
                    f"{exc.colno}).") from None
    except _Refused as exc:
        raise error(f"Cannot read {label}: {exc}.") from None
    except (ValueError, RecursionError, MemoryError) as exc:  # anything the limits above did not foresee
        raise error(f"Cannot read {label}: its JSON cannot be read ({type(exc).__name__}).") from None


def load_json(path: str | os.PathLike[str], max_bytes: int = MAX_JSON_BYTES, root: str | os.PathLike[str] | None = None,
              error: type[GenArtError] = InputError, **limits: int) -> Any:
    """Read ``path`` as a regular file of at most ``max_bytes`` (inside ``root`` when given) and parse it with
    :func:`parse_json`'s limits (``max_depth``, ``max_int_digits``)."""
    data = read_regular(path, max_bytes, root, error)
    return parse_json(data, Path(path).name, max_bytes, error=error, **limits)
