"""JSON from disk is parsed within limits: size, nesting, integer digits and finite numbers, each refused as one
InputError line naming the file, never a ValueError, RecursionError or a float that is not a number."""

from __future__ import annotations

import json

import pytest

from genart_desktop.core.bounded_json import MAX_DEPTH, MAX_INT_DIGITS, load_json, nesting_depth, parse_json
from genart_desktop.core.errors import InputError, ModelError


def test_ordinary_json_parses_as_usual():
    value = {"a": [1, -2.5, "x[{\"", None, True], "b": {"c": 10 ** (MAX_INT_DIGITS - 1)}, "é": "\u2603"}
    assert parse_json(json.dumps(value), "card.json") == value
    assert parse_json(b"\xef\xbb\xbf[1]", "bom.json") == [1]


@pytest.mark.parametrize("text,reason", [
    ("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), f"nests {MAX_DEPTH + 1} levels deep"),
    ('{"a": ' * 100_000 + "1" + "}" * 100_000, "nests 100000 levels deep"),
    ('{"seed": ' + "9" * 5000 + "}", "5000 digits"),
    ('{"seed": -' + "9" * 41 + "}", "41 digits"),
    ('{"x": 1e999}', "out of range"),
    ('{"x": -1e400}', "out of range"),
    ('{"x": NaN}', "NaN is not a number"),
    ('{"x": Infinity}', "Infinity is not a number"),
    ('{"x": 1,}', r"not valid JSON \(.* line 1 column"),
    (b"\xff\xfe{}", "not UTF-8"),
])
def test_hostile_json_is_refused_in_one_line(text, reason):
    with pytest.raises(InputError, match=reason) as raised:
        parse_json(text, "note\n.json")
    assert str(raised.value).startswith("Cannot read note\\x0a.json: ") and "\n" not in str(raised.value)


def test_brackets_inside_strings_do_not_count_as_nesting():
    assert nesting_depth(b'{"a": "[[[[\\"{{{{", "b": [["\\\\"]]}') == 3
    assert parse_json('["' + "[" * 1000 + '"]', "x.json") == ["[" * 1000]


def test_size_limit_and_error_type(tmp_path):
    with pytest.raises(ModelError, match="more than 10 bytes"):
        parse_json(b"[" + b"1," * 20 + b"1]", "big.json", max_bytes=10, error=ModelError)
    path = tmp_path / "card.json"
    path.write_text('{"ok": 1}')
    assert load_json(path) == {"ok": 1}
    path.write_text('{"ok": [[[1]]]}')
    with pytest.raises(InputError, match="nests 4 levels"):
        load_json(path, max_depth=2)
    with pytest.raises(InputError, match="more than the 5 bytes allowed"):
        load_json(path, max_bytes=5)
