"""Checkpoints without pickle: tensors in one safetensors file, everything else as JSON in its metadata.

A checkpoint holds the step, every model and EMA copy, the optimiser state (tensors flattened to
``optim.<name>.state.<index>.<key>``, hyper-parameters as JSON), the grad-scaler state, the RNG state, the options
and the package version, so ``--resume`` continues with bit-identical results.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from genart_desktop import __version__
from genart_desktop.core.atomic import atomic_write_bytes
from genart_desktop.core.errors import InputError

CHECKPOINT_FORMAT = "genart-checkpoint/1"
_STEP_FILE = re.compile(r"^step-(\d+)\.safetensors$")


def _own(tensor: torch.Tensor) -> torch.Tensor:
    return tensor.detach().to("cpu").clone().contiguous()


def module_tensors(prefix: str, module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {f"{prefix}.{k}": _own(v) for k, v in module.state_dict().items()}


def load_module_tensors(prefix: str, module: torch.nn.Module, tensors: dict[str, torch.Tensor]) -> None:
    start = prefix + "."
    state = {k[len(start):]: v for k, v in tensors.items() if k.startswith(start)}
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise InputError(f"The checkpoint does not match the {prefix} network: {str(exc).splitlines()[0]}") from exc


def optimizer_tensors(prefix: str, optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict]:
    state = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for index, entry in state["state"].items():
        for key, value in entry.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{prefix}.state.{index}.{key}"] = _own(value)
            else:
                scalars.setdefault(str(index), {})[key] = value
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def load_optimizer_tensors(prefix: str, optimizer: torch.optim.Optimizer, tensors: dict[str, torch.Tensor],
                           info: dict, lr: float | None = None) -> None:
    """Restore an optimiser; ``lr`` (the run's current option) replaces the stored rate, so ``--resume --lr`` works."""
    start = prefix + ".state."
    state: dict[int, dict[str, Any]] = {}
    for name, value in tensors.items():
        if name.startswith(start):
            index, key = name[len(start):].split(".", 1)
            state.setdefault(int(index), {})[key] = value
    for index, values in info.get("scalars", {}).items():
        state.setdefault(int(index), {}).update(values)
    groups = info["param_groups"]
    for group in groups:
        for key in ("betas",):
            if isinstance(group.get(key), list):
                group[key] = tuple(group[key])
    try:
        optimizer.load_state_dict({"state": state, "param_groups": groups})
    except (ValueError, KeyError) as exc:
        raise InputError(f"The checkpoint's {prefix} optimiser state does not match: {exc}") from exc
    if lr is not None:
        for group in optimizer.param_groups:
            group["lr"] = lr


def rng_tensors() -> dict[str, torch.Tensor]:
    tensors = {"rng.cpu": torch.get_rng_state().clone()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        for index, state in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"rng.cuda.{index}"] = state.clone()
    return tensors


def restore_rng(tensors: dict[str, torch.Tensor]) -> None:
    if "rng.cpu" in tensors:
        torch.set_rng_state(tensors["rng.cpu"])
    cuda = sorted((k for k in tensors if k.startswith("rng.cuda.")), key=lambda k: int(k.rsplit(".", 1)[1]))
    if cuda and torch.cuda.is_available():
        states = [tensors[k] for k in cuda][: torch.cuda.device_count()]
        torch.cuda.set_rng_state_all(states)


def save_checkpoint(path: str | os.PathLike[str], tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
    record = {"format": CHECKPOINT_FORMAT, "version": __version__, **meta}
    data = st_save(tensors, metadata={"genart": json.dumps(record)})
    atomic_write_bytes(path, data)


def load_checkpoint(path: str | os.PathLike[str]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    path = Path(path)
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
        tensors = st_load(path.read_bytes())
        meta = json.loads(metadata["genart"])
    except (OSError, SafetensorError, KeyError, ValueError) as exc:
        raise InputError(f"Cannot read the checkpoint {path.name}: it is damaged or not a genart checkpoint.") from exc
    if not isinstance(meta, dict) or meta.get("format") != CHECKPOINT_FORMAT:
        raise InputError(f"{path.name} is not a {CHECKPOINT_FORMAT} checkpoint.")
    return tensors, meta


def checkpoint_path(folder: str | os.PathLike[str], step: int) -> Path:
    return Path(folder) / f"step-{step:07d}.safetensors"


def list_checkpoints(folder: str | os.PathLike[str]) -> list[tuple[int, Path]]:
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in folder.iterdir() if (m := _STEP_FILE.match(p.name))]
    return sorted(found)


def latest_checkpoint(folder: str | os.PathLike[str]) -> Path | None:
    found = list_checkpoints(folder)
    return found[-1][1] if found else None


def prune_checkpoints(folder: str | os.PathLike[str], keep: int) -> None:
    for _, path in list_checkpoints(folder)[:-keep] if keep > 0 else []:
        try:
            path.unlink()
        except OSError:
            pass
