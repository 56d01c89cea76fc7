"""Export a diffusion run as an app model folder (docs/model-card.md, family ``diffusion``).

The folder holds:
- ``unet.onnx``: ``sample [batch, C, height, width] float32, timestep [batch] float32 (training timestep),
  cond [batch, tokens] int64`` -> ``prediction``; one self-contained file. A text-conditioned model has its text
  encoder folded into this graph (``cond`` holds word ids), a class-conditioned one takes ``cond [batch, 1]``;
  an unconditional one has no ``cond`` input. A control model (``--control``) also takes ``control [batch, 3,
  pixel_height, pixel_width]`` in [-1, 1] and ``control_strength [batch]`` (0: ignored); its card's
  ``config.control`` names the kind of control picture.
- ``vae_decoder.onnx`` (latent diffusion): the paired VAE's decoder, unchanged; the card's
  ``config.latent.scaling_factor`` turns the U-Net's unit-variance latents into the VAE's and back.
- ``thumbnail.png``: a grid drawn from the exported graphs by the app's own adapter
  (``engine.pipelines.diffusion_model.CardDiffusionModel``), samplers and guidance.
- ``model.json``: the card; ``config`` (card_config.py) is exactly what that adapter reads: the schedule with its
  prediction type, the conditioning with an inline vocabulary, the latent scale and paired VAE id, the defaults.

Everything is built in a hidden folder beside OUT and renamed into place only after the parity check passes, so a
failed export leaves nothing half-written.
"""

from __future__ import annotations

import io
import json
import math
import os
import shutil
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from genart_desktop.core.atomic import atomic_write_bytes
from genart_desktop.core.errors import InputError
from genart_desktop.engine.cards import CARD_FORMAT, load_card, sha256_file
from genart_desktop.engine.pipelines.control import MAX_CONTROL_STRENGTH
from genart_desktop.engine.pipelines.diffusion_model import CardDiffusionModel
from genart_desktop.engine.schedules import ScheduleConfig
from genart_desktop.engine.session import ModelSession, inspect_graph
from genart_desktop.training.checkpoint import (
    latest_checkpoint,
    load_checkpoint,
    load_module_tensors,
)
from genart_desktop.training.data.store import is_dataset
from genart_desktop.training.diffusion.card_config import card_config
from genart_desktop.training.diffusion.config import DiffusionConfig
from genart_desktop.training.diffusion.latents import CPU_ONLY
from genart_desktop.training.diffusion.text import Conditioning
from genart_desktop.training.diffusion.trainer import build_unet
from genart_desktop.training.diffusion.unet import UNet, parameter_count
from genart_desktop.training.export.destination import choose_model_id, destination
from genart_desktop.training.export.onnx_file import (
    check_self_contained,
    store_weights_as_fp16,
)
from genart_desktop.training.export.parity import check_parity
from genart_desktop.training.export.photo_licence import photo_licence
from genart_desktop.training.export.protocol import (
    USER_DATA_LICENSE,
    ExportRequest,
    ExportResult,
)
from genart_desktop.training.export.registry import register
from genart_desktop.training.export.run_state import training_record
from genart_desktop.training.export.staging import staged_model_folder
from genart_desktop.training.grid import grid_image
from genart_desktop.training.runs import RunFolder, now_iso

PARITY_TOLERANCE = 2e-3
FP16_WEIGHTS_TOLERANCE = 2e-2  # float16-stored weights (computed in float32): only their rounding differs
OPSET = 17  # the shared exporter's minimum (check_self_contained)
THUMBNAIL_COUNT = 16


class ExportedUNet(torch.nn.Module):
    """The ONNX signature: ``sample, timestep``, then ``cond`` when the model is conditioned and ``control,
    control_strength`` when it has a control encoder."""

    def __init__(self, unet: UNet, conditioned: bool):
        super().__init__()
        self.unet, self.conditioned = unet, conditioned
        self.controlled = unet.control_encoder is not None

    def forward(self, sample: torch.Tensor, timestep: torch.Tensor, *rest: torch.Tensor) -> torch.Tensor:
        cond = rest[0] if self.conditioned else None
        control = rest[int(self.conditioned):] if self.controlled else ()
        return self.unet(sample, timestep, cond, *control)


def input_names(model: UNet, conditioned: bool) -> list[str]:
    """The graph's input names in :class:`ExportedUNet`'s order."""
    return ["sample", "timestep"] + (["cond"] if conditioned else []) + (
        ["control", "control_strength"] if model.control_encoder is not None else [])


