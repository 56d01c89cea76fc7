"""The exporter for families whose checkpoint holds a few fixed-shape networks (GAN generator, VAE encoder and
decoder): each network to ONNX with a parity check, a thumbnail drawn by the exported graph, then the card.

A family supplies what differs as data (``NetworkFamilyExporter``'s fields) and registers the instance."""

from __future__ import annotations

import copy
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from genart_desktop.core.atomic import atomic_write_bytes
from genart_desktop.core.errors import InputError
from genart_desktop.engine.cards import CARD_FORMAT, sha256_file
from genart_desktop.training.config import TrainConfig
from genart_desktop.training.data.store import META_FILE
from genart_desktop.training.export.destination import choose_model_id, destination
from genart_desktop.training.export.networks import HalfPrecision, Network
from genart_desktop.training.export.onnx_file import OPSET, export_onnx
from genart_desktop.training.export.parity import FP16_TOLERANCE, FP32_TOLERANCE, check_parity, onnx_session
from genart_desktop.training.export.protocol import USER_DATA_LICENSE, ExportRequest, ExportResult
from genart_desktop.training.export.run_state import latest_state, training_record
from genart_desktop.training.export.staging import staged_model_folder
from genart_desktop.training.grid import grid_image
from genart_desktop.training.runs import RunFolder, now_iso


@dataclass(frozen=True)
class NetworkFamilyExporter:
    family: str
    config_type: type[TrainConfig]
    networks: Callable[[Any, dict[str, torch.Tensor]], list[Network]]  # (config, checkpoint tensors) -> networks
    thumbnail_role: str  # the network whose output image the thumbnail grid shows, fed normal noise
    latent: Callable[[Any, float], dict[str, Any]]  # (config, truncation) -> the card's latent entry
    settings: Callable[[Any, float], dict[str, Any]]  # (config, truncation) -> the card's config beyond precision

    def export(self, run: RunFolder, request: ExportRequest) -> ExportResult:
        if not 0.0 < request.truncation <= 1.0:
            raise InputError("--truncation must be in (0, 1].")
        state = latest_state(run, self.config_type)
        record, tensors, meta, cfg = state.record, state.tensors, state.meta, state.config
        networks = self.networks(cfg, tensors)
        model_id = choose_model_id(request.model_id, f"{self.family}-{run.path.name}")
        dest = destination(run.path, request.out, model_id)
        with staged_model_folder(dest) as staging:
            card = self._export_into(staging, run, record, meta, cfg, networks, model_id, request)
        return ExportResult(dest, card, card["metrics"]["parity_max_abs_diff"])

    def _export_into(self, folder: Path, run: RunFolder, record: dict, meta: dict, cfg: Any,
                     networks: list[Network], model_id: str, request: ExportRequest) -> dict[str, Any]:
        fp16, family = request.fp16, self.family
        tolerance = FP16_TOLERANCE if fp16 else FP32_TOLERANCE
        files: dict[str, Path] = {}
        parity: dict[str, float] = {}
        for net in networks:
            path = folder / net.filename
            outputs = list(net.io["outputs"])
            exported = HalfPrecision(copy.deepcopy(net.module)) if fp16 else net.module
            export_onnx(exported, {k: v.clone() for k, v in net.inputs.items()}, outputs, path)
            parity[net.role] = check_parity(net.role, path, net.module, [net.inputs], outputs, tolerance)
            files[net.role] = path
        atomic_write_bytes(folder / "thumbnail.png", self._thumbnail(files, networks))
        dataset = _dataset_meta(cfg.data, run)
        quality = run.read_json("quality.json")
        metrics: dict[str, Any] = {"parity_max_abs_diff": parity, "parity_tolerance": tolerance}
        metrics.update({k: v for k, v in quality.items() if k != "step"})
        if quality:
            metrics["measured_at_step"] = quality.get("step")
        config: dict[str, Any] = {"precision": "float16 weights, float32 inputs and outputs" if fp16 else "float32"}
        config.update(self.settings(cfg, request.truncation))
        data_text = f"{dataset.get('count', '?')} images at {cfg.resolution}x{cfg.resolution} from {cfg.data}"
        card = {
            "format": CARD_FORMAT,
            "id": model_id,
            "name": request.name or f"{family.upper()} {run.path.name}",
            "family": family,
            "description": request.description or (f"A {cfg.resolution}x{cfg.resolution} {family.upper()} trained "
                                                   f"with genart-train for {meta['step']} steps."),
            "files": {role: {"path": path.name, "sha256": sha256_file(path)} for role, path in files.items()},
            "io": {net.role: net.io for net in networks},
            "resolution": [cfg.resolution, cfg.resolution],
            "latent": self.latent(cfg, request.truncation),
            "license": request.license_text or dataset.get("license") or USER_DATA_LICENSE,
            "provenance": {
                "data": data_text,
                "data_provenance": dataset.get("provenance"),
                **training_record(run, record, meta, cfg),
                "created": now_iso(),
                "opset": OPSET,
                "trainer_version": meta.get("version"),
            },
            "metrics": metrics,
            "thumbnail": "thumbnail.png",
            "config": config,
        }
        atomic_write_bytes(folder / "model.json", json.dumps(card, indent=2, ensure_ascii=False).encode("utf-8"))
        return card

    def _thumbnail(self, files: dict[str, Path], networks: list[Network], count: int = 16) -> bytes:
        """A 4x4 grid rendered by the exported graph itself (GAN samples, or VAE decodes of prior samples)."""
        net = next(n for n in networks if n.role == self.thumbnail_role)
        name, example = next(iter(net.inputs.items()))
        feed = torch.randn(count, *example.shape[1:], generator=torch.Generator().manual_seed(3)).numpy()
        image = onnx_session(files[net.role]).run(["image"], {name: feed})[0]
        buffer = io.BytesIO()
        grid_image(torch.from_numpy(np.asarray(image, np.float32)), columns=4).save(buffer, "PNG")
        return buffer.getvalue()


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
