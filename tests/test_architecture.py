"""The layering rules of the package, checked with import-linter contracts from pyproject.toml."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert ", 0 broken." in result.stdout


def test_contracts_cover_the_house_rules():
    text = (ROOT / "pyproject.toml").read_text()
    assert 'forbidden_modules = ["PySide6", "shiboken6", "superqt"]' in text
    assert '"torch", "torchvision", "genart_desktop.training"' in text
    assert 'type = "independence"' in text
    assert '"genart_desktop.engine.pipelines.diffusion_model",' in text  # the ui and the CLI go through the workspace


def test_no_unsafe_unpickling_in_package():
    offenders = []
    for path in (ROOT / "genart_desktop").rglob("*.py"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if "pickle.load" in line or ("torch.load(" in line and "weights_only=True" not in line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "\n".join(offenders)
