"""Strip debug symbols from a built Linux bundle's shared libraries, leaving the ones wheels patched alone.

libpython alone carries 17 MiB of symbols; stripping the bundle's ELF libraries saves about 28 MiB. PyInstaller's own
``strip=True`` also strips the libraries that auditwheel relocated into ``<package>.libs/`` folders (numpy's
OpenBLAS, Pillow's codecs), and those then fail to load ("ELF load command address/offset not page-aligned"), so
this runs after the build on everything else, and the build's self-test proves the result still loads.

    python packaging/strip_bundle.py dist/genart-cpu     # prints the MiB saved; no-op where `strip` is missing
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ELF_MAGIC = b"\x7fELF"


def is_shared_library(path: Path) -> bool:
    name = path.name
    if not (name.endswith(".so") or ".so." in name) or not path.is_file() or path.is_symlink():
        return False
    with open(path, "rb") as handle:
        return handle.read(4) == ELF_MAGIC


def strippable(bundle: Path) -> list[Path]:
    """The bundle's ELF shared libraries outside wheel-patched ``*.libs`` folders (the executable, which carries
    PyInstaller's archive after its code, is not a shared library and is never touched)."""
    internal = bundle / "_internal"
    return sorted(path for path in internal.rglob("*")
                  if is_shared_library(path)
                  and not any(part.endswith(".libs") for part in path.relative_to(internal).parts[:-1]))


def strip_bundle(bundle: Path, strip: str = "strip") -> int:
    """Strip each library in place; returns the bytes saved. A library ``strip`` refuses is left as it was."""
    saved = 0
    for path in strippable(bundle):
        before = path.stat().st_size
        result = subprocess.run([strip, "--strip-unneeded", str(path)], capture_output=True, check=False)
        if result.returncode == 0:
            saved += before - path.stat().st_size
    return saved


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not (Path(argv[0]) / "_internal").is_dir():
        print("usage: strip_bundle.py BUNDLE_FOLDER (the folder that holds _internal/)", file=sys.stderr)
        return 2
    strip = shutil.which("strip")
    if strip is None:
        print("strip_bundle: no `strip` on PATH (binutils); the bundle keeps its symbols")
        return 0
    saved = strip_bundle(Path(argv[0]), strip)
    print(f"strip_bundle: {saved / 2**20:.1f} MiB of symbols removed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
