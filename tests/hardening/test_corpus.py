"""Every case of the bad-input corpus gets a clear message and changes nothing (files, document, registry), within
a budget: handled in 10 s, under 2 GB more memory, one line, no program started."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Iterator

import numpy as np
import psutil
import pytest

from genart_desktop.core.errors import InputError, ModelError
from genart_desktop.document.io.raster import load_image_pixels, open_document
from genart_desktop.engine.registry import ModelRegistry
from genart_desktop.engine.session import ModelSession
from genart_desktop.workspace.recipe_png import read_recipe
from tests.hardening.corpus import Case, cases
from tests.hardening.helpers import (
    SETTINGS, assert_clear_message, document_state, open_as_layer, sample_document, tree_digest,
)
from genart_desktop.core.text import shown
from tests.tiny_onnx import image_model, write_model_folder

CORPUS_FLOOR = 150
CASE_SECONDS = 10.0
CASE_EXTRA_BYTES = 2 << 30


class _PeakMemory(threading.Thread):
    """Samples this process's resident memory every few milliseconds: the high-water mark of the process cannot be
    reset between cases, so each case's peak is measured above its own starting point."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.process = psutil.Process()
        self.start_rss = self.peak = self.process.memory_info().rss
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(0.005):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def extra(self) -> int:
        self.stopped.set()
        self.join()
        return max(self.peak, self.process.memory_info().rss) - self.start_rss


@pytest.fixture(autouse=True)
def budget(monkeypatch) -> Iterator[list[str]]:
    """Each case: no child process at all (Ghostscript for a PostScript "image", say), 10 s, 2 GB above the start."""
    started: list[str] = []

    def refuse_to_start(*args, **kwargs):
        started.append(repr(args[0] if args else kwargs.get("args"))[:200])
        raise AssertionError(f"a hostile file made the app start a program: {started[-1]}")

    monkeypatch.setattr(subprocess, "Popen", refuse_to_start)
    monkeypatch.setattr(os, "posix_spawn", refuse_to_start, raising=False)
    monkeypatch.setattr(os, "system", refuse_to_start)
    children_before = {child.pid for child in psutil.Process().children(recursive=True)}
    memory = _PeakMemory()
    memory.start()
    began = time.perf_counter()
    yield started
    seconds = time.perf_counter() - began
    extra = memory.extra()
    assert not started, f"programs started: {started}"
    new_children = [child for child in psutil.Process().children(recursive=True) if child.pid not in children_before]
    assert not new_children, f"left running: {new_children}"
    assert seconds <= CASE_SECONDS, f"took {seconds:.1f} s, more than {CASE_SECONDS:g} s"
    assert extra <= CASE_EXTRA_BYTES, f"used {extra >> 20} MiB more memory, more than {CASE_EXTRA_BYTES >> 20} MiB"


def assert_one_clear_line(message: str, path, reason: str) -> None:
    """A clear message (see ``assert_clear_message``) that is one line; the file may be named escaped."""
    assert "\n" not in message and "\r" not in message and "\x1b" not in message, f"not one plain line: {message!r}"
    assert_clear_message(message, [path.name, shown(path.name)], reason)


def params(kind: str) -> list:
    return [pytest.param(c, id=c.name, marks=[pytest.mark.xfail(strict=True, reason=c.xfail)] if c.xfail else [])
            for c in cases(kind)]


def test_corpus_size():
    count = len(cases())
    print(f"hardening corpus: {count} cases")
    assert count >= CORPUS_FLOOR
    assert len({c.name for c in cases()}) == count, "case names must be unique"


