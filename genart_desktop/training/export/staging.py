"""Model folders are written beside their destination and moved into place only when complete.

A failed export (parity, a crash, Ctrl+C) leaves no half-written folder and the previous export intact.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def staged_model_folder(dest: Path) -> Iterator[Path]:
    """Yield an empty staging folder next to ``dest``; on a clean exit it replaces ``dest``, else it is removed."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".partial", dir=dest.parent))
    try:
        yield staging
        staging.chmod(0o755)
        for child in staging.iterdir():
            child.chmod(0o644)
        if dest.exists():
            shutil.rmtree(dest)
        staging.rename(dest)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