def load_trained(run_dir: str | os.PathLike[str]) -> tuple[DiffusionConfig, UNet, dict[str, Any], dict[str, Any]]:
    """The run's options, its EMA U-Net (CPU, float32, eval), what the trainer recorded, and the checkpoint meta."""
    run = RunFolder.open(run_dir)
    record = run.read_options()
    if record.get("family") != DiffusionConfig.FAMILY:
        raise InputError(f"{run.path} is a {record.get('family')} run, not a diffusion run.")
    cfg = DiffusionConfig.from_dict(record["options"])
    checkpoint = latest_checkpoint(run.checkpoints_dir)
    if checkpoint is None:
        raise InputError(f"{run.path} has no checkpoint yet; train for at least --checkpoint-every steps.")
    tensors, meta = load_checkpoint(checkpoint)
    described = meta.get("trainer", {}).get("model")
    if not isinstance(described, dict):
        raise InputError(f"{checkpoint.name} does not describe its diffusion model; it was not written by this trainer.")
    conditioning = Conditioning.from_json(described["conditioning"])
    model = build_unet(cfg, int(described["in_channels"]), int(described["sample_size"]), conditioning)
    load_module_tensors("unet_ema", model, tensors)
    return cfg, model.eval().float(), described, meta


def export_onnx(model: UNet, path: Path, in_channels: int, size: int, cond_width: int) -> None:
    conditioned = cond_width > 0
    wrapper = ExportedUNet(model, conditioned).eval()
    sample = torch.randn(2, in_channels, size, size)
    timestep = torch.tensor([10.0, 500.0])
    args: tuple = (sample, timestep)
    names = ["sample", "timestep"]
    axes: dict[str, dict[int, str]] = {"sample": {0: "batch", 2: "height", 3: "width"}, "timestep": {0: "batch"},
                                       "prediction": {0: "batch", 2: "height", 3: "width"}}
    if conditioned:
        args += (torch.zeros(2, cond_width, dtype=torch.int64),)
        names.append("cond")
        axes["cond"] = {0: "batch"}
    if model.control_encoder is not None:
        factor = model.control_encoder.factor
        args += (torch.zeros(2, 3, size * factor, size * factor), torch.ones(2))
        names += ["control", "control_strength"]
        axes["control"] = {0: "batch", 2: "pixel_height", 3: "pixel_width"}
        axes["control_strength"] = {0: "batch"}
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        # The TorchScript exporter writes one self-contained file with named dynamic axes in a second or two.
        torch.onnx.export(wrapper, args, buffer, input_names=names, output_names=["prediction"],
                          dynamic_axes=axes, opset_version=OPSET, dynamo=False)
    path.write_bytes(buffer.getvalue())
    check_self_contained(path)


def parity_inputs(model: UNet, in_channels: int, size: int, conditioning: Conditioning, seed: int = 0
                  ) -> list[dict[str, torch.Tensor]]:
    """Random inputs at the training size and at a larger size, with real and null conditions."""
    generator = torch.Generator().manual_seed(seed)
    sets = []
    step = 2 ** (model.levels - 1)
    for batch, side in ((3, size), (2, size + step)):
        inputs = {"sample": torch.randn(batch, in_channels, side, side, generator=generator),
                  "timestep": torch.randint(0, 1000, (batch,), generator=generator).float()}
        if conditioning.width:
            high = conditioning.vocabulary.size if conditioning.vocabulary else len(conditioning.classes) + 1
            cond = torch.randint(0, high, (batch, conditioning.width), generator=generator)
            cond[0] = conditioning.null(1)[0]  # type: ignore[index]
            inputs["cond"] = cond
        if model.control_encoder is not None:
            pixels = side * model.control_encoder.factor
            inputs["control"] = torch.rand(batch, 3, pixels, pixels, generator=generator) * 2 - 1
            strength = torch.rand(batch, generator=generator) * 1.5
            strength[0] = 0.0
            inputs["control_strength"] = strength
        sets.append(inputs)
    return sets


def _dim_name(axis: int, rank: int, name: str = "") -> str:
    if axis == 0:
        return "batch"
    if rank == 4 and axis >= 2:
        return ("pixel_" if name == "control" else "") + ("height", "width")[axis - 2]
    return f"axis{axis}"


def _graph_io(path: Path, ranges: dict[str, list[float]]) -> dict[str, Any]:
    """Card io read from the real graph (fixed dims stay fixed, dynamic ones get names)."""
    inputs, outputs = inspect_graph(path)

    def describe(specs) -> dict[str, Any]:
        out = {}
        for spec in specs:
            shape = [d if isinstance(d, int) else _dim_name(i, spec.rank, spec.name) for i, d in enumerate(spec.shape)]
            entry: dict[str, Any] = {"shape": shape, "dtype": str(spec.dtype)}
            if spec.name in ranges:
                entry["range"] = ranges[spec.name]
            out[spec.name] = entry
        return out

    return {"inputs": describe(inputs), "outputs": describe(outputs)}


