"""The file controller without Qt: open, save, export and drop; failures change nothing; the close decision;
recovery that survives hostile autosave notes; leftover ``.part`` files swept (ours only)."""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from genart_desktop.core import atomic
from genart_desktop.core.errors import GenArtError, InputError, SaveError
from genart_desktop.document.autosave import MAX_NOTE_BYTES, AutosaveStore
from genart_desktop.document.document import Document
from genart_desktop.document.io.ora import save_ora
from genart_desktop.workspace.files import FileController, one_line, shown_name


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store(tmp_path):
    return AutosaveStore(tmp_path / "autosave")


@pytest.fixture
def files(store):
    controller = FileController(store, autosave_interval_s=60, clock=Clock())
    controller.events = []
    controller.document_changed.connect(lambda doc: controller.events.append(("document", doc)))
    controller.path_changed.connect(lambda path: controller.events.append(("path", path)))
    return controller


def paint(document: Document, value: int = 40) -> None:
    pixels = np.zeros((30, 50, 4), np.uint8)
    pixels[..., 0], pixels[..., 3] = value, 255
    document.add_layer("Ink", pixels=pixels, origin=(7, 9))


def green_png(path: Path, size=(60, 40)) -> Path:
    image = np.zeros((size[1], size[0], 3), np.uint8)
    image[..., 1] = 180
    Image.fromarray(image).save(path, "PNG")
    return path


def aged(path: Path, seconds: float = 2 * atomic.STALE_PART_SECONDS) -> Path:
    past = time.time() - seconds
    os.utime(path, (past, past), follow_symlinks=False)
    return path


def test_full_hd_round_trip_save_open_and_export(files, tmp_path):
    document = files.new(1920, 1080)
    assert files.events == [("document", document), ("path", None)]
    paint(document)
    composite = document.composite().copy()
    assert files.needs_close_prompt() and files.save_target is None
    assert files.suggested_save_path() == "Untitled.ora"
    saved = files.save_as(tmp_path / "art")
    assert saved == tmp_path / "art.ora" and saved.is_file()
    assert files.path == saved and not files.dirty and files.events[-1] == ("path", saved)
    assert files.save_target == saved and files.save() == saved  # Save writes in place once there is a file
    exported = files.export(tmp_path / "flat.png")
    assert np.array_equal(np.asarray(Image.open(exported).convert("RGBA")), composite)
    assert files.path == saved, "exporting does not move the document to the exported file"

    reopened = files.open(saved)
    assert reopened is files.document and reopened is not document and files.events[-2] == ("document", reopened)
    assert [layer.name for layer in reopened.layers] == ["Background", "Ink"]
    assert (reopened.width, reopened.height) == (1920, 1080)
    assert np.array_equal(reopened.composite(), composite) and not files.dirty


def test_an_image_keeps_its_name_and_save_asks_for_an_ora_beside_it(files, tmp_path):
    files.open(green_png(tmp_path / "green.png"))
    assert files.display_name == "green.png" and files.save_target is None
    assert files.suggested_save_path() == str(tmp_path / "green.ora")
    assert files.suggested_export_path() == "green.png"
    with pytest.raises(InputError, match="green.png has no .ora file yet"):
        files.save()


def test_open_as_layer_is_centred_and_undoable(files, tmp_path):
    document = files.new(100, 100)
    layer = files.open_as_layer(green_png(tmp_path / "green.png"))
    assert layer.name == "green" and len(document.layers) == 2
    assert tuple(document.layers[1].pixels[50, 50]) == (0, 180, 0, 255) and document.layers[1].pixels[5, 5, 3] == 0
    donor = Document(20, 20, (0, 0, 255, 255))
    save_ora(donor, tmp_path / "donor.ora")
    files.open_as_layer(tmp_path / "donor.ora")  # a layered file comes in flattened
    assert tuple(document.layers[2].pixels[50, 50]) == (0, 0, 255, 255)
    document.undo()
    document.undo()
    assert len(document.layers) == 1


def _snapshot(document: Document) -> tuple:
    return (document.path, document.dirty, len(document.layers), document.can_redo, document.composite().tobytes())


def test_failures_change_nothing_and_name_the_file_in_one_line(files, tmp_path):
    document = files.new(64, 48)
    paint(document)
    before = _snapshot(document)
    files.events.clear()
    broken = tmp_path / "broken.ora"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    (tmp_path / "folder.png").mkdir()
    attempts = [
        (lambda: files.open(broken), "broken.ora"),
        (lambda: files.open(tmp_path / "missing.png"), "missing.png"),
        (lambda: files.open(tmp_path / "folder.png"), "folder.png"),
        (lambda: files.open_as_layer(junk), "junk.png"),
        (lambda: files.open_as_layer(tmp_path / "bad\nname.png"), "name.png"),
        (lambda: files.save_as(tmp_path / "no-such-folder" / "x.ora"), "x.ora"),
        (lambda: files.export(tmp_path / "flat.gif"), "flat.gif"),
        (lambda: files.export(tmp_path / "no-such-folder" / "flat.png"), "flat.png"),
    ]
    for attempt, name in attempts:
        with pytest.raises(GenArtError) as caught:
            attempt()
        message = str(caught.value)
        assert name in message and "\n" not in message, message
    assert files.document is document and _snapshot(document) == before and files.events == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["autosave", "broken.ora", "folder.png", "junk.png"]


