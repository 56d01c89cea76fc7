"""Numbered run folders: resolved options, a log, metrics, loss curves, sample grids and checkpoints.

Layout of ``runs/0007-gan/``::

    options.json        family, resolved options, reproducing command, version, creation time
    train.log           human-readable log (also echoed to the console)
    metrics.jsonl       one JSON object per logged step (losses, quality measures)
    loss.png            loss curves, redrawn as training goes
    samples/            sample grids, one PNG per sample interval
    checkpoints/        step-0001000.safetensors ... (see checkpoint.py)
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

from genart_desktop import __version__
from genart_desktop.core.atomic import atomic_write_bytes
from genart_desktop.core.errors import InputError
from genart_desktop.training.plot import save_plot

OPTIONS_FILE = "options.json"
RUN_FORMAT = "genart-run/1"
_NUMBERED = re.compile(r"^(\d{4,})-")


def now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()


class RunFolder:
    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)

    # -- creation and lookup -------------------------------------------------------------------------------------
    @classmethod
    def create(cls, runs_dir: str | os.PathLike[str], family: str) -> RunFolder:
        """Make the next free ``NNNN-family`` folder; ``mkdir`` without exist_ok makes the numbering race-free."""
        root = Path(runs_dir)
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"Cannot create the runs folder {root}: {exc.strerror or exc}.") from exc
        numbers = [int(m.group(1)) for p in root.iterdir() if (m := _NUMBERED.match(p.name))]
        number = max(numbers, default=0) + 1
        while True:
            path = root / f"{number:04d}-{family}"
            try:
                path.mkdir()
                break
            except FileExistsError:
                number += 1
        run = cls(path)
        run.samples_dir.mkdir()
        run.checkpoints_dir.mkdir()
        return run

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> RunFolder:
        run = cls(path)
        if not (run.path / OPTIONS_FILE).is_file():
            raise InputError(f"{run.path} is not a training run folder (it has no {OPTIONS_FILE}).")
        return run

    @property
    def samples_dir(self) -> Path:
        return self.path / "samples"

    def sample_path(self, step: int) -> Path:
        """Where a trainer writes the sample grid of ``step``."""
        return self.samples_dir / f"step-{step:07d}.png"

    @property
    def checkpoints_dir(self) -> Path:
        return self.path / "checkpoints"

    # -- options ---------------------------------------------------------------------------------------------------
    def write_options(self, family: str, options: dict[str, Any], command: str, extra: dict[str, Any] | None = None
                      ) -> None:
        record = {"format": RUN_FORMAT, "family": family, "options": options, "command": command,
                  "version": __version__, "created": now_iso(), **(extra or {})}
        atomic_write_bytes(self.path / OPTIONS_FILE, json.dumps(record, indent=2).encode("utf-8"))

    def read_options(self) -> dict[str, Any]:
        try:
            record = json.loads((self.path / OPTIONS_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(f"Cannot read {self.path / OPTIONS_FILE}: {exc}.") from exc
        if not isinstance(record, dict) or record.get("format") != RUN_FORMAT or "options" not in record:
            raise InputError(f"{self.path / OPTIONS_FILE} is not a {RUN_FORMAT} options file.")
        return record

    # -- log and metrics -------------------------------------------------------------------------------------------
    def log(self, message: str) -> None:
        with open(self.path / "train.log", "a", encoding="utf-8") as handle:
            handle.write(f"{now_iso()} {message}\n")

    def append_metrics(self, step: int, values: dict[str, float]) -> None:
        with open(self.path / "metrics.jsonl", "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"step": step, **values}) + "\n")

    def read_metrics(self, up_to_step: int | None = None) -> list[dict[str, Any]]:
        path = self.path / "metrics.jsonl"
        if not path.is_file():
            return []
        rows = []
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
            except ValueError:
                continue  # a line cut short by a kill
            if isinstance(row, dict) and (up_to_step is None or row.get("step", 0) <= up_to_step):
                rows.append(row)
        return rows

    def truncate_metrics(self, step: int) -> None:
        """After a resume, drop rows logged after the checkpoint so the curves do not double back."""
        rows = self.read_metrics(step)
        atomic_write_bytes(self.path / "metrics.jsonl", "".join(json.dumps(r) + "\n" for r in rows).encode("utf-8"))

    def plot(self, groups: dict[str, tuple[str, list[str]]], references: dict[str, dict[str, float]] | None = None
             ) -> None:
        """``groups`` maps a PNG name to (title, metric keys); each key present in metrics.jsonl becomes a curve."""
        rows = self.read_metrics()
        for filename, (title, keys) in groups.items():
            series: dict[str, list[tuple[float, float]]] = defaultdict(list)
            for row in rows:
                for key in keys:
                    if isinstance(row.get(key), (int, float)):
                        series[key].append((row["step"], float(row[key])))
            if series:
                save_plot(self.path / filename, dict(series), title, smooth=0.6 if "loss" in filename else 0.0,
                          reference=(references or {}).get(filename))

    def write_json(self, name: str, data: dict[str, Any]) -> None:
        atomic_write_bytes(self.path / name, json.dumps(data, indent=2).encode("utf-8"))

    def read_json(self, name: str) -> dict[str, Any]:
        path = self.path / name
        if not path.is_file():
            return {}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}
