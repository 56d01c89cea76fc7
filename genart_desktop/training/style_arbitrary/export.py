"""Export an arbitrary-style run: ``encoder.onnx`` (picture -> feature statistics) and ``transfer.onnx`` (content,
both statistics and strength -> stylized), each checked against PyTorch at two shapes, ``presets.json`` with the
statistics of every painting in the style folder, a thumbnail and the card (family ``style-arbitrary``, with the
transfer graph's measured run memory per pixel for the engine's tiling). Staged beside the destination and moved
into place only when all of it succeeded.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import torch

from genart_desktop.core.atomic import atomic_write_bytes
from genart_desktop.engine.cards import CARD_FORMAT, sha256_file
from genart_desktop.training.checkpoint import load_module_tensors
from genart_desktop.training.export.destination import choose_model_id, destination
from genart_desktop.training.export.onnx_file import OPSET, check_self_contained
from genart_desktop.training.export.parity import check_parity
from genart_desktop.training.export.photo_licence import photo_licence
from genart_desktop.training.export.protocol import ExportRequest, Float32Exporter
from genart_desktop.training.export.registry import register
from genart_desktop.training.export.run_state import latest_state, training_record
from genart_desktop.training.export.staging import staged_model_folder
from genart_desktop.training.grid import grid_image
from genart_desktop.training.runs import RunFolder, now_iso
from genart_desktop.training.style.images import fit_long_side, load_rgb, to_tensor
from genart_desktop.training.style.run_memory import activation_bytes_per_pixel
from genart_desktop.training.style_arbitrary.config import ArbitraryStyleConfig
from genart_desktop.training.style_arbitrary.network import (SIZE_MULTIPLE, Decoder, DecoderConfig, StatsEncoder,
                                                             Transfer)
from genart_desktop.training.style_arbitrary.presets import STYLE_SIDE, measure_presets
from genart_desktop.training.style_arbitrary.styles import SUFFIXES
from genart_desktop.training.style_arbitrary.trainer import load_encoder

CONTENT_STATS_SIDE = 1024
OVERLAP = 64
PARITY_SIZES = ((64, 96), (88, 48))
PARITY_TOLERANCE = 5e-3  # the decoder's outputs are in [-1, 1]; deep float32 graphs differ by ~1e-4 typically
STATS_TOLERANCE = 1e-2  # feature statistics are in raw SqueezeNet units (tens); compared absolutely


def _export(module: torch.nn.Module, inputs: dict[str, torch.Tensor], outputs: list[str],
            axes: dict[str, dict[int, str]], path: Path) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module.eval(), tuple(inputs.values()), str(path), input_names=list(inputs),
                          output_names=outputs, dynamic_axes=axes, opset_version=OPSET, dynamo=False,
                          do_constant_folding=True)
    check_self_contained(path)
    return path


def _image_axes(name: str) -> dict[int, str]:
    return {0: "batch", 2: "height", 3: "width"} if name in ("image", "content", "stylized") else {0: "batch"}


def encoder_inputs(seed: int = 0) -> list[dict[str, torch.Tensor]]:
    generator = torch.Generator().manual_seed(seed)
    return [{"image": torch.rand((1, 3, h, w), generator=generator) * 2 - 1} for h, w in PARITY_SIZES]


def transfer_inputs(stats: StatsEncoder, seed: int = 1) -> list[dict[str, torch.Tensor]]:
    """Realistic statistics (measured on noise pictures) so the parity check exercises the working range."""
    generator = torch.Generator().manual_seed(seed)
    sets = []
    for strength, (h, w) in zip((1.0, 0.6), PARITY_SIZES):
        content = torch.rand((1, 3, h, w), generator=generator) * 2 - 1
        style = torch.rand((1, 3, 64, 64), generator=generator) * 2 - 1
        with torch.no_grad():
            c_mean, c_std = stats(content)
            s_mean, s_std = stats(style)
        sets.append({"content": content, "content_mean": c_mean, "content_std": c_std, "style_mean": s_mean,
                     "style_std": s_std, "strength": torch.tensor([strength])})
    return sets


def card_io(channels: int) -> dict[str, Any]:
    image = {"shape": ["batch", 3, "height", "width"], "dtype": "float32", "range": [-1.0, 1.0]}
    stats = {"shape": ["batch", channels], "dtype": "float32"}
    return {
        "encoder": {"inputs": {"image": image}, "outputs": {"mean": stats, "std": stats}},
        "transfer": {"inputs": {"content": image, "content_mean": stats, "content_std": stats, "style_mean": stats,
                                "style_std": stats,
                                "strength": {"shape": ["batch"], "dtype": "float32", "range": [0.0, 1.0]}},
                     "outputs": {"stylized": image}},
    }


def _thumbnail(transfer: Transfer, stats: StatsEncoder, content: Path | None, styles: list[Path]) -> bytes | None:
    """The first held-out photo in three of the paintings' styles, side by side."""
    if content is None or not styles:
        return None
    image = to_tensor(fit_long_side(load_rgb(content), 160, SIZE_MULTIPLE))
    tiles = []
    with torch.no_grad():
        c_mean, c_std = stats(image)
        for path in styles[:3]:
            s_mean, s_std = stats(to_tensor(fit_long_side(load_rgb(path), STYLE_SIDE, SIZE_MULTIPLE)))
            tiles.append(transfer(image, c_mean, c_std, s_mean, s_std, torch.ones(1)))
    buffer = __import__("io").BytesIO()
    grid_image(torch.cat(tiles), columns=len(tiles)).save(buffer, "PNG")
    return buffer.getvalue()