def test_os_errors_become_save_errors_naming_the_file(files, tmp_path, monkeypatch):
    document = files.new(32, 32)
    paint(document)

    def refuse(*_args, **_kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("genart_desktop.workspace.files.save_ora", refuse)
    with pytest.raises(SaveError, match=r"^Cannot save x\.ora: Permission denied\.$"):
        files.save_as(tmp_path / "x.ora")
    assert document.dirty and document.path is None


def test_one_line_escapes_breaks_and_control_characters():
    assert one_line("a\nb\tc\x1b") == "a\\nb\\tc\\x1b"
    assert shown_name(Path("/some/dir/caf\u00e9 \u2014 1.ora")) == "caf\u00e9 \u2014 1.ora"


def test_close_decision_follows_unsaved_changes(files, tmp_path):
    assert not files.needs_close_prompt()  # nothing open
    document = files.new(40, 30)
    assert not files.needs_close_prompt()
    paint(document)
    assert files.needs_close_prompt()
    files.save_as(tmp_path / "a.ora")
    assert not files.needs_close_prompt()
    document.undo()
    assert files.needs_close_prompt()
    document.redo()
    assert not files.needs_close_prompt()


def test_dropped_files_open_or_become_layers_and_failures_do_not_stop_the_rest(files, tmp_path):
    document = files.new(100, 100)
    green_png(tmp_path / "a.png")
    (tmp_path / "b.png").write_bytes(b"not a png")
    (tmp_path / "notes.txt").write_text("hello")
    save_ora(Document(30, 20), tmp_path / "c.ora")
    outcomes = files.drop_files([tmp_path / "notes.txt", tmp_path / "b.png", tmp_path / "a.png",
                                 tmp_path / "c.ora"], may_replace=lambda: False)
    assert [(o.path.name, o.action, bool(o.error)) for o in outcomes] == [
        ("b.png", "layer", True), ("a.png", "layer", False), ("c.ora", "kept", False)]
    assert "b.png" in outcomes[0].error
    assert files.document is document and len(document.layers) == 2
    outcomes = files.drop_files([tmp_path / "c.ora"], may_replace=lambda: True)
    assert outcomes[0].action == "open" and outcomes[0].error is None
    assert files.path == tmp_path / "c.ora" and files.document.width == 30


def test_autosave_tick_and_save_clear_the_snapshot(files, store, tmp_path):
    document = files.new(40, 30)
    assert not files.autosave_tick()
    paint(document)
    clock = files.autosave._clock
    assert not files.autosave_tick()  # not due yet
    clock.now += 61
    assert files.autosave_tick()
    assert [entry.doc_id for entry in store.pending()] == [files.autosave.doc_id]
    files.save_as(tmp_path / "kept.ora")
    assert store.pending() == []


def _crash(store: AutosaveStore, doc_id: str, path: Path | None = None) -> Document:
    crashed = Document(80, 50)
    paint(crashed, value=90)
    crashed.path = path
    store.write(crashed, doc_id)
    return crashed


def test_recovery_restores_the_newest_and_protects_it_under_this_session(files, store, tmp_path):
    _crash(store, "older")
    crashed = _crash(store, "newer", tmp_path / "sketch.ora")
    entries = files.recovery_entries()
    assert [entry.doc_id for entry in entries] == ["newer", "older"]
    assert files.describe_recovery(entries).startswith("\u201csketch.ora\u201d, autosaved ")
    recovered = files.restore(entries[0])
    assert recovered is files.document and recovered.dirty and recovered.path == tmp_path / "sketch.ora"
    assert np.array_equal(recovered.composite(), crashed.composite())
    assert sorted(e.doc_id for e in store.pending()) == sorted(["older", files.autosave.doc_id])
    files.discard_recovery(files.recovery_entries())
    assert [e.doc_id for e in store.pending()] == [files.autosave.doc_id]
    files.close()
    assert store.pending() == []


def test_a_snapshot_swapped_for_a_link_is_not_restored(files, store, tmp_path):
    document = files.new(10, 10)
    _crash(store, "crashed")
    entry = files.recovery_entries()[0]
    save_ora(Document(5, 5), tmp_path / "elsewhere.ora")
    entry.snapshot.unlink()
    entry.snapshot.symlink_to(tmp_path / "elsewhere.ora")
    with pytest.raises(InputError, match="Cannot recover Untitled"):
        files.restore(entry)
    assert files.document is document


def _bad_note(kind: str, note: Path, tmp_path: Path) -> None:
    good = {"doc_id": note.stem, "original_path": None, "saved_at": time.time(), "title": "Bad"}
    values = {"huge_time": 1e300, "nan_time": float("nan"), "text_time": "yesterday", "negative_time": -5.0,
              "overflowing_int_time": 10 ** 400, "bool_time": True}
    if kind in values:
        note.write_text(json.dumps({**good, "saved_at": values[kind]}))
    elif kind == "not_json":
        note.write_bytes(b"{\x00\xff broken")
    elif kind == "not_an_object":
        note.write_text("[1, 2, 3]")
    elif kind == "deeply_nested":
        note.write_text("[" * 20000 + "]" * 20000)
    elif kind == "path_not_text":
        note.write_text(json.dumps({**good, "original_path": ["a", "b"]}))
    elif kind == "too_big":
        note.write_text(json.dumps({**good, "title": "x" * (2 * MAX_NOTE_BYTES)}))
    elif kind == "named_pipe":
        os.mkfifo(note)
    elif kind == "link_to_dev_zero":
        note.symlink_to("/dev/zero")
    elif kind == "link_outside":
        outside = tmp_path / "outside.json"
        outside.write_text(json.dumps(good))
        note.symlink_to(outside)
    elif kind == "folder":
        note.mkdir()
    else:
        raise AssertionError(kind)


BAD_NOTES = ["huge_time", "nan_time", "text_time", "negative_time", "overflowing_int_time", "bool_time", "not_json",
             "not_an_object", "deeply_nested", "path_not_text", "too_big", "named_pipe", "link_to_dev_zero",
             "link_outside", "folder"]


def _within(seconds: float, call):
    """``call()``'s result, failing (instead of hanging the suite) when it takes longer than ``seconds``."""
    result: list = []
    worker = threading.Thread(target=lambda: result.append(call()), daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), "blocked"
    assert result, "raised"
    return result[0]


@pytest.mark.parametrize("kind", BAD_NOTES)
def test_a_hostile_autosave_note_is_skipped_and_the_named_file_still_opens(kind, files, store, tmp_path, caplog):
    files.new(10, 10)
    _crash(store, "good")
    _bad_note(kind, store.directory / "bad.json", tmp_path)
    shutil.copy(store.directory / "good.ora", store.directory / "bad.ora")  # a usable snapshot beside it
    entries = _within(10, files.recovery_entries)
    assert [entry.doc_id for entry in entries] == ["good"]
    assert "bad.json" in caplog.text
    assert files.describe_recovery(entries)
    assert _within(10, lambda: files.restore(entries[0])).dirty
    wanted = green_png(tmp_path / "wanted.png")
    assert files.open(wanted).path == wanted


def test_a_snapshot_that_is_not_a_regular_file_is_skipped(files, store):
    _crash(store, "good")
    _crash(store, "piped")
    (store.directory / "piped.ora").unlink()
    os.mkfifo(store.directory / "piped.ora")
    assert [entry.doc_id for entry in _within(10, files.recovery_entries)] == ["good"]


def _leftovers(folder: Path, names, age: float = 2 * atomic.STALE_PART_SECONDS) -> list[Path]:
    paths = []
    for name in names:
        (folder / name).write_bytes(b"half")
        paths.append(aged(folder / name, age))
    return paths


def test_start_up_sweeps_old_part_files_of_ours_from_the_autosave_folder(store):
    old = _leftovers(store.directory, [".abc.ora.k2m9x_1q.part", ".abc.json.00000000.part"])
    kept = _leftovers(store.directory, ["keep.part", ".abc.ora.1.part"])
    kept += _leftovers(store.directory, [".abc.ora.zzzzzzzz.part"], age=0)  # a write in progress
    FileController(store)
    assert not any(path.exists() for path in old)
    assert all(path.exists() for path in kept)


def test_opening_a_file_sweeps_its_folder_of_our_old_part_files_only(files, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    green_png(work / "pic.png")
    ours = _leftovers(work, [".pic.png.abcdefgh.part", ".art.ora.k2m9x_1q.part"])
    kept = _leftovers(work, [".notes.txt.abcdefgh.part", "pic.png.part", ".art.ora.1.part"])
    kept += _leftovers(work, [".art.ora.qqqqqqqq.part"], age=0)
    precious = tmp_path / "precious.ora"
    precious.write_bytes(b"keep")
    link = work / ".old.ora.abcdefgh.part"
    link.symlink_to(precious)
    aged(link)
    with pytest.raises(InputError):
        files.open(work / "missing.png")
    assert all(path.exists() for path in ours), "a failed open changes nothing, not even leftovers"
    files.open(work / "pic.png")
    assert not any(path.exists() for path in ours)
    assert all(path.exists() for path in kept)
    assert link.is_symlink() and precious.read_bytes() == b"keep"
