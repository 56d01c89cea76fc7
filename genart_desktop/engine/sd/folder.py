"""The on-disk layout of a Stable Diffusion ONNX export (Hugging Face Optimum), read and checked without sessions.

    model_index.json                       the pipeline's parts
    scheduler/scheduler_config.json        beta schedule, prediction type, timestep spacing
    tokenizer/vocab.json, merges.txt       CLIP BPE (+ tokenizer_config.json, special_tokens_map.json)
    text_encoder/model.onnx                input_ids -> last_hidden_state
    unet/model.onnx (+ external weights)   sample, timestep, encoder_hidden_states -> out_sample
    vae_decoder/model.onnx                 latent_sample -> sample
    vae_encoder/model.onnx (optional)      sample -> latent_parameters | latent_sample (needed for img2img/inpaint)
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from genart_desktop.core.errors import ModelError
from genart_desktop.engine.onnx_wire import external_data_locations
from genart_desktop.engine.schedules import ScheduleConfig

INDEX = "model_index.json"
REQUIRED_GRAPHS = ("text_encoder", "unet", "vae_decoder")
DEFAULT_SCALING_FACTOR = 0.18215
# Stable Diffusion 1.x's scheduler, used when an export has no scheduler_config.json.
SD1_SCHEDULE = {"beta_schedule": "scaled_linear", "beta_start": 0.00085, "beta_end": 0.012, "steps_offset": 1,
                "set_alpha_to_one": False, "num_train_timesteps": 1000, "prediction_type": "epsilon"}
MAX_CONFIG_BYTES = 1 << 20


def is_sd_folder(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` looks like an Optimum Stable Diffusion export (it may still fail the full check)."""
    path = Path(path)
    return path.is_dir() and (path / INDEX).is_file() and (path / "unet" / "model.onnx").is_file()


@dataclass(frozen=True)
class SDFolder:
    path: Path
    index: dict[str, Any]
    schedule: ScheduleConfig
    unet_config: dict[str, Any]
    vae_config: dict[str, Any]

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> SDFolder:
        """Read and check the layout; raises ModelError naming what is missing or malformed."""
        path = Path(path)
        name = path.name or str(path)
        if not path.is_dir():
            raise ModelError(f"{path} is not a folder.")
        if not (path / INDEX).is_file():
            raise ModelError(f"{name} is not a Stable Diffusion ONNX export: it has no {INDEX}.")
        index = _json(path / INDEX, name)
        missing = [f"{part}/model.onnx" for part in REQUIRED_GRAPHS if not (path / part / "model.onnx").is_file()]
        missing += [f"tokenizer/{f}" for f in ("vocab.json", "merges.txt") if not (path / "tokenizer" / f).is_file()]
        if missing:
            raise ModelError(f"{name} looks like a Stable Diffusion export but lacks {', '.join(missing)}.")
        scheduler_path = path / "scheduler" / "scheduler_config.json"
        scheduler = _json(scheduler_path, name) if scheduler_path.is_file() else dict(SD1_SCHEDULE)
        try:
            schedule = ScheduleConfig.from_dict(scheduler)
        except ValueError as exc:
            raise ModelError(f"{name}/scheduler/scheduler_config.json: {exc}") from exc
        return cls(path, index, schedule, _optional_json(path / "unet" / "config.json", name),
                   _optional_json(path / "vae_decoder" / "config.json", name))

    @property
    def name(self) -> str:
        return self.path.name

    def graph(self, part: str) -> Path:
        return self.path / part / "model.onnx"

    def has(self, part: str) -> bool:
        return self.graph(part).is_file()

    @property
    def scaling_factor(self) -> float:
        value = self.vae_config.get("scaling_factor", DEFAULT_SCALING_FACTOR)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise ModelError(f"{self.name}/vae_decoder/config.json: scaling_factor must be a positive number.")
        return float(value)

    @property
    def vae_factor(self) -> int:
        """Pixels per latent cell: 2 ** (number of VAE blocks - 1), 8 for every released Stable Diffusion."""
        blocks = self.vae_config.get("block_out_channels")
        if isinstance(blocks, list) and blocks:
            return 2 ** (len(blocks) - 1)
        return 8

    @property
    def native_size(self) -> int:
        """The training resolution in pixels (unet sample_size x VAE factor), 512 when unknown."""
        size = self.unet_config.get("sample_size")
        if isinstance(size, list) and size:
            size = size[0]
        return int(size) * self.vae_factor if isinstance(size, int) and size > 0 else 512

    def fingerprint(self) -> str:
        """A short hash naming these weights in recipes: the U-Net graph's bytes plus its external files' sizes.

        Reading multi-gigabyte weight files just to name them would take minutes, so their sizes stand in.
        """
        digest = hashlib.sha256()
        graph = self.graph("unet")
        with open(graph, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        for location in sorted(set(external_data_locations(graph))):
            target = graph.parent / location
            digest.update(location.encode("utf-8"))
            digest.update(str(target.stat().st_size if target.is_file() else -1).encode())
        return digest.hexdigest()[:16]


def _json(path: Path, name: str) -> dict[str, Any]:
    where = f"{name}/{path.name}" if path.parent.name == name else f"{name}/{path.parent.name}/{path.name}"
    try:
        if path.stat().st_size > MAX_CONFIG_BYTES:
            raise ModelError(f"{where} is too large to be a configuration file.")
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{where} is not readable JSON ({exc}).") from exc
    if not isinstance(data, dict):
        raise ModelError(f"{where} must hold a JSON object.")
    return data


def _optional_json(path: Path, name: str) -> dict[str, Any]:
    return _json(path, name) if path.is_file() else {}
