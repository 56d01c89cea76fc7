"""``genart-train export``: a run's latest checkpoint -> ONNX files, parity check, thumbnail and model.json.

Everything is written into a staging folder next to the destination; the card is written only after every graph
passed its parity check, and only then does the staging folder replace the destination, so a failed export leaves
no half-made model folder behind.
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from genart_desktop.core.atomic import atomic_write_bytes
from genart_desktop.core.errors import InputError, ModelError
from genart_desktop.training.checkpoint import latest_checkpoint, load_checkpoint
from genart_desktop.training.data.store import META_FILE
from genart_desktop.training.export.networks import HalfPrecision, Network, networks_for
from genart_desktop.training.export.onnx_file import OPSET, export_onnx
from genart_desktop.training.export.parity import (
    FP16_TOLERANCE,
    FP32_TOLERANCE,
    max_abs_diff,
    onnx_session,
)
from genart_desktop.training.export.staging import staged_model_folder
from genart_desktop.training.grid import grid_image
from genart_desktop.training.runs import RunFolder, now_iso

CARD_FORMAT = "genart-model-card/1"
USER_DATA_LICENSE = ("Weights trained on the user's own images; their use follows the rights the user holds in "
                     "those images.")


@dataclass
class ExportResult:
    folder: Path
    card: dict[str, Any]
    parity: dict[str, float]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9._-]+", "-", text.lower()).strip("-._")
    return (slug or "model")[:64]


def _dataset_meta(data: str, run: RunFolder) -> dict[str, Any]:
    for folder in (Path(data), run.path / "dataset"):
        path = folder / META_FILE
        if path.is_file():
            try:
                meta = json.loads(path.read_text(encoding="utf-8"))
                return meta if isinstance(meta, dict) else {}
            except (OSError, ValueError):
                return {}
    return {}


def _thumbnail(family: str, files: dict[str, Path], networks: list[Network], count: int = 16) -> bytes:
    """A 4x4 grid rendered by the exported graph itself (GAN samples, or VAE decodes of prior samples)."""
    role = "generator" if family == "gan" else "decoder"
    net = next(n for n in networks if n.role == role)
    name, example = next(iter(net.inputs.items()))
    feed = torch.randn(count, *example.shape[1:], generator=torch.Generator().manual_seed(3)).numpy()
    image = onnx_session(files[role]).run(["image"], {name: feed})[0]
    buffer = io.BytesIO()
    grid_image(torch.from_numpy(np.asarray(image, np.float32)), columns=4).save(buffer, "PNG")
    return buffer.getvalue()


def export_run(run_dir: str, out: str | None = None, fp16: bool = False, model_id: str | None = None,
               name: str | None = None, description: str | None = None, license_text: str | None = None,
               truncation: float = 1.0) -> ExportResult:
    run = RunFolder.open(run_dir)
    record = run.read_options()
    family = record["family"]
    if family == "diffusion":
        from genart_desktop.training.diffusion.export import (
            export_run as export_diffusion_run,
        )

        # fp16 here stores the U-Net's weights as float16 but keeps float32 arithmetic (the samplers need it)
        return export_diffusion_run(run.path, out, model_id=model_id, name=name, description=description,
                                    license_text=license_text, fp16=fp16)
    if family == "style":
        if fp16:
            raise InputError("--fp16 is not available for style runs yet; export again without --fp16.")
        from genart_desktop.training.style.export import export_style_run

        folder, card = export_style_run(run.path, out, model_id=model_id, name=name, license_text=license_text)
        return ExportResult(Path(folder), card, dict(card.get("metrics", {}).get("parity_max_abs_diff", {})))
    checkpoint = latest_checkpoint(run.checkpoints_dir)
    if checkpoint is None:
        raise InputError(f"{run.path} has no checkpoint to export; train it first.")
    if not 0.0 < truncation <= 1.0:
        raise InputError("--truncation must be in (0, 1].")
    tensors, meta = load_checkpoint(checkpoint)
    options = meta.get("options", record["options"])
    cfg, networks = networks_for(family, options, tensors)
    model_id = model_id or _slug(f"{family}-{run.path.name}")
    if not re.fullmatch(r"[a-z0-9][a-z0-9._-]{0,63}", model_id):
        raise InputError(f"--id {model_id!r} must be lower-case letters, digits, '.', '_' or '-'.")
    dest = Path(out) if out else run.path / "export" / model_id
    if dest.exists() and any(dest.iterdir()) and not (dest / "model.json").is_file():
        raise InputError(f"{dest} exists and is not a model folder; choose another --out.")
    with staged_model_folder(dest) as staging:
        card = _export_into(staging, run, record, meta, cfg, family, networks, fp16, model_id, name, description,
                            license_text, truncation)
    return ExportResult(dest, card, card["metrics"]["parity_max_abs_diff"])


def _export_into(folder: Path, run: RunFolder, record: dict, meta: dict, cfg: Any, family: str,
                 networks: list[Network], fp16: bool, model_id: str, name: str | None, description: str | None,
                 license_text: str | None, truncation: float) -> dict[str, Any]:
    tolerance = FP16_TOLERANCE if fp16 else FP32_TOLERANCE
    files: dict[str, Path] = {}
    parity: dict[str, float] = {}
    for net in networks:
        path = folder / net.filename
        outputs = list(net.io["outputs"])
        exported = HalfPrecision(copy.deepcopy(net.module)) if fp16 else net.module
        export_onnx(exported, {k: v.clone() for k, v in net.inputs.items()}, outputs, path)
        diffs = max_abs_diff(path, net.module, net.inputs, outputs)
        worst = max(diffs.values())
        if not np.isfinite(worst) or worst > tolerance:
            raise ModelError(f"The exported {net.role} disagrees with PyTorch: max abs difference {worst:.3g} "
                             f"exceeds {tolerance:g}; no model card was written.")
        parity[net.role] = worst
        files[net.role] = path
    atomic_write_bytes(folder / "thumbnail.png", _thumbnail(family, files, networks))
    dataset = _dataset_meta(cfg.data, run)
    quality = run.read_json("quality.json")
    metrics: dict[str, Any] = {"parity_max_abs_diff": parity, "parity_tolerance": tolerance}
    metrics.update({k: v for k, v in quality.items() if k != "step"})
    if quality:
        metrics["measured_at_step"] = quality.get("step")
    latent: dict[str, Any] = {"shape": cfg.latent_shape() if family == "vae" else [cfg.latent_dim],
                              "distribution": "normal"}
    config: dict[str, Any] = {"precision": "float16 weights, float32 inputs and outputs" if fp16 else "float32"}
    if family == "gan":
        latent["truncation"] = truncation
        config.update({"truncation": truncation, "loss": cfg.loss, "ema": True})
    else:
        config.update({"latent_kind": cfg.latent, "beta": cfg.beta})
    data_text = f"{dataset.get('count', '?')} images at {cfg.resolution}x{cfg.resolution} from {cfg.data}"
    card = {
        "format": CARD_FORMAT,
        "id": model_id,
        "name": name or f"{family.upper()} {run.path.name}",
        "family": family,
        "description": description or (f"A {cfg.resolution}x{cfg.resolution} {family.upper()} trained with "
                                        f"genart-train for {meta['step']} steps."),
        "files": {role: {"path": path.name, "sha256": _sha256(path)} for role, path in files.items()},
        "io": {net.role: net.io for net in networks},
        "resolution": [cfg.resolution, cfg.resolution],
        "latent": latent,
        "license": license_text or dataset.get("license") or USER_DATA_LICENSE,
        "provenance": {
            "data": data_text,
            "data_provenance": dataset.get("provenance"),
            "command": record.get("command", cfg.command()),
            "steps": meta["step"],
            "hardware": meta.get("hardware"),
            "precision": meta.get("precision"),
            "wall_time_s": round(float(meta.get("wall_time_s", 0.0)), 1),
            "created": now_iso(),
            "run": run.path.name,
            "opset": OPSET,
            "trainer_version": meta.get("version"),
        },
        "metrics": metrics,
        "thumbnail": "thumbnail.png",
        "config": config,
    }
    atomic_write_bytes(folder / "model.json", json.dumps(card, indent=2, ensure_ascii=False).encode("utf-8"))
    return card
