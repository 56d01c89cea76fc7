"""Saving when the disk is full, permission is denied, the folder is read-only, or the process is killed mid-write:
the previous file survives byte for byte, a SaveError says why, and the next launch recovers the last autosave."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from genart_desktop.core import atomic
from genart_desktop.core.atomic import atomic_write_bytes, remove_stale_parts
from genart_desktop.core.errors import SaveError
from genart_desktop.document import Document
from genart_desktop.document.autosave import AutosaveStore
from genart_desktop.document.io.ora import load_ora, save_ora
from genart_desktop.document.io.raster import export_flat, save_document
from tests.hardening.helpers import document_state, tree_digest

REPO = Path(__file__).resolve().parents[2]


def _edited_document() -> Document:
    doc = Document(40, 30)
    doc.add_layer("Ink")
    doc.fill(5, 5, (10, 200, 30, 255))
    return doc


def _save_ora(doc, path):
    save_ora(doc, path)


def _save_png(doc, path):
    save_document(doc, path.with_suffix(".png"))


def _export_webp(doc, path):
    export_flat(doc, path.with_suffix(".webp"))


def _autosave(doc, path):
    AutosaveStore(path.parent).write(doc, path.stem)


SAVERS = {"save_ora": (_save_ora, ".ora"), "save_png": (_save_png, ".png"), "export_webp": (_export_webp, ".webp"),
          "autosave": (_autosave, ".ora")}


def _fail_replace(code):
    def replace(src, dst):
        raise OSError(code, os.strerror(code))
    return replace


class _FullDisk:
    """A file object that takes ``room`` bytes, then fails like a full disk."""

    def __init__(self, handle, room):
        self._handle, self._room = handle, room

    def write(self, data):
        self._room -= len(data)
        if self._room < 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return self._handle.write(data)

    def __getattr__(self, name):
        return getattr(self._handle, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._handle.close()


def _install_fault(monkeypatch, fault):
    if fault == "replace_enospc":
        monkeypatch.setattr(atomic.os, "replace", _fail_replace(errno.ENOSPC))
        return os.strerror(errno.ENOSPC)
    if fault == "replace_eacces":
        monkeypatch.setattr(atomic.os, "replace", _fail_replace(errno.EACCES))
        return os.strerror(errno.EACCES)
    if fault == "write_enospc":
        real_fdopen = os.fdopen
        monkeypatch.setattr(atomic.os, "fdopen", lambda fd, mode: _FullDisk(real_fdopen(fd, mode), 16))
        return os.strerror(errno.ENOSPC)
    if fault == "fsync_eio":
        def fsync(fd):
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        monkeypatch.setattr(atomic.os, "fsync", fsync)
        return os.strerror(errno.EIO)
    if fault == "create_eacces":
        def mkstemp(**kwargs):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))
        monkeypatch.setattr(atomic.tempfile, "mkstemp", mkstemp)
        return os.strerror(errno.EACCES)
    raise AssertionError(fault)


@pytest.mark.parametrize("fault", ["replace_enospc", "replace_eacces", "write_enospc", "fsync_eio", "create_eacces"])
@pytest.mark.parametrize("saver", sorted(SAVERS))
def test_failed_save_keeps_the_previous_file_and_says_why(saver, fault, tmp_path, monkeypatch):
    save, suffix = SAVERS[saver]
    target = tmp_path / f"work{suffix}"
    previous = _edited_document()
    save(previous, tmp_path / "work.ora")
    if saver == "autosave":
        (tmp_path / "work.json").unlink()  # only the snapshot itself is under test
    assert target.is_file()
    before = tree_digest(tmp_path)
    doc = _edited_document()
    doc.fill(20, 20, (255, 0, 255, 255), contiguous=False)
    doc.path = tmp_path / "elsewhere.ora"
    state = document_state(doc)
    reason = _install_fault(monkeypatch, fault)
    with pytest.raises(SaveError) as failed:
        save(doc, tmp_path / "work.ora")
    monkeypatch.undo()
    message = str(failed.value)
    assert target.name in message and reason in message and "unchanged" in message
    assert tree_digest(tmp_path) == before, "the old file must survive and no temporary file may be left"
    assert document_state(doc) == state and doc.dirty and doc.path == tmp_path / "elsewhere.ora"


def test_settings_write_failure_keeps_settings(tmp_path, monkeypatch):
    target = tmp_path / "settings.json"
    atomic_write_bytes(target, b'{"autosave_minutes": 5}')
    monkeypatch.setattr(atomic.os, "replace", _fail_replace(errno.ENOSPC))
    with pytest.raises(SaveError, match="No space left"):
        atomic_write_bytes(target, b'{"autosave_minutes": 1}')
    assert target.read_bytes() == b'{"autosave_minutes": 5}'
    assert [p.name for p in tmp_path.iterdir()] == ["settings.json"]


def test_missing_folder_is_a_save_error(tmp_path):
    with pytest.raises(SaveError, match="does not exist"):
        save_ora(_edited_document(), tmp_path / "gone" / "x.ora")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="root ignores permission bits; create_eacces above covers the same path as root")
def test_read_only_folder_refuses_the_save_and_keeps_the_file(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    target = folder / "art.ora"
    save_ora(_edited_document(), target)
    before = target.read_bytes()
    doc = _edited_document()
    os.chmod(folder, 0o555)
    try:
        with pytest.raises(SaveError, match=r"art\.ora.*Permission denied"):
            save_ora(doc, target)
    finally:
        os.chmod(folder, 0o755)
    assert target.read_bytes() == before and [p.name for p in folder.iterdir()] == ["art.ora"]
    assert doc.dirty and doc.path is None


# -- killed mid-write ---------------------------------------------------------------------------------------------

_KILL_SCRIPT = textwrap.dedent("""
    import sys, time, zipfile
    from genart_desktop.document import Document
    from genart_desktop.document.autosave import AutosaveStore
    from genart_desktop.document.io.ora import save_ora

    mode, target = sys.argv[1], sys.argv[2]
    doc = Document(64, 48)
    doc.add_layer("Newer work")
    doc.fill(1, 1, (0, 0, 255, 255))
    real_writestr = zipfile.ZipFile.writestr
    calls = []

    def slow_writestr(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 3:  # mimetype and stack.xml are in the file, the layers are not
            self.fp.flush()
            print("MIDWRITE", flush=True)
            time.sleep(120)
        return real_writestr(self, *args, **kwargs)

    zipfile.ZipFile.writestr = slow_writestr
    if mode == "save":
        save_ora(doc, target)
    else:
        AutosaveStore(target).write(doc, "doc-1")
    print("FINISHED", flush=True)
""")


def _kill_mid_write(mode: str, target: Path, home: Path) -> list[Path]:
    env = {**os.environ, "GENART_HOME": str(home), "PYTHONPATH": str(REPO)}
    child = subprocess.Popen([sys.executable, "-c", _KILL_SCRIPT, mode, str(target)], cwd=str(REPO), env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = child.stdout.readline()
        assert line.strip() == "MIDWRITE", line + child.stderr.read()
        folder = target if target.is_dir() else target.parent
        parts = [p for p in folder.iterdir() if p.name.endswith(".part")]
        assert parts and all(p.stat().st_size > 0 for p in parts), "the child should be half way through a write"
        child.send_signal(signal.SIGKILL)
        child.wait(30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(30)
        child.stdout.close()
        child.stderr.close()
    assert child.returncode == -signal.SIGKILL
    return parts


def test_killed_during_save_leaves_the_previous_file_intact(tmp_path, isolated_home):
    target = tmp_path / "art.ora"
    old = _edited_document()
    save_ora(old, target)
    before = target.read_bytes()
    parts = _kill_mid_write("save", target, isolated_home)
    assert target.read_bytes() == before
    reopened = load_ora(target)
    assert [layer.name for layer in reopened.layers] == ["Background", "Ink"]
    assert np.array_equal(reopened.composite(), old.composite())
    assert remove_stale_parts(tmp_path) == [], "a fresh leftover is not touched (it could be a write in progress)"
    assert sorted(remove_stale_parts(tmp_path, older_than=0)) == sorted(parts)
    assert [p.name for p in tmp_path.iterdir()] == ["art.ora"]


def test_killed_during_autosave_recovers_the_last_complete_snapshot(tmp_path, isolated_home):
    folder = tmp_path / "autosave"
    store = AutosaveStore(folder)
    first = _edited_document()
    first.path = tmp_path / "art.ora"
    store.write(first, "doc-1")
    _kill_mid_write("autosave", folder, isolated_home)
    relaunched = AutosaveStore(folder)  # what the next launch sees
    pending = relaunched.pending()
    assert [entry.doc_id for entry in pending] == ["doc-1"]
    recovered = relaunched.recover(pending[0])
    assert recovered.dirty and recovered.path == tmp_path / "art.ora"
    assert [layer.name for layer in recovered.layers] == ["Background", "Ink"]
    assert np.array_equal(recovered.composite(), first.composite())
    old_part = next(folder.glob(".*.part"))
    os.utime(old_part, (time.time() - 2 * atomic.STALE_PART_SECONDS,) * 2)
    relaunched.pending()  # a leftover from a crash long ago is cleared
    assert not list(folder.glob(".*.part"))
