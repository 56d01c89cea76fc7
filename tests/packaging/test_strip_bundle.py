"""packaging/strip_bundle.py: strips the bundle's own ELF libraries, never the wheel-patched ``*.libs`` ones (those
stop loading when stripped), and a stripped extension module still imports."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "packaging"))
import strip_bundle  # noqa: E402

sys.path.pop(0)


def _extension_module() -> Path:
    import _bisect

    path = getattr(_bisect, "__file__", None)
    if path is None:
        pytest.skip("this Python builds _bisect in; no extension file to copy")
    return Path(path)


def _fake_bundle(tmp_path: Path) -> tuple[Path, dict[str, Path]]:
    extension = _extension_module()
    internal = tmp_path / "app" / "_internal"
    places = {
        "own": internal / "python3.11" / "lib-dynload" / extension.name,
        "versioned": internal / "libexample.so.6",
        "patched": internal / "numpy.libs" / "libopenblas-abc.so",
        "not_elf": internal / "notes.so",
    }
    for name, path in places.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if name == "not_elf":
            path.write_text("not a library")
        else:
            shutil.copyfile(extension, path)
    (internal / "link.so").symlink_to(places["versioned"])
    (tmp_path / "app" / "genart").write_bytes(b"\x7fELF executable with an archive after it")
    return tmp_path / "app", places


def test_only_the_bundles_own_elf_libraries_are_chosen(tmp_path):
    bundle, places = _fake_bundle(tmp_path)
    assert strip_bundle.strippable(bundle) == sorted([places["own"], places["versioned"]])


@pytest.mark.skipif(shutil.which("strip") is None, reason="binutils' strip is not installed")
def test_stripping_leaves_patched_libraries_byte_identical_and_modules_importable(tmp_path):
    bundle, places = _fake_bundle(tmp_path)
    patched = places["patched"].read_bytes()
    before = places["own"].stat().st_size
    saved = strip_bundle.strip_bundle(bundle, shutil.which("strip"))
    assert saved >= 0 and places["own"].stat().st_size == before - saved // 2  # two identical copies stripped
    assert places["patched"].read_bytes() == patched
    assert places["not_elf"].read_text() == "not a library"

    loader = importlib.machinery.ExtensionFileLoader("_bisect", str(places["own"]))
    spec = importlib.util.spec_from_file_location("_bisect", places["own"], loader=loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    assert module.bisect_left([1, 3, 5], 4) == 2


def test_the_command_refuses_a_folder_without_internal(tmp_path, capsys):
    assert strip_bundle.main([str(tmp_path)]) == 2
    assert "usage" in capsys.readouterr().err