def export_arbitrary_run(run_dir: str | Path, request: ExportRequest = ExportRequest()) -> tuple[Path, dict]:
    run = RunFolder.open(run_dir)
    state = latest_state(run, ArbitraryStyleConfig, ArbitraryStyleConfig.FAMILY)
    record, tensors, meta, cfg = state.record, state.tensors, state.meta, state.config
    encoder = load_encoder(cfg)
    decoder = Decoder(DecoderConfig(cfg.width))
    load_module_tensors("decoder", decoder, tensors)
    decoder.eval()
    stats, transfer = StatsEncoder(encoder).eval(), Transfer(encoder, decoder).eval()
    trainer_meta = meta.get("trainer", {})
    held_out_photos = list(trainer_meta.get("held_out_files", []))
    style_folder = Path(cfg.styles)
    paintings = sorted(p for p in style_folder.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES) \
        if style_folder.is_dir() else []
    model_id = choose_model_id(request.model_id, "style-arbitrary")
    dest = destination(run.path, request.out, model_id)
    channels = 256
    license_text, attribution = licence(cfg, held_out_photos)
    with staged_model_folder(dest) as staging:
        if attribution:
            atomic_write_bytes(staging / "ATTRIBUTION.txt", attribution.encode("utf-8"))
        enc_path = _export(stats, encoder_inputs()[0], ["mean", "std"],
                           {n: _image_axes(n) for n in ("image", "mean", "std")}, staging / "encoder.onnx")
        first = transfer_inputs(stats)[0]
        tr_path = _export(transfer, first, ["stylized"], {n: _image_axes(n) for n in (*first, "stylized")},
                          staging / "transfer.onnx")
        worst_enc = check_parity("encoder", enc_path, stats, encoder_inputs(), ["mean", "std"], STATS_TOLERANCE)
        worst_tr = check_parity("transfer", tr_path, transfer, transfer_inputs(stats), ["stylized"],
                                PARITY_TOLERANCE)
        per_pixel = activation_bytes_per_pixel(tr_path)  # the engine's tiling budget reads it
        held_styles = cfg.held_out_names()
        presets = measure_presets(stats, paintings, held_styles)
        atomic_write_bytes(staging / "presets.json", json.dumps(presets, separators=(",", ":")).encode("utf-8"))
        photo = next((Path(cfg.data) / n for n in held_out_photos if (Path(cfg.data) / n).is_file()), None)
        thumbnail = _thumbnail(transfer, stats, photo, [p for p in paintings if p.name not in held_styles])
        if thumbnail is not None:
            atomic_write_bytes(staging / "thumbnail.png", thumbnail)
        card = {
            "format": CARD_FORMAT,
            "id": model_id,
            "name": request.name or "Any picture as a style",
            "family": "style-arbitrary",
            "description": request.description or (
                "Takes any picture as its style (AdaIN on ImageNet SqueezeNet features with a trained decoder); "
                f"styles blend exactly in feature-statistics space. Trained {meta['step']} steps on photos and "
                f"{len(trainer_meta.get('train_styles', []))} paintings."),
            "files": {"encoder": {"path": "encoder.onnx", "sha256": sha256_file(enc_path)},
                      "transfer": {"path": "transfer.onnx", "sha256": sha256_file(tr_path)}},
            "io": card_io(channels),
            "resolution": [cfg.resolution, cfg.resolution],
            "license": request.license_text or license_text,
            "provenance": {
                "data": f"content photos from {cfg.data}; style pictures from {cfg.styles} (held out: "
                        f"{', '.join(sorted(held_styles)) or 'none'}); SqueezeNet 1.1 ImageNet weights (encoder, "
                        "frozen)",
                "held_out": {"photos": held_out_photos, "styles": sorted(held_styles)},
                **training_record(run, record, meta, cfg),
                "trainer_version": meta.get("version"),
                "opset": OPSET,
                "created": now_iso(),
            },
            "metrics": {"parity_max_abs_diff": {"encoder": worst_enc, "transfer": worst_tr},
                        "parity_tolerance": {"encoder": STATS_TOLERANCE, "transfer": PARITY_TOLERANCE}},
            "config": {"size_multiple": SIZE_MULTIPLE, "style_side": STYLE_SIDE,
                       "content_stats_side": CONTENT_STATS_SIDE, "channels": channels, "overlap": OVERLAP,
                       "presets": "presets.json", "network": decoder.config.to_dict(),
                       **({"activation_bytes_per_pixel": per_pixel} if per_pixel is not None else {})},
        }
        if thumbnail is not None:
            card["thumbnail"] = "thumbnail.png"
        atomic_write_bytes(staging / "model.json", json.dumps(card, indent=2, ensure_ascii=False).encode("utf-8"))
    return dest, card


def licence(cfg: ArbitraryStyleConfig, held_out_photos: list[str]) -> tuple[str, str]:
    """The card's licence text and ATTRIBUTION.txt: the paintings, the SqueezeNet weights and the trained photos."""
    photos, attribution = photo_licence(cfg.data, held_out_photos, [], "arbitrary-style network")
    return ("Style pictures: public-domain paintings from " + Path(cfg.styles).name + "/ (rights and sources in the "
            "PROVENANCE.md beside them). Encoder: ImageNet SqueezeNet 1.1 weights embedded in both graphs (original Caffe "
            "weights BSD-2-Clause, forresti/SqueezeNet; Keras conversion MIT; trained on ImageNet, whose images carry "
            "research-use terms). "
            + photos), attribution


EXPORTER = register(Float32Exporter(ArbitraryStyleConfig.FAMILY, export_arbitrary_run))
