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
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from genart_desktop.core.errors import ModelError
from genart_desktop.engine.contained import contained_file, load_contained_json
from genart_desktop.engine.onnx_wire import external_data_locations
from genart_desktop.engine.schedules import ScheduleConfig
from genart_desktop.engine.pipelines.limits import MAX_SIDE

INDEX = "model_index.json"
SCHEDULER = "scheduler/scheduler_config.json"
REQUIRED_GRAPHS = ("text_encoder", "unet", "vae_decoder")
SD_GRAPHS = (*REQUIRED_GRAPHS, "vae_encoder")
TOKENIZER_FILES = ("tokenizer/vocab.json", "tokenizer/merges.txt")
DEFAULT_SCALING_FACTOR = 0.18215
# Stable Diffusion 1.x's scheduler, used when an export has no scheduler_config.json.
SD1_SCHEDULE = {"beta_schedule": "scaled_linear", "beta_start": 0.00085, "beta_end": 0.012, "steps_offset": 1,
                "set_alpha_to_one": False, "num_train_timesteps": 1000, "prediction_type": "epsilon"}
MAX_CONFIG_BYTES = 1 << 20
# Bounds on configuration values: every released export uses 1000 timesteps, 4 to 9 U-Net channels, a VAE that
# halves 3 times and images up to 1024 pixels; the bounds leave room and keep every buffer they size small.
MAX_TRAIN_TIMESTEPS = 10_000
MAX_VAE_BLOCKS = 6
MAX_CHANNELS = 64


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
        """Read and check the layout; raises ModelError naming what is missing or malformed.

        Every file is checked to be a regular file inside the folder once links are resolved, and every value that
        sizes a buffer (timesteps, sample size, VAE depth, channels) is bounded.
        """
        path = Path(path)
        name = path.name or str(path)
        if not path.is_dir():
            raise ModelError(f"{path} is not a folder.")
        if not os.path.lexists(path / INDEX):
            raise ModelError(f"{name} is not a Stable Diffusion ONNX export: it has no {INDEX}.")
        index = _json(path, INDEX)
        missing = [f"{part}/model.onnx" for part in REQUIRED_GRAPHS if not os.path.lexists(path / part / "model.onnx")]
        missing += [f for f in TOKENIZER_FILES if not os.path.lexists(path / f)]
        if missing:
            raise ModelError(f"{name} looks like a Stable Diffusion export but lacks {', '.join(missing)}.")
        for relative in (*[f"{part}/model.onnx" for part in SD_GRAPHS], *TOKENIZER_FILES):
            if os.path.lexists(path / relative):
                contained_file(path, relative, f"{name}/{relative}")
        scheduler = _optional_json(path, SCHEDULER) or dict(SD1_SCHEDULE)
        steps = scheduler.get("num_train_timesteps")
        if isinstance(steps, (int, float)) and not isinstance(steps, bool) and not 2 <= steps <= MAX_TRAIN_TIMESTEPS:
            raise ModelError(f"{name}/{SCHEDULER}: num_train_timesteps must be from 2 to {MAX_TRAIN_TIMESTEPS:,}.")
        try:
            schedule = ScheduleConfig.from_dict(scheduler)
        except (ValueError, OverflowError) as exc:
            raise ModelError(f"{name}/{SCHEDULER}: {exc}") from exc
        folder = cls(path, index, schedule, _optional_json(path, "unet/config.json"),
                     _optional_json(path, "vae_decoder/config.json"))
        folder.check_values()
        return folder

    def check_values(self) -> None:
        """Refuse configuration values outside the bounds above (one line naming the file and field)."""
        unet, vae = f"{self.name}/unet/config.json", f"{self.name}/vae_decoder/config.json"
        blocks = self.vae_config.get("block_out_channels")
        if blocks is not None and (not isinstance(blocks, list) or not 1 <= len(blocks) <= MAX_VAE_BLOCKS):
            raise ModelError(f"{vae}: block_out_channels must list 1 to {MAX_VAE_BLOCKS} block widths.")
        self.scaling_factor  # noqa: B018 - raises for a bad value
        channels = self.unet_config.get("in_channels", 4)
        if isinstance(channels, bool) or not isinstance(channels, int) or not 1 <= channels <= MAX_CHANNELS:
            raise ModelError(f"{unet}: in_channels must be a whole number from 1 to {MAX_CHANNELS}.")
        size = self.unet_config.get("sample_size")
        size = size[0] if isinstance(size, list) and size else size
        if size is None:
            return
        limit = MAX_SIDE // self.vae_factor
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= limit:
            raise ModelError(f"{unet}: sample_size must be a whole number from 1 to {limit} (images of at most "
                             f"{MAX_SIDE} pixels with this VAE), got {_short(size)}.")

    @property
    def name(self) -> str:
        return self.path.name

    def graph(self, part: str) -> Path:
        return self.path / part / "model.onnx"

    def has(self, part: str) -> bool:
        """Whether the export has this graph (checked to be a regular file inside the folder when opened)."""
        return os.path.lexists(self.graph(part))

    @property
    def scaling_factor(self) -> float:
        value = self.vae_config.get("scaling_factor", DEFAULT_SCALING_FACTOR)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < math.inf:
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


def _json(folder: Path, relative: str) -> dict[str, Any]:
    """A small JSON object from a regular file inside ``folder``; errors name the file, never quote its content."""
    where = f"{folder.name}/{relative}"
    data = load_contained_json(folder, relative, MAX_CONFIG_BYTES, where)
    if not isinstance(data, dict):
        raise ModelError(f"{where} must hold a JSON object.")
    return data


def _optional_json(folder: Path, relative: str) -> dict[str, Any]:
    return _json(folder, relative) if os.path.lexists(folder / relative) else {}


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
