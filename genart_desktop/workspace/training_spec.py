"""What a person asked to train, and the ``genart-train`` command lines that do it.

The app never imports torch: training is a child process (``genart-train``, started as training_program finds
it), so a crash or a hang in training cannot take the painting with it. This module only builds argument lists
(never a shell line).
"""

from __future__ import annotations

import re
import shlex
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from genart_desktop.core.atomic import atomic_write_with
from genart_desktop.core.images import flatten_alpha, rgba_to_pil
from genart_desktop.core.paths import user_subdir
from genart_desktop.engine.cards import ID_PATTERN

RUNS_FOLDER = "training-runs"

# A card's family -> the genart-train subcommand that trains it.
TRAINABLE_FAMILIES = {"style": "style", "gan": "gan", "vae": "vae", "diffusion": "diffusion", "upscaler": "upscale"}


def runs_folder() -> Path:
    """Where the app's runs live (numbered run folders, saved style pictures, child logs)."""
    return user_subdir(RUNS_FOLDER)


@dataclass(frozen=True)
class TrainingSpec:
    """One training the user asked for. ``family`` is the genart-train subcommand; ``data`` the folder of
    training images (content photos for a style); ``style_image`` the painting (style only); ``init_from`` a
    model folder to start from (fine-tuning), or None to train from scratch. Zero means "the trainer's default"."""

    family: str
    data: Path
    model_id: str
    name: str
    steps: int
    style_image: Path | None = None
    init_from: Path | None = None
    resolution: int = 0
    style_weight: float = 0.0
    threads: int = 0

    @property
    def label(self) -> str:
        start = f" from {self.init_from.name}" if self.init_from is not None else ""
        return f"{self.name} ({self.family}{start}, {self.steps} steps)"

    def speed_key(self) -> str:
        """Runs with equal keys take about as long per step on one machine (the start model sets the network)."""
        start = self.init_from.name if self.init_from is not None else ""
        return f"{self.family}|{self.resolution}|{self.threads}|{start}"


def _log_every(steps: int) -> int:
    """Often enough for a live curve and a quick first speed measurement, rarely enough to cost nothing."""
    return max(1, min(25, steps // 100))


def train_arguments(spec: TrainingSpec, runs_dir: Path) -> list[str]:
    """The arguments after the program for a new run of ``spec``."""
    args = [spec.family, "--data", str(spec.data), "--runs-dir", str(runs_dir), "--steps", str(spec.steps),
            "--log-every", str(_log_every(spec.steps)), "--sample-every", str(max(1, spec.steps // 8)),
            "--progress", "json"]
    if spec.style_image is not None:
        args += ["--style", str(spec.style_image)]
    if spec.init_from is not None:
        args += ["--init-from", str(spec.init_from)]
    if spec.resolution:
        args += ["--resolution", str(spec.resolution)]
    if spec.style_weight:
        args += ["--style-weight", f"{spec.style_weight:g}"]
    return args + _thread_arguments(spec)


def resume_arguments(spec: TrainingSpec, run_dir: Path) -> list[str]:
    """Continue ``run_dir`` from its latest checkpoint (the stored options hold everything else)."""
    return [spec.family, "--resume", str(run_dir), "--progress", "json", *_thread_arguments(spec)]


def _thread_arguments(spec: TrainingSpec) -> list[str]:
    return ["--threads", str(spec.threads)] if spec.threads else []


def export_arguments(run_dir: Path, out: Path, model_id: str, name: str) -> list[str]:
    """Export a finished run into a model folder (ONNX, parity check against PyTorch, card)."""
    return ["export", str(run_dir), "--out", str(out), "--id", model_id, "--name", name]


def model_id_for(text: str, prefix: str = "") -> str:
    """A card id made from ``text`` (a picture's or a model's name), e.g. ``style-my-painting``."""
    slug = re.sub(r"[^a-z0-9._-]+", "-", text.lower()).strip("-._")
    model_id = (prefix + slug)[:56].strip("-._") or "trained"
    return model_id if ID_PATTERN.fullmatch(model_id) else "trained"


def free_model_id(model_id: str, taken: Callable[[str], bool]) -> str:
    """``model_id``, or ``model_id-2``, ``-3``... the first that ``taken`` does not claim."""
    candidate, number = model_id, 1
    while taken(candidate):
        number += 1
        candidate = f"{model_id}-{number}"
    return candidate


def command_line(program: Sequence[str], arguments: Sequence[str]) -> str:
    """For the log and the "keep running" note: the command as a person would type it."""
    return shlex.join([*program, *arguments])


def save_training_picture(rgba: np.ndarray, stem: str) -> Path:
    """Write a layer's pixels as the PNG a style run reads (kept in the runs folder: Resume reads it again)."""
    folder = runs_folder() / "inputs"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{model_id_for(stem) or 'picture'}-{uuid.uuid4().hex[:8]}.png"
    picture = rgba_to_pil(flatten_alpha(rgba))
    atomic_write_with(path, lambda out: picture.save(out, format="PNG"))
    return path
