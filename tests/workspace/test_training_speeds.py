"""Measured training speeds survive the session; a damaged file is ignored, never fatal."""

from __future__ import annotations

import logging

from genart_desktop.workspace.training_speeds import MAX_ENTRIES, SpeedBook


def test_speeds_are_saved_and_read_back(tmp_path):
    book = SpeedBook(tmp_path / "speeds.json")
    book.record("style|128|2|", 1.5)
    book.record("style|128|2|", 2.5)  # the newest measurement wins
    book.record("gan|0|1|emoji-gan-64", 0.0)  # no speed: nothing to remember
    book.save()
    again = SpeedBook(tmp_path / "speeds.json")
    assert again.get("style|128|2|") == 2.5 and again.get("gan|0|1|emoji-gan-64") is None


def test_the_oldest_measurements_make_room(tmp_path):
    book = SpeedBook(tmp_path / "speeds.json")
    for number in range(MAX_ENTRIES + 5):
        book.record(f"key{number}", 1.0 + number)
    assert book.get("key0") is None and book.get(f"key{MAX_ENTRIES + 4}") == MAX_ENTRIES + 5.0


def test_a_damaged_file_is_ignored_with_one_log_line(tmp_path, caplog):
    path = tmp_path / "speeds.json"
    path.write_text('{"style|128|2|": 1e999, ')
    with caplog.at_level(logging.WARNING):
        assert SpeedBook(path).get("style|128|2|") is None
    assert len(caplog.records) == 1
    path.write_text('{"a": -1, "b": true, "c": "fast", "d": 3}')
    book = SpeedBook(path)
    assert [book.get(key) for key in "abcd"] == [None, None, None, 3.0]