def _thumbnail(staging: Path, model_id: str, config: dict[str, Any], cfg: DiffusionConfig, latent: bool
               ) -> dict[str, Any]:
    """A 4x4 grid drawn by the exported graphs through the app's own adapter (so the card's config is exercised
    before it is written): one row per example prompt, with the card's default guidance."""
    unet = ModelSession.load(staging / "unet.onnx", CPU_ONLY, name="unet")
    decoder = ModelSession.load(staging / "vae_decoder.onnx", CPU_ONLY, name="vae decoder") if latent else None
    generator = CardDiffusionModel(model_id, config, unet, (cfg.resolution, cfg.resolution), decoder)
    columns = max(1, math.isqrt(THUMBNAIL_COUNT))
    prompts = config["conditioning"].get("examples") or []
    rows = [prompts[i % len(prompts)] for i in range(columns)] if prompts else []
    if rows:
        images = np.concatenate([
            generator.generate(prompt, steps=cfg.sample_steps, sampler=cfg.sampler, seed=cfg.seed + r * columns,
                               batch=columns).images for r, prompt in enumerate(rows)])
    else:
        images = generator.generate(steps=cfg.sample_steps, sampler=cfg.sampler, seed=cfg.seed,
                                    batch=columns * columns).images
    grid_image(torch.from_numpy(images), columns).save(staging / "thumbnail.png")
    return {"rows": rows, "seed": cfg.seed, "steps": cfg.sample_steps, "sampler": cfg.sampler,
            "guidance": config["default_guidance"]}