@pytest.mark.parametrize("case", params("image") + params("ora"))
def test_files_opened_as_documents_and_layers(case: Case, tmp_path):
    folder = tmp_path / "input"
    folder.mkdir()
    path = case.build(folder)
    before = tree_digest(folder)
    doc = sample_document()
    state = document_state(doc)
    if case.expect == "refuse":
        with pytest.raises(InputError) as opened:
            open_document(path)
        assert_one_clear_line(str(opened.value), path, case.reason)
        with pytest.raises(InputError) as as_layer:
            open_as_layer(doc, path)
        assert_one_clear_line(str(as_layer.value), path, case.reason)
        assert document_state(doc) == state
    else:
        opened = open_document(path)
        if case.kind == "image":
            pixels = load_image_pixels(path)
            case.check(pixels)
            assert np.array_equal(opened.layers[0].pixels, pixels) and not opened.dirty
        else:
            case.check(opened)
        layer = open_as_layer(doc, path)
        assert layer in doc.layers and doc.history.undo_count == state[4] + 1
        doc.undo()
        assert document_state(doc)[:4] == state[:4]
    assert tree_digest(folder) == before, "opening a file must never change files on disk"


@pytest.mark.parametrize("case", params("onnx") + params("card"))
def test_model_folders_are_rejected_with_a_reason_and_others_still_load(case: Case, tmp_path):
    root = tmp_path / "models"
    root.mkdir()
    folder = case.build(root)
    write_model_folder(root, "zz-good", "style", {"stylizer": image_model(scale=2.0)})
    before = tree_digest(tmp_path)
    registry = ModelRegistry([(root, "user")], SETTINGS)
    entry = next(e for e in registry.entries() if e.folder == folder)
    assert not entry.ok
    names = [folder.name] + [p.name for p in folder.glob("*.onnx")] + ["model.json"]
    assert "\n" not in entry.reason, f"not one line: {entry.reason!r}"
    assert_clear_message(entry.reason, names, case.reason)
    good = registry.get("zz-good")
    assert good.ok and "zz-good" in [e.id for e in registry.models()]
    assert folder not in [e.folder for e in registry.models()]
    out = registry.session("zz-good", "stylizer").run({"content": np.ones((1, 3, 2, 2), np.float32)})
    assert np.allclose(out["stylized"], 2.0)
    if entry.id not in [e.id for e in registry.models()]:
        with pytest.raises(ModelError) as used:
            registry.session(entry.id, "stylizer")
        assert entry.reason in str(used.value)
    for onnx_file in folder.glob("*.onnx"):
        try:
            ModelSession.load(onnx_file, SETTINGS)
        except ModelError as exc:  # unloadable graphs say which file; loadable ones failed on their card
            assert_clear_message(str(exc), [onnx_file.name], "")
    registry.release_all()
    assert tree_digest(tmp_path) == before, "scanning models must never change files on disk"


@pytest.mark.parametrize("case", params("recipe"))
def test_recipes_with_garbage_are_refused(case: Case, tmp_path):
    path = case.build(tmp_path)
    before = tree_digest(tmp_path)
    with pytest.raises(InputError) as read:
        read_recipe(path)
    assert_one_clear_line(str(read.value), path, case.reason)
    assert tree_digest(tmp_path) == before


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
@pytest.mark.parametrize("name,read", [("pipe.png", open_document), ("pipe.ora", open_document),
                                       ("pipe.jpg", load_image_pixels), ("pipe.png", read_recipe)],
                         ids=["document", "ora", "layer", "recipe"])
def test_named_pipes_are_refused_at_once(tmp_path, name, read):
    """A pipe named like an image would block any reader forever (and ``tree_digest`` too, so not in the corpus)."""
    fifo = tmp_path / name
    os.mkfifo(fifo)
    outcome: list[str] = []

    def attempt() -> None:
        try:
            read(fifo)
        except InputError as exc:
            outcome.append(str(exc))

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(CASE_SECONDS)
    if worker.is_alive():
        with open(fifo, "wb"):  # let the blocked reader go, so the suite can end
            pass
        pytest.fail(f"{read.__name__} blocked on a named pipe")
    assert outcome, f"{read.__name__} accepted a named pipe"
    assert_one_clear_line(outcome[0], fifo, "special file")


def test_the_memory_budget_sees_what_a_case_allocates():
    memory = _PeakMemory()
    memory.start()
    block = np.ones(96 << 20, np.uint8)  # touched, so resident
    time.sleep(0.05)
    del block
    assert memory.extra() >= 64 << 20
