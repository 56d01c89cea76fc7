"""Training speeds measured on this machine, kept between sessions so the Train dialog can say how long a run with
the same settings took per step last time (an honest estimate: a measurement, never a guess from a table)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from genart_desktop.core.atomic import atomic_write_bytes
from genart_desktop.core.bounded_json import load_json
from genart_desktop.core.errors import GenArtError

log = logging.getLogger(__name__)

MAX_BYTES = 256 * 1024
MAX_ENTRIES = 200  # the oldest measurements go first


class SpeedBook:
    """Steps per second by settings key (see ``TrainingSpec.speed_key``), read lazily from ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._rates: dict[str, float] | None = None

    def _load(self) -> dict[str, float]:
        if self._rates is None:
            self._rates = {}
            if self.path.is_file():
                try:
                    saved = load_json(self.path, MAX_BYTES)
                except (GenArtError, OSError) as exc:
                    log.warning("Ignored the saved training speeds: %s", exc)
                    saved = {}
                if isinstance(saved, dict):
                    self._rates = {str(k): float(v) for k, v in saved.items()
                                   if isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0}
        return self._rates

    def get(self, key: str) -> float | None:
        return self._load().get(key)

    def record(self, key: str, steps_per_s: float) -> None:
        """Remember the newest measurement in memory (``save`` writes it)."""
        if steps_per_s > 0:
            rates = self._load()
            rates.pop(key, None)
            rates[key] = float(steps_per_s)
            while len(rates) > MAX_ENTRIES:
                rates.pop(next(iter(rates)))

    def save(self) -> None:
        try:
            atomic_write_bytes(self.path, json.dumps(self._load(), indent=1).encode("utf-8"))
        except (GenArtError, OSError) as exc:
            log.warning("Cannot save the training speeds to %s: %s", self.path, exc)
