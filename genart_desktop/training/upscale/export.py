"""Export a trained upscaler: one self-contained ONNX file with dynamic height and width, a parity check against
PyTorch at two shapes, the held-out measurement (PSNR/SSIM vs bicubic and Lanczos) through the app's own tiled
pipeline, a Lanczos | ours | original thumbnail and the card (family ``upscaler``). Everything is staged beside
the destination and moved into place only when all of it succeeded.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import torch

from genart_desktop.core.atomic import atomic_write_bytes
from genart_desktop.engine.cards import CARD_FORMAT, sha256_file
from genart_desktop.engine.pipelines.upscale import DEFAULT_OVERLAP, DEFAULT_TILE, UpscaleNetwork, UpscalePipeline
from genart_desktop.training.checkpoint import load_module_tensors
from genart_desktop.training.export.destination import choose_model_id, destination
from genart_desktop.training.export.onnx_file import OPSET, check_self_contained
from genart_desktop.training.export.parity import FP32_TOLERANCE, check_parity, onnx_session
from genart_desktop.training.export.photo_licence import photo_licence
from genart_desktop.training.export.protocol import ExportRequest, Float32Exporter
from genart_desktop.training.export.registry import register
from genart_desktop.training.export.run_state import latest_state, training_record
from genart_desktop.training.export.staging import staged_model_folder
from genart_desktop.training.runs import RunFolder, now_iso
from genart_desktop.training.upscale.config import UpscaleConfig
from genart_desktop.training.upscale.measure import centre_crop, load_photo, measure, render_sheet, sheet_rows
from genart_desktop.training.upscale.network import UpscaleNet

FILENAME = "upscaler.onnx"
VALUE_RANGE = [0.0, 1.0]
PARITY_SHAPES = ((1, 3, 24, 40), (2, 3, 40, 24))
THUMBNAIL_CROP = 160


def export_upscaler_onnx(net: UpscaleNet, path: Path) -> Path:
    """``low [batch, 3, height, width] -> high [batch, 3, height*s, width*s]`` with every weight inside the file."""
    net = net.float().eval().cpu()
    axes_in = {0: "batch", 2: "height", 3: "width"}
    axes_out = {0: "batch", 2: "out_height", 3: "out_width"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(net, (torch.zeros(1, 3, 32, 32),), str(path), input_names=["low"], output_names=["high"],
                          dynamic_axes={"low": axes_in, "high": axes_out}, opset_version=OPSET, dynamo=False,
                          do_constant_folding=True)
    check_self_contained(path)
    return path


def parity_inputs(seed: int = 0) -> list[dict[str, torch.Tensor]]:
    """Two differently shaped inputs: agreeing on both proves the height and width axes are dynamic."""
    generator = torch.Generator().manual_seed(seed)
    return [{"low": torch.rand(shape, generator=generator)} for shape in PARITY_SHAPES]


def card_io(scale: int) -> dict[str, Any]:
    low = {"shape": ["batch", 3, "height", "width"], "dtype": "float32", "range": VALUE_RANGE}
    high = {"shape": ["batch", 3, "out_height", "out_width"], "dtype": "float32", "range": VALUE_RANGE}
    return {"upscaler": {"inputs": {"low": low}, "outputs": {"high": high}}}


def export_upscale_run(run_dir: str | Path, request: ExportRequest = ExportRequest(),
                       tile: int = DEFAULT_TILE) -> tuple[Path, dict[str, Any]]:
    """An upscale run's latest checkpoint (its EMA network) -> a model folder (default ``RUN/export/<id>``)."""
    run = RunFolder.open(run_dir)
    state = latest_state(run, UpscaleConfig, UpscaleConfig.FAMILY)
    record, tensors, meta, cfg = state.record, state.tensors, state.meta, state.config
    net = UpscaleNet(cfg.network())
    load_module_tensors("net_ema", net, tensors)
    held_out = list(meta.get("trainer", {}).get("held_out_files", []))
    files = [Path(cfg.data) / name for name in held_out if (Path(cfg.data) / name).is_file()]
    model_id = choose_model_id(request.model_id, f"upscale-x{cfg.scale}")
    dest = destination(run.path, request.out, model_id)
    license_text, attribution = photo_licence(cfg.data, held_out, cfg.extra_folders(), "upscaler")
    with staged_model_folder(dest) as staging:
        onnx_path = export_upscaler_onnx(net, staging / FILENAME)
        worst = check_parity("upscaler", onnx_path, net, parity_inputs(), ["high"], FP32_TOLERANCE)
        network = UpscaleNetwork(onnx_session(onnx_path), cfg.scale)
        pipeline = UpscalePipeline(network, tile=tile)
        scores = measure(pipeline, files) if files else {}
        ensemble = request.self_ensemble
        ensemble_scores = measure(UpscalePipeline(network, tile=tile, ensemble=ensemble), files) \
            if files and ensemble > 1 else {}
        if files:
            crop = centre_crop(load_photo(files[0], cfg.scale), THUMBNAIL_CROP)
            atomic_write_bytes(staging / "thumbnail.png", render_sheet(sheet_rows(pipeline, [crop], [])))
        if attribution:
            atomic_write_bytes(staging / "ATTRIBUTION.txt", attribution.encode("utf-8"))
        card = {
            "format": CARD_FORMAT,
            "id": model_id,
            "name": request.name or f"Upscaler x{cfg.scale}",
            "family": "upscaler",
            "description": request.description or (
                f"Enlarges pictures {cfg.scale}x with real detail instead of blur: a {cfg.arch} network "
                f"({cfg.blocks} blocks of {cfg.width} channels) trained for {meta['step']} steps on photos"
                + (" and paintings" if cfg.extra_folders() else "") + "."),
            "files": {"upscaler": {"path": FILENAME, "sha256": sha256_file(onnx_path)}},
            "io": card_io(cfg.scale),
            "resolution": [cfg.patch // cfg.scale, cfg.patch // cfg.scale],
            "license": request.license_text or license_text,
            "provenance": {
                "data": f"photos from {cfg.data}" + (f"; extra: {cfg.extra_data}" if cfg.extra_data else ""),
                "held_out": {"split": "by file, seeded", "fraction": cfg.holdout, "seed": cfg.seed,
                             "files": held_out},
                "degradation": {"kind": cfg.degradation, "degraded_fraction": cfg.degraded_fraction,
                                "second_order": cfg.second_order},
                **training_record(run, record, meta, cfg),
                "trainer_version": meta.get("version"),
                "opset": OPSET,
                "created": now_iso(),
            },
            "metrics": {"parity_max_abs_diff": {"upscaler": worst}, "parity_tolerance": FP32_TOLERANCE,
                        **({"held_out_x4_bicubic": {**scores, "measure": "Y-channel PSNR (dB) and SSIM, border "
                                                    f"{cfg.scale} px, after a Pillow bicubic x{cfg.scale} downscale"}}
                           if scores else {}),
                        **({"held_out_x4_bicubic_self_ensemble": {
                            **ensemble_scores, "runs_per_tile": ensemble,
                            "measure": "the same, each tile run flipped and transposed and the results averaged"}}
                           if ensemble_scores else {})},
            "config": {"scale": cfg.scale, "tile": tile, "overlap": DEFAULT_OVERLAP, "value_range": VALUE_RANGE,
                       "self_ensemble": ensemble,
                       "alpha": "colour bled into transparent pixels, alpha enlarged as grey",
                       "network": cfg.network().to_dict()},
        }
        if files:
            card["thumbnail"] = "thumbnail.png"
        atomic_write_bytes(staging / "model.json", json.dumps(card, indent=2, ensure_ascii=False).encode("utf-8"))
    return dest, card


EXPORTER = register(Float32Exporter(UpscaleConfig.FAMILY, export_upscale_run))
