"""Where things live: per-user data, shipped models and resources.

``GENART_HOME`` overrides the per-user directory (tests use it for isolation); ``GENART_MODELS_DIR`` overrides the
shipped models directory (the packaged bundle and tests use it).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP_NAME = "GenArtDesktop"


def _install_root() -> Path:
    """The folder that holds ``models/`` and ``resources/``: the repository, or the bundle when frozen."""
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root)
    return Path(__file__).resolve().parents[2]


def user_data_dir() -> Path:
    """Per-user data root (settings, user models, autosaves, caches); created on first use."""
    override = os.environ.get("GENART_HOME")
    if override:
        root = Path(override).expanduser()
    else:
        import platformdirs

        root = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    root.mkdir(parents=True, exist_ok=True)
    return root


def user_subdir(name: str) -> Path:
    """A named folder below the user data root, created on first use."""
    path = user_data_dir() / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def user_models_dir() -> Path:
    return user_subdir("models")


def autosave_dir() -> Path:
    return user_subdir("autosave")


def cache_dir() -> Path:
    return user_subdir("cache")


def builtin_models_dir() -> Path:
    """The default models shipped with the app."""
    override = os.environ.get("GENART_MODELS_DIR")
    if override:
        return Path(override).expanduser()
    return _install_root() / "models"


def resources_dir() -> Path:
    return _install_root() / "resources"
