"""Family name -> exporter. Each family's module registers its exporter when imported; this module imports none
of them at import time, only on the first lookup, from ``FAMILY_MODULES``: a new family adds its module there."""

from __future__ import annotations

import importlib

from genart_desktop.core.errors import InputError
from genart_desktop.training.export.protocol import FamilyExporter

FAMILY_MODULES = (
    "genart_desktop.training.gan.export",
    "genart_desktop.training.vae.export",
    "genart_desktop.training.style.export",
    "genart_desktop.training.diffusion.export",
    "genart_desktop.training.upscale.export",
    "genart_desktop.training.style_arbitrary.export",
)

_EXPORTERS: dict[str, FamilyExporter] = {}


def register(exporter: FamilyExporter) -> FamilyExporter:
    """Make ``exporter`` the one for its family; two different exporters for one family is a programming error."""
    known = _EXPORTERS.get(exporter.family)
    if known is not None and known is not exporter:
        raise ValueError(f"Two exporters registered for the {exporter.family!r} family.")
    _EXPORTERS[exporter.family] = exporter
    return exporter


def _discover() -> None:
    for module in FAMILY_MODULES:
        importlib.import_module(module)


def families() -> list[str]:
    _discover()
    return sorted(_EXPORTERS)


def exporter_for(family: object) -> FamilyExporter:
    _discover()
    if not isinstance(family, str) or family not in _EXPORTERS:
        raise InputError(f"No exporter for {family!r} runs (known: {', '.join(sorted(_EXPORTERS))}).")
    return _EXPORTERS[family]
