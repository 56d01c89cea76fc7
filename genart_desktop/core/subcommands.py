"""Finds the subcommand modules of a command-line package (``genart`` and ``genart-train`` share the convention).

A subcommand is a module of the package, not starting with ``_``, that defines ``NAME`` (the word typed after the
program), ``HELP``, ``add_arguments(parser)`` and ``run(args) -> int``; adding one is adding a file.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType


def discover(package: ModuleType) -> dict[str, ModuleType]:
    """``{NAME: module}`` for every subcommand module in ``package``."""
    found: dict[str, ModuleType] = {}
    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        name = getattr(module, "NAME", None)
        if name:
            found[name] = module
    return found
