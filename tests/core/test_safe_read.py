"""Files are read only when they are regular files of a bounded size (inside their folder when one is given): a pipe,
device, folder, loop or escaping symlink is refused by name at once, never read or waited on."""

from __future__ import annotations

import os
import threading

import pytest

from genart_desktop.core.errors import InputError, ModelError
from genart_desktop.core.safe_read import check_inside, open_regular, read_regular, size_text


def _refused(path, reason, **kwargs):
    with pytest.raises(InputError, match=reason) as raised:
        read_regular(path, 1024, **kwargs)
    assert "\n" not in str(raised.value)
    return str(raised.value)


def test_a_regular_file_within_the_limit_is_read(tmp_path):
    path = tmp_path / "note.json"
    path.write_bytes(b"x" * 1024)
    assert read_regular(path, 1024) == b"x" * 1024
    with open_regular(path, 1024) as handle:
        assert handle.read(3) == b"xxx"


def test_size_is_checked_before_reading(tmp_path, monkeypatch):
    path = tmp_path / "big.json"
    path.write_bytes(b"x" * 1025)
    opened = []
    real_fdopen = os.fdopen
    monkeypatch.setattr(os, "fdopen", lambda *a, **k: opened.append(a) or real_fdopen(*a, **k))
    _refused(path, "it is 1,025 bytes, more than the 1 KiB allowed")
    assert not opened, "the file was opened for reading before its size was checked"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_named_pipe_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "model.json"
    os.mkfifo(fifo)
    outcome = []
    worker = threading.Thread(target=lambda: outcome.append(_refused(fifo, "special file")), daemon=True)
    worker.start()
    worker.join(5)
    if worker.is_alive():  # unblock the reader so the suite can finish, then fail
        with open(fifo, "wb"):
            pass
        pytest.fail("reading a named pipe blocked")
    assert outcome and "model.json" in outcome[0]


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_devices_folders_loops_and_missing_files_are_refused(tmp_path):
    (tmp_path / "zero.json").symlink_to("/dev/zero")
    _refused(tmp_path / "zero.json", "special file")
    (tmp_path / "dir.json").mkdir()
    _refused(tmp_path / "dir.json", "is a folder")
    (tmp_path / "loop.json").symlink_to("loop.json")
    _refused(tmp_path / "loop.json", "symlinks loop")
    _refused(tmp_path / "missing.json", "does not exist")
    (tmp_path / "file").write_text("x")
    _refused(tmp_path / "file" / "below.json", "a folder on its path is a file")
    _refused(tmp_path / ("n" * 300), "name is too long")


def test_symlinks_must_stay_inside_the_root(tmp_path):
    root = tmp_path / "model"
    root.mkdir()
    (tmp_path / "secret.txt").write_text("secret")
    (root / "inside.txt").write_text("ok")
    (root / "alias.txt").symlink_to("inside.txt")
    (root / "escape.txt").symlink_to("../secret.txt")
    assert read_regular(root / "alias.txt", 100, root=root) == b"ok"
    assert check_inside(root / "alias.txt", root) == (root / "inside.txt").resolve()
    message = _refused(root / "escape.txt", "links outside its folder", root=root)
    assert "secret" not in message.replace("escape.txt", "")
    with pytest.raises(ModelError, match="escape.txt: it links outside"):
        read_regular(root / "escape.txt", 100, root=root, error=ModelError)


def test_names_in_refusals_are_escaped(tmp_path):
    message = _refused(tmp_path / "bad\x1b[31m\nname.json", "does not exist")
    assert "bad\\x1b[31m\\x0aname.json" in message


def test_sizes_are_written_for_people():
    assert [size_text(n) for n in (5, 2048, 3 << 20, 5 << 30)] == ["5 bytes", "2 KiB", "3 MiB", "5 GiB"]