def _dataset_info(cfg: DiffusionConfig) -> dict[str, Any]:
    folder = Path(cfg.data)
    if not is_dataset(folder):
        return {}
    try:
        meta = json.loads((folder / "dataset.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}


def _photo_source_licence(dataset: dict[str, Any]) -> tuple[str, str]:
    """(licence text, ATTRIBUTION.txt) when the dataset was cut from a folder of photos described by a photos.csv
    (its held-out files excluded), else ("", "")."""
    source = dataset.get("source_dir")
    if not source or not (Path(source) / "photos.csv").is_file():
        return "", ""
    excluded = [str(name) for name in dataset.get("excluded", [])]
    return photo_licence(source, excluded, [], "diffusion model")


def _example_prompts(conditioning: Conditioning, dataset: dict[str, Any], count: int = 4) -> list[str]:
    if conditioning.kind == "class":
        return list(conditioning.classes[:count])
    if conditioning.kind != "text":
        return []
    captions = sorted({i.get("caption") for i in dataset.get("items", []) if isinstance(i, dict) and i.get("caption")})
    if not captions:
        assert conditioning.vocabulary is not None
        return list(conditioning.vocabulary.words[:count])
    step = max(1, len(captions) // count)
    return captions[::step][:count]


def export_run(run_dir: str | os.PathLike[str], out: str | os.PathLike[str] | None = None, *,
               model_id: str | None = None, name: str | None = None, description: str | None = None,
               license_text: str | None = None, thumbnail: bool = True, fp16: bool = False) -> ExportResult:
    """Write the model folder for the run's latest checkpoint (default ``RUN_DIR/export/ID``; an existing model
    folder there is replaced only once the new one is complete). ``fp16`` stores the U-Net's weights as float16
    (half the file) while it still computes in float32, so the samplers see float32 predictions."""
    run = RunFolder.open(run_dir)
    model_id = choose_model_id(model_id, f"diffusion-{run.path.name}")
    out = destination(run.path, out, model_id)
    cfg, model, described, meta = load_trained(run.path)
    out.parent.mkdir(parents=True, exist_ok=True)
    conditioning = Conditioning.from_json(described["conditioning"])
    schedule = ScheduleConfig.from_dict(described["schedule"])
    in_channels, size = int(described["in_channels"]), int(described["sample_size"])
    latent = described.get("latent")
    dataset = _dataset_info(cfg)

    with staged_model_folder(out) as staging:
        unet_path = staging / "unet.onnx"
        export_onnx(model, unet_path, in_channels, size, conditioning.width)
        if fp16:
            store_weights_as_fp16(unet_path)
        tolerance = FP16_WEIGHTS_TOLERANCE if fp16 else PARITY_TOLERANCE
        diff = check_parity("U-Net", unet_path, ExportedUNet(model, bool(conditioning.width)),
                            parity_inputs(model, in_channels, size, conditioning, cfg.seed), ["prediction"], tolerance)
        files = {"unet": {"path": "unet.onnx", "sha256": sha256_file(unet_path)}}
        unet_ranges: dict[str, list[float]] = {"timestep": [0, schedule.num_train_timesteps - 1]}
        if conditioning.kind == "text":
            assert conditioning.vocabulary is not None
            unet_ranges["cond"] = [0, conditioning.vocabulary.size - 1]
        elif conditioning.kind == "class":
            unet_ranges["cond"] = [0, len(conditioning.classes)]
        config = card_config(conditioning, schedule, cfg, in_channels, size, latent,
                             _example_prompts(conditioning, dataset))
        if model.control_encoder is not None:
            unet_ranges.update({"control": [-1.0, 1.0], "control_strength": [0.0, MAX_CONTROL_STRENGTH]})
            config["control"] = {"type": cfg.control, "colours": cfg.control_colours, "drop": cfg.control_drop,
                                 "factor": model.control_encoder.factor}
        io_map = {"unet": _graph_io(unet_path, unet_ranges)}
        if latent:
            vae_card = load_card(latent["vae_folder"])
            decoder_ref = vae_card.files["decoder"]
            if sha256_file(decoder_ref.path) != latent["vae"]["decoder_sha256"]:
                raise InputError(f"The VAE decoder in {latent['vae_folder']} changed since training; the U-Net only "
                                 "works with the decoder it was trained with.")
            # The paired VAE's decoder as it is: the app divides by latent.scaling_factor before decoding and
            # multiplies the paired encoder's mean by it, so text-to-image and image-to-image both see the
            # U-Net's unit-variance latents.
            decoder_path = staging / "vae_decoder.onnx"
            shutil.copyfile(decoder_ref.path, decoder_path)
            files["vae_decoder"] = {"path": "vae_decoder.onnx", "sha256": sha256_file(decoder_path)}
            io_map["vae_decoder"] = _graph_io(decoder_path, {"image": [-1.0, 1.0]})
        else:
            io_map["unet"]["inputs"]["sample"]["range"] = [-1.0, 1.0]  # x_0 range; x_t is unbounded noise
        quality = run.read_json("quality.json")
        vae_licence = (latent or {}).get("vae", {}).get("license") if latent else None
        photos_licence, attribution = _photo_source_licence(dataset)
        licence = license_text or dataset.get("license") or photos_licence or USER_DATA_LICENSE
        if attribution and not license_text:
            atomic_write_bytes(staging / "ATTRIBUTION.txt", attribution.encode("utf-8"))
        if vae_licence and vae_licence not in licence:
            licence += f" Paired VAE: {vae_licence}"
        card: dict[str, Any] = {
            "format": CARD_FORMAT,
            "id": model_id,
            "name": name or f"Diffusion {run.path.name}",
            "family": "diffusion",
            "description": description or (
                f"A {parameter_count(model) / 1e6:.1f}M-parameter U-Net trained as a DDPM on "
                f"{dataset.get('count', '?')} images at {cfg.resolution}x{cfg.resolution}"
                + (" in a VAE's latent space" if latent else "")
                + {"text": ", prompted with words from its captions", "class": ", one class at a time",
                   "none": ""}[conditioning.kind]
                + {"none": ".", "edges": ", following a line sketch.",
                   "colour-blocks": ", following flat colour blocks."}[cfg.control]),
            "files": files,
            "io": io_map,
            "resolution": [cfg.resolution, cfg.resolution],
            "license": licence,
            "provenance": {"data": {"path": cfg.data, "count": dataset.get("count"),
                                    "provenance": dataset.get("provenance")},
                           **training_record(run, run.read_options(), meta, cfg), "created": now_iso()},
            "metrics": {"parity_max_abs_diff": diff, "parity_tolerance": tolerance,
                        "weights": "float16 (computed in float32)" if fp16 else "float32",
                        "parameters": parameter_count(model),
                        **{k: v for k, v in quality.items() if k != "step"},
                        **({"quality_step": quality["step"]} if "step" in quality else {}),
                        "real_diversity": described.get("real_diversity")},
            "config": config,
        }
        if thumbnail:
            config["thumbnail"] = _thumbnail(staging, model_id, config, cfg, bool(latent))
            card["thumbnail"] = "thumbnail.png"
        (staging / "model.json").write_text(json.dumps(card, indent=2, ensure_ascii=False), encoding="utf-8")
        load_card(staging)  # the card must parse as the app parses it
    return ExportResult(out, card, {"unet": diff})


class DiffusionExporter:
    """``genart-train export`` for diffusion runs; ``fp16`` stores the U-Net's weights as float16 but keeps float32
    arithmetic (the samplers need it)."""

    family = DiffusionConfig.FAMILY

    def export(self, run: RunFolder, request: ExportRequest) -> ExportResult:
        return export_run(run.path, request.out, model_id=request.model_id, name=request.name,
                          description=request.description, license_text=request.license_text, fp16=request.fp16)


EXPORTER = register(DiffusionExporter())
