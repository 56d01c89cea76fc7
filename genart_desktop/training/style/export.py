"""Export a trained style network: one self-contained ONNX file with dynamic height and width, a parity check
against PyTorch at two sizes, a thumbnail rendered by the exported graph through the app's own style pipeline, and
the model card. Everything is staged beside the destination and moved into place only when all of it succeeded.
"""

from __future__ import annotations

import io
import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from genart_desktop.core.atomic import atomic_write_bytes
from genart_desktop.core.errors import InputError
from genart_desktop.engine.cards import CARD_FORMAT, sha256_file
from genart_desktop.engine.pipelines.style import StylePipeline
from genart_desktop.training.checkpoint import (
    load_module_tensors,
)
from genart_desktop.training.export.destination import check_destination, choose_model_id, destination
from genart_desktop.training.export.onnx_file import OPSET, check_self_contained
from genart_desktop.training.export.parity import FP32_TOLERANCE, check_parity, onnx_session
from genart_desktop.training.export.protocol import ExportRequest, ExportResult
from genart_desktop.training.export.registry import register
from genart_desktop.training.export.run_state import latest_state, training_record
from genart_desktop.training.export.staging import staged_model_folder
from genart_desktop.training.runs import RunFolder, now_iso
from genart_desktop.training.style.config import StyleConfig
from genart_desktop.training.style.images import fit_long_side, load_rgb
from genart_desktop.training.style.inference_form import inference_form
from genart_desktop.training.style.network import (
    SIZE_MULTIPLE,
    StyleNet,
    StyleNetConfig,
)
from genart_desktop.training.style.run_memory import activation_bytes_per_pixel
from genart_desktop.training.style.sources import describe_sources

FILENAME = "stylizer.onnx"
THUMBNAIL_SIDE = 256
PARITY_SHAPES = ((1, 3, 64, 96), (2, 3, 96, 64))
DYNAMIC = {0: "batch", 2: "height", 3: "width"}
TENSOR = {"shape": ["batch", 3, "height", "width"], "dtype": "float32", "range": [-1.0, 1.0]}


def export_stylizer_onnx(net: StyleNet, path: Path) -> Path:
    """``content [batch, 3, height, width] -> stylized`` with every weight inside the file, exported in its
    :func:`inference_form` (the same function, faster kernels in onnxruntime)."""
    exported = inference_form(net)
    example = torch.zeros(1, 3, 64, 64)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(exported, (example,), str(path), input_names=["content"], output_names=["stylized"],
                          dynamic_axes={"content": DYNAMIC, "stylized": DYNAMIC}, opset_version=OPSET,
                          dynamo=False, do_constant_folding=True)
    check_self_contained(path)
    return path


def parity_inputs(seed: int = 0) -> list[dict[str, torch.Tensor]]:
    """Two differently shaped random inputs: agreeing on both proves the height and width axes are dynamic."""
    generator = torch.Generator().manual_seed(seed)
    return [{"content": torch.rand(shape, generator=generator) * 2 - 1} for shape in PARITY_SHAPES]


def render_thumbnail(path: Path, photo: np.ndarray) -> bytes:
    """The photo at 256 px stylized by the exported graph, through the same pipeline the app uses."""
    small = fit_long_side(photo, THUMBNAIL_SIDE)
    stylized = StylePipeline(onnx_session(path), multiple=SIZE_MULTIPLE).apply(small)
    buffer = io.BytesIO()
    Image.fromarray(stylized, "RGB").save(buffer, "PNG")
    return buffer.getvalue()


def export_style_model(net: StyleNet, dest: str | Path, card_fields: dict[str, Any], thumbnail_photo: np.ndarray,
                       attribution: str = "") -> dict[str, Any]:
    """Write ``dest/`` = stylizer.onnx + thumbnail.png + model.json (+ ATTRIBUTION.txt); returns the card.

    ``card_fields`` supplies id, name, description, resolution, license, provenance and extra metrics/config.
    """
    dest = Path(dest)
    check_destination(dest)
    with staged_model_folder(dest) as staging:
        onnx_path = export_stylizer_onnx(net, staging / FILENAME)
        worst = check_parity("style network", onnx_path, net, parity_inputs(), ["stylized"], FP32_TOLERANCE)
        atomic_write_bytes(staging / "thumbnail.png", render_thumbnail(onnx_path, thumbnail_photo))
        per_pixel = activation_bytes_per_pixel(onnx_path)
        if attribution:
            atomic_write_bytes(staging / "ATTRIBUTION.txt", attribution.encode("utf-8"))
        card = {
            "format": CARD_FORMAT,
            "id": card_fields["id"],
            "name": card_fields["name"],
            "family": "style",
            "description": card_fields["description"],
            "files": {"stylizer": {"path": FILENAME, "sha256": sha256_file(onnx_path)}},
            "io": {"stylizer": {"inputs": {"content": TENSOR}, "outputs": {"stylized": TENSOR}}},
            "resolution": card_fields["resolution"],
            "license": card_fields["license"],
            "provenance": {**card_fields["provenance"], "opset": OPSET, "created": now_iso()},
            "metrics": {"parity_max_abs_diff": {"stylizer": worst}, "parity_tolerance": FP32_TOLERANCE,
                        **card_fields.get("metrics", {})},
            "thumbnail": "thumbnail.png",
            "config": {"size_multiple": SIZE_MULTIPLE, "overlap": 96, "default_strength": 1.0,
                       "default_scale": 1.0, "default_preserve_colors": False,
                       **({"activation_bytes_per_pixel": per_pixel} if per_pixel is not None else {}),
                       **card_fields.get("config", {})},
        }
        atomic_write_bytes(staging / "model.json", json.dumps(card, indent=2, ensure_ascii=False).encode("utf-8"))
    return card


