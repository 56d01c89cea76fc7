"""Atomic writes: replace-or-nothing, permissions kept, links followed, leftovers of killed writes cleared."""

from __future__ import annotations

import os
import stat
import time

import pytest

from genart_desktop.core import atomic
from genart_desktop.core.atomic import atomic_write_bytes, atomic_write_with, atomic_writer, remove_stale_parts
from genart_desktop.core.errors import SaveError


def _names(folder):
    return sorted(p.name for p in folder.iterdir())


def test_write_creates_and_replaces(tmp_path):
    target = tmp_path / "a.bin"
    atomic_write_bytes(target, b"one")
    atomic_write_bytes(target, b"two")
    assert target.read_bytes() == b"two" and _names(tmp_path) == ["a.bin"]


def test_error_in_the_writer_keeps_the_old_file_and_removes_the_temporary(tmp_path):
    target = tmp_path / "a.bin"
    atomic_write_bytes(target, b"old")

    def write(handle):
        handle.write(b"half")
        raise ValueError("encoder crashed")

    with pytest.raises(ValueError, match="encoder crashed"):
        atomic_write_with(target, write)
    assert target.read_bytes() == b"old" and _names(tmp_path) == ["a.bin"]


def test_os_errors_become_save_errors_naming_the_file(tmp_path, monkeypatch):
    target = tmp_path / "a.bin"
    atomic_write_bytes(target, b"old")

    def full(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "replace", full)
    with pytest.raises(SaveError, match=r"a\.bin: No space left on device\. The previous file is unchanged"):
        atomic_write_bytes(target, b"new")
    monkeypatch.undo()
    assert target.read_bytes() == b"old" and _names(tmp_path) == ["a.bin"]


def test_missing_folder_and_folder_in_the_way(tmp_path):
    with pytest.raises(SaveError, match="does not exist"):
        atomic_write_bytes(tmp_path / "nope" / "a.bin", b"x")
    (tmp_path / "taken").mkdir()
    with pytest.raises(SaveError, match="folder of that name"):
        atomic_write_bytes(tmp_path / "taken", b"x")


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_permissions_of_the_replaced_file_are_kept(tmp_path):
    target = tmp_path / "shared.ora"
    atomic_write_bytes(target, b"v1")
    os.chmod(target, 0o640)
    atomic_write_bytes(target, b"v2")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


@pytest.mark.skipif(os.name != "posix", reason="POSIX umask")
def test_new_files_follow_the_umask_not_mkstemp_private_mode(tmp_path):
    target = tmp_path / "new.png"
    atomic_write_bytes(target, b"x")
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~atomic._UMASK


@pytest.mark.skipif(os.name != "posix", reason="symbolic links")
def test_saving_through_a_symlink_updates_the_file_it_points_to(tmp_path):
    real = tmp_path / "projects" / "art.ora"
    real.parent.mkdir()
    real.write_bytes(b"old")
    link = tmp_path / "art.ora"
    link.symlink_to(real)
    atomic_write_bytes(link, b"new")
    assert link.is_symlink() and real.read_bytes() == b"new"


def test_the_handle_is_a_temporary_beside_the_target(tmp_path):
    target = tmp_path / "a.bin"
    with atomic_writer(target) as handle:
        handle.write(b"data")
        assert not target.exists()
        parts = [p for p in tmp_path.iterdir() if p.name.endswith(".part")]
        assert len(parts) == 1 and parts[0].name.startswith(".a.bin.")
    assert target.read_bytes() == b"data" and _names(tmp_path) == ["a.bin"]


def test_stale_parts_are_removed_only_when_old(tmp_path):
    fresh = tmp_path / ".a.bin.k3j9x_2a.part"
    old = tmp_path / ".b.ora.0q7zz1mc.part"
    other = tmp_path / "keep.part"  # not one of ours: no leading dot
    for path in (fresh, old, other):
        path.write_bytes(b"x")
    past = time.time() - 2 * atomic.STALE_PART_SECONDS
    os.utime(old, (past, past))
    os.utime(other, (past, past))
    assert remove_stale_parts(tmp_path) == [old]
    assert remove_stale_parts(tmp_path, older_than=0, name="zzz") == []
    assert remove_stale_parts(tmp_path, older_than=0, name="a.bin") == [fresh]
    assert _names(tmp_path) == ["keep.part"]


def _aged(path, seconds=2 * atomic.STALE_PART_SECONDS):
    past = time.time() - seconds
    os.utime(path, (past, past), follow_symlinks=False)
    return path


def test_only_regular_files_named_exactly_like_ours_are_swept(tmp_path):
    ours = [tmp_path / name for name in (".a[1].ora.abcd_123.part", ".x.png.zzzzzzzz.part")]
    strangers = [tmp_path / name for name in (".a.ora.123.part", ".a.ora.ABCDEFGH.part", "a.ora.abcdefgh.part",
                                              ".a.ora.abcdefgh.part.bak", ".abcdefgh.part")]
    for path in ours + strangers:
        path.write_bytes(b"x")
        _aged(path)
    target = tmp_path / "precious.txt"
    target.write_bytes(b"keep")
    link = tmp_path / ".l.ora.abcdefgh.part"
    link.symlink_to(target)
    _aged(link)
    folder = tmp_path / ".d.ora.abcdefgh.part"
    folder.mkdir()
    _aged(folder)
    assert atomic.part_target(".a[1].ora.abcd_123.part") == "a[1].ora"
    assert remove_stale_parts(tmp_path, name="a[1].ora") == [ours[0]]  # glob characters in a name are literal
    assert remove_stale_parts(tmp_path, suffixes={".ora"}) == []
    assert remove_stale_parts(tmp_path, suffixes={".png"}) == [ours[1]]
    assert all(path.exists() for path in strangers) and link.is_symlink() and folder.is_dir()
    assert target.read_bytes() == b"keep"


def test_a_new_write_clears_old_leftovers_of_the_same_target(tmp_path):
    leftover = tmp_path / ".a.bin.abcd1234.part"
    leftover.write_bytes(b"half")
    past = time.time() - 2 * atomic.STALE_PART_SECONDS
    os.utime(leftover, (past, past))
    atomic_write_bytes(tmp_path / "a.bin", b"whole")
    assert _names(tmp_path) == ["a.bin"]