def export_style_run(run_dir: str | Path, out: str | Path | None = None, model_id: str | None = None,
                     name: str | None = None, license_text: str | None = None,
                     thumbnail: str | Path | None = None,
                     default_scale: float | None = None) -> tuple[Path, dict[str, Any]]:
    """A style run's latest checkpoint -> a model folder (default ``RUN/export/<id>``).

    ``default_scale`` is the brush scale the palette starts with: a network trained on small photo crops paints
    strokes that look right on a canvas a few times larger when the app runs it at a reduced working size.
    """
    from genart_desktop.engine.pipelines.limits import MAX_SCALE, MIN_SCALE

    if default_scale is not None and not MIN_SCALE <= default_scale <= MAX_SCALE:
        raise InputError(f"--default-scale must be between {MIN_SCALE} and {MAX_SCALE}, not {default_scale}.")
    run = RunFolder.open(run_dir)
    state = latest_state(run, StyleConfig, "style")
    record, tensors, meta, cfg = state.record, state.tensors, state.meta, state.config
    net = StyleNet(StyleNetConfig(cfg.width, cfg.residual_blocks))
    load_module_tensors("net", net, tensors)
    sources = describe_sources(cfg.style, cfg.data)
    model_id = choose_model_id(model_id, f"style-{Path(cfg.style).stem}")
    photo, photo_source = _thumbnail_photo(thumbnail, cfg, run)
    rows = run.read_metrics()
    last = next((r for r in reversed(rows) if "loss" in r), {})
    trainer_extra = meta.get("trainer", {})
    fields = {
        "id": model_id,
        "name": name or f"{sources.style_title} (style)",
        "description": (f"Repaints the canvas in the manner of {sources.style_title}; a fast feed-forward network "
                        f"trained for {meta['step']} steps on {cfg.resolution} px photo crops."),
        "resolution": [cfg.resolution, cfg.resolution],
        "license": license_text or sources.license,
        "provenance": {
            "data": f"content photos from {cfg.data}; style image {cfg.style}",
            **training_record(run, record, meta, cfg),
            "loss_network": trainer_extra.get("loss_net"),
            "trainer_version": meta.get("version"),
            "thumbnail_photo": photo_source,
        },
        "metrics": {k: last[k] for k in ("loss", "content", "style", "tv") if k in last},
        "config": {"network": trainer_extra.get("network", {}),
                   **({"default_scale": float(default_scale)} if default_scale is not None else {})},
    }
    if fields["metrics"]:
        fields["metrics"] = {f"final_{k}": v for k, v in fields["metrics"].items()}
    dest = destination(run.path, out, model_id)
    card = export_style_model(net, dest, fields, photo, sources.attribution)
    return dest, card


def _thumbnail_photo(thumbnail: str | Path | None, cfg: StyleConfig, run: RunFolder) -> tuple[np.ndarray, str]:
    """The photo the card's thumbnail is rendered from, and where it came from (for the card's provenance)."""
    if thumbnail is not None:
        return load_rgb(thumbnail), str(thumbnail)
    from genart_desktop.training.style.sources import IMAGE_SUFFIXES

    folder = Path(cfg.data)
    candidates = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES) if folder.is_dir() else []
    for candidate in candidates:
        try:
            return load_rgb(candidate), str(candidate)
        except InputError:
            continue
    samples = sorted(run.samples_dir.glob("*.png"))
    if samples:
        return load_rgb(samples[-1]), str(samples[-1])
    raise InputError("No photo for the thumbnail: give one with --thumbnail PHOTO.")


class StyleExporter:
    """``genart-train export`` for style runs (``genart-train style --export`` offers the thumbnail and scale too)."""

    family = StyleConfig.FAMILY

    def export(self, run: RunFolder, request: ExportRequest) -> ExportResult:
        if request.fp16:
            raise InputError("--fp16 is not available for style runs yet; export again without --fp16.")
        folder, card = export_style_run(run.path, request.out, model_id=request.model_id, name=request.name,
                                        license_text=request.license_text)
        return ExportResult(Path(folder), card, dict(card.get("metrics", {}).get("parity_max_abs_diff", {})))


EXPORTER = register(StyleExporter())
