"""Importing a model from anywhere: read its graph, guess a card, run it once, install it as a model folder.

Artists collect ONNX files from the model zoo, from PyTorch scripts and from diffusers. Writing a card by hand
(docs/model-card.md) means knowing the family, the graph's tensor names, the value ranges and the sizes; this module
guesses them from the graph itself and one probe run, and says what it guessed. ``genart import-model`` and the app's
File > Import model... dialog both use it (Qt-free), so they propose the same card and install the same folder.

Guessing: one image in, one image of the same size out is a ``style`` network; a flat (or ``[n, 1, 1]``) vector in
and an image out a ``gan`` generator; a small spatial latent in and a larger image out a decoder-only ``vae``; a
``[batch, C, H, W]`` sample plus a timestep in and the same shape out a ``diffusion`` U-Net (a diffusers
``scheduler_config.json`` beside it is read; DDIM keeps diffusers' default clipping convention); a folder with
``model_index.json`` is an Optimum Stable Diffusion export (``sd-onnx``, no card needed). The value range of an
image output comes from a probe run (values past 1.5 mean [0, 255], none below 0 mean [0, 1], else [-1, 1]); a
style network's input range is the one whose probe output best fills the same range.

Installing is atomic: the folder is built under a hidden name inside the models folder (scans skip it), checked by
the registry exactly as a scan would, rendered once, then renamed into place; on any failure nothing is left.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from genart_desktop.core.errors import InputError, ModelError
from genart_desktop.core.atomic import atomic_write_bytes
from genart_desktop.engine.cards import (
    CARD_FORMAT,
    CARD_NAME,
    ID_PATTERN,
    IMAGE_TENSORS,
    MAX_CARD_BYTES,
    MAX_EXTERNAL_DATA_BYTES,
    sha256_file,
)
from genart_desktop.engine.contained import is_regular, load_contained_json
from genart_desktop.engine.onnx_wire import external_data_locations
from genart_desktop.engine.registry import ModelRegistry
from genart_desktop.engine.session import ModelSession, TensorSpec, inspect_graph
from genart_desktop.engine.value_range import pixels_to_model

IMPORT_FAMILIES = ("style", "gan", "vae", "diffusion", "sd-onnx")
RANGES: dict[str, tuple[float, float]] = {"-1..1": (-1.0, 1.0), "0..1": (0.0, 1.0), "0..255": (0.0, 255.0)}
SD_INDEX = "model_index.json"
SCHEDULER_CONFIG = "scheduler_config.json"
_SCHEDULE_KEYS = ("num_train_timesteps", "beta_schedule", "beta_start", "beta_end", "prediction_type",
                  "timestep_spacing", "steps_offset", "clip_sample", "clip_sample_range", "set_alpha_to_one")
_PROBE_SIDE = 64


@dataclass
class ImportProposal:
    """A guessed card and where its files come from; ``notes`` say, one line each, what was guessed and why."""

    source: Path
    card: dict[str, Any]
    files: dict[str, Path] = field(default_factory=dict)  # relative path in the new folder -> source file
    notes: list[str] = field(default_factory=list)

    @property
    def family(self) -> str:
        return str(self.card["family"])

    @property
    def model_id(self) -> str:
        return str(self.card["id"])

    def ranges(self) -> dict[str, tuple[float, float]]:
        """``{"role.tensor": (low, high)}`` for every image tensor whose range the card declares (editable)."""
        found = {}
        for role, entry in self.card.get("io", {}).items():
            for kind in ("inputs", "outputs"):
                for name, tensor in entry[kind].items():
                    if "range" in tensor and _is_image(role, name, entry):
                        found[f"{role}.{name}"] = tuple(tensor["range"])
        return found


def _is_image(role: str, name: str, entry: dict[str, Any]) -> bool:
    standard = {graph: std for std, graph in entry.get("names", {}).items()}.get(name, name)
    return standard in IMAGE_TENSORS.get(role, ())


def edited(proposal: ImportProposal, *, model_id: str | None = None, name: str | None = None,
           ranges: dict[str, tuple[float, float]] | None = None) -> ImportProposal:
    """A copy with the user's edits (the dialog's fields, the CLI's ``--id``/``--name``), checked."""
    card = copy.deepcopy(proposal.card)
    if model_id is not None:
        if not ID_PATTERN.fullmatch(model_id):
            raise InputError(f"The id {model_id!r} must be lower-case letters, digits, '.', '_' or '-' (at most 64).")
        card["id"] = model_id
    if name is not None:
        if not name.strip():
            raise InputError("The model name must not be empty.")
        card["name"] = name.strip()
    for key, value_range in (ranges or {}).items():
        role, tensor = key.split(".", 1)
        low, high = (float(v) for v in value_range)
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            raise InputError(f"The range of {tensor} must be two numbers, low < high.")
        _tensor_entry(card, role, tensor)["range"] = [low, high]
    return dataclasses.replace(proposal, card=card, notes=list(proposal.notes))


def _tensor_entry(card: dict[str, Any], role: str, name: str) -> dict[str, Any]:
    entry = card["io"][role]
    return entry["inputs"].get(name) or entry["outputs"][name]


# --- guessing -----------------------------------------------------------------------------------------------------

def propose(path: str | os.PathLike[str], family: str | None = None, model_id: str | None = None,
            name: str | None = None) -> ImportProposal:
    """Read ``path`` (an ``.onnx`` file, a folder holding one, or an Optimum SD folder) and guess its card."""
    source = Path(path)
    if family is not None and family not in IMPORT_FAMILIES:
        raise InputError(f"--family must be one of {', '.join(IMPORT_FAMILIES)}, not {family!r}.")
    if source.is_dir() and (source / SD_INDEX).exists():
        proposal = _propose_sd(source)
    else:
        onnx = _find_onnx(source)
        inputs, outputs = inspect_graph(onnx, onnx.name)
        guessed = family or guess_family(inputs, outputs, onnx.name)
        builders: dict[str, Callable[..., ImportProposal]] = {
            "style": _propose_style, "gan": _propose_latent, "vae": _propose_latent, "diffusion": _propose_unet}
        if guessed not in builders:
            raise InputError(f"{onnx.name} is a single graph; an {guessed} model is a folder with model_index.json.")
        proposal = builders[guessed](onnx, guessed, inputs, outputs)
        if family is None:
            proposal.notes.insert(0, f"family: {guessed} (from the graph's inputs and outputs; --family overrides)")
    generic = source.is_file() and source.stem.lower() in ("model", "unet", "decoder", "generator")
    default_id = _slug(source.parent.name if generic else source.stem if source.is_file() else source.name)
    return edited(proposal, model_id=model_id or default_id, name=name or default_id)


def guess_family(inputs: tuple[TensorSpec, ...], outputs: tuple[TensorSpec, ...], label: str) -> str:
    """The family a graph's inputs and outputs look like; raises :class:`InputError` when none fits."""
    floats = [s for s in inputs if s.dtype.kind == "f"]
    image_out = [s for s in outputs if s.rank == 4 and s.shape[1] in (1, 3)]
    if len(inputs) >= 2 and any(s.rank == 4 for s in floats) and any(s.rank <= 1 for s in inputs):
        return "diffusion"
    if len(inputs) == 1 and floats and image_out:
        spec = floats[0]
        if spec.rank == 2 or (spec.rank == 4 and spec.shape[2:] == (1, 1)):
            return "vae" if "latent" in spec.name.lower() else "gan"
        if spec.rank == 4 and spec.shape[1] in (1, 3) and _same_size(spec, image_out[0]):
            return "style"
        if spec.rank == 4:
            return "vae"
    shapes = "; ".join(s.describe() for s in (*inputs, *outputs))
    raise InputError(f"{label}: cannot tell what kind of model this is ({shapes}); pass --family.")


def _same_size(a: TensorSpec, b: TensorSpec) -> bool:
    return all(x == y or not isinstance(x, int) or not isinstance(y, int) for x, y in zip(a.shape[2:], b.shape[2:]))


def _find_onnx(source: Path) -> Path:
    if source.is_dir():
        found = sorted(p for p in source.iterdir() if p.suffix.lower() == ".onnx" and is_regular(p))
        if len(found) != 1:
            raise InputError(f"{source.name} holds {len(found)} .onnx files; name the one to import.")
        return found[0]
    if not is_regular(source):
        raise InputError(f"{source.name} does not exist or is not a regular file.")
    if source.suffix.lower() != ".onnx":
        raise InputError(f"{source.name} is not an .onnx file.")
    return source


def _tensor(spec: TensorSpec, value_range: tuple[float, float] | None = None) -> dict[str, Any]:
    names = {0: "batch", 2: "height", 3: "width"}
    shape = [d if isinstance(d, int) else (d if isinstance(d, str) else names.get(i, f"dim{i}"))
             for i, d in enumerate(spec.shape)]
    entry: dict[str, Any] = {"shape": shape, "dtype": str(spec.dtype)}
    if value_range is not None:
        entry["range"] = [float(value_range[0]), float(value_range[1])]
    return entry


def _base_card(onnx: Path, family: str, role: str, io: dict[str, Any], files: dict[str, Path],
               **fields: Any) -> dict[str, Any]:
    return {
        "format": CARD_FORMAT, "id": _slug(onnx.stem), "name": onnx.stem.replace("_", " ").replace("-", " ").strip(),
        "family": family, "description": f"Imported from {onnx.name} by genart import-model.",
        "files": {role: {"path": onnx.name, "sha256": "", "data": [{"path": rel, "sha256": ""}
                                                                    for rel in files if rel != onnx.name]}},
        "io": {role: io}, "license": "unknown (imported; check the source's licence)",
        "provenance": {"data": "unknown", "command": "genart import-model", "source": onnx.name},
        "metrics": {}, "config": {}, **fields,
    }


def _model_files(onnx: Path) -> dict[str, Path]:
    """The ONNX file and its external data files, by their path relative to the ONNX file's folder."""
    files = {onnx.name: onnx}
    for location in external_data_locations(onnx):
        data = onnx.parent / location
        if not is_regular(data) or data.stat().st_size > MAX_EXTERNAL_DATA_BYTES:
            raise InputError(f"{onnx.name}: its external data {location} is missing, not a file or too large.")
        files[Path(location).as_posix()] = data
    return files


def _io(names: dict[str, TensorSpec], inputs: tuple[TensorSpec, ...], outputs: tuple[TensorSpec, ...],
        ranges: dict[str, tuple[float, float]]) -> dict[str, Any]:
    """A role's io entry: every graph input, the outputs it uses, ``names`` where the graph's differ."""
    used = {spec.name for spec in names.values()}
    io: dict[str, Any] = {
        "inputs": {s.name: _tensor(s, ranges.get(s.name)) for s in inputs},
        "outputs": {s.name: _tensor(s, ranges.get(s.name)) for s in outputs if s.name in used},
    }
    mapping = {standard: spec.name for standard, spec in names.items() if spec.name != standard}
    if mapping:
        io["names"] = mapping
    return io


def _probe_image(height: int, width: int) -> np.ndarray:
    """A deterministic test picture: smooth colour ramps with some texture."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    rng = np.random.default_rng(0)
    ramps = np.stack([x / max(width - 1, 1), y / max(height - 1, 1), 1 - x / max(width - 1, 1)], -1) * 200 + 20
    return np.clip(ramps + rng.normal(0, 12, (height, width, 3)), 0, 255).astype(np.uint8)


def output_range(values: np.ndarray) -> tuple[float, float]:
    """The value range an image output looks like: [0, 255], [0, 1] or [-1, 1]."""
    x = np.asarray(values, np.float64)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return RANGES["-1..1"]
    if np.percentile(np.abs(x), 99.5) > 1.5:
        return RANGES["0..255"]
    return RANGES["0..1"] if np.percentile(x, 0.5) >= -0.02 else RANGES["-1..1"]


def _fit_score(values: np.ndarray, value_range: tuple[float, float]) -> float:
    """How well outputs fill ``value_range``: the share inside it (10% slack) times the share of it they span."""
    low, high = value_range
    width = high - low
    x = np.asarray(values, np.float64)
    inside = np.mean((x >= low - 0.1 * width) & (x <= high + 0.1 * width))
    spread = (np.percentile(x, 99) - np.percentile(x, 1)) / width
    return float(inside * min(spread, 1.0))


def _fixed_hw(spec: TensorSpec) -> tuple[int, int] | None:
    dims = spec.shape[2:4]
    return (int(dims[0]), int(dims[1])) if len(dims) == 2 and all(isinstance(d, int) for d in dims) else None


def _probe_session(onnx: Path) -> ModelSession:
    return ModelSession.load(onnx, name=onnx.name)


def _propose_style(onnx: Path, family: str, inputs: tuple[TensorSpec, ...],
                   outputs: tuple[TensorSpec, ...]) -> ImportProposal:
    if len(inputs) != 1 or inputs[0].rank != 4:
        raise InputError(f"{onnx.name}: a style network takes one (batch, 3, height, width) image.")
    spec, out = inputs[0], outputs[0]
    fixed = _fixed_hw(spec)
    height, width = fixed or (_PROBE_SIDE * 2, _PROBE_SIDE * 2)
    session = _probe_session(onnx)
    pixels = _probe_image(height, width)
    scores = {}
    for label, value_range in RANGES.items():
        feed = pixels_to_model(pixels, value_range).transpose(2, 0, 1)[None].astype(spec.dtype)
        result = session.run({spec.name: feed}, outputs=[out.name])[out.name]
        scores[label] = (_fit_score(result, value_range), value_range)
    label, (_, value_range) = max(scores.items(), key=lambda item: item[1][0])
    io = _io({"content": spec, "stylized": out}, inputs, outputs, {spec.name: value_range, out.name: value_range})
    files = _model_files(onnx)
    size = [width, height]
    card = _base_card(onnx, family, "stylizer", io, files, resolution=size)
    notes = [f"tensors: content -> '{spec.name}', stylized -> '{out.name}'",
             f"value range in and out: [{label.replace('..', ', ')}] (the probe output fits it best)",
             f"size: fixed {width}x{height} (tiles are padded to it)" if fixed else "size: any (dynamic axes)"]
    return ImportProposal(onnx, card, files, notes)


def _propose_latent(onnx: Path, family: str, inputs: tuple[TensorSpec, ...],
                    outputs: tuple[TensorSpec, ...]) -> ImportProposal:
    role, standard = ("generator", "z") if family == "gan" else ("decoder", "latent")
    floats = [s for s in inputs if s.dtype.kind == "f"]
    image = next((s for s in outputs if s.rank == 4 and s.shape[1] in (1, 3)), None)
    if len(inputs) != 1 or not floats or image is None:
        raise InputError(f"{onnx.name}: a {family} {role} takes one latent and returns a (batch, 3, H, W) image.")
    spec = floats[0]
    dims = spec.shape[1:]
    if not all(isinstance(d, int) for d in dims):
        raise InputError(f"{onnx.name}: the latent input '{spec.name}' has dynamic size {list(dims)}; "
                         "a card needs its exact shape (write it by hand, see docs/model-card.md).")
    latent = [int(d) for d in dims]  # type: ignore[arg-type]
    if family == "gan" and len(latent) == 3 and latent[1:] == [1, 1]:
        latent = latent[:1]  # a DCGAN's [n, 1, 1]: the explorer treats it as a flat vector and reshapes it
    feed_shape = (1, *[int(d) for d in dims])  # type: ignore[arg-type]
    session = _probe_session(onnx)
    rng = np.random.default_rng(0)
    result = session.run({spec.name: rng.standard_normal(feed_shape).astype(spec.dtype)},
                         outputs=[image.name])[image.name]
    value_range = output_range(result)
    io = _io({standard: spec, "image": image}, inputs, outputs, {image.name: value_range})
    files = _model_files(onnx)
    resolution = [int(result.shape[3]), int(result.shape[2])]
    card = _base_card(onnx, family, role, io, files, resolution=resolution,
                      latent={"shape": latent, "distribution": "normal"})
    notes = [f"tensors: {standard} -> '{spec.name}', image -> '{image.name}'",
             f"latent: {latent} drawn from N(0, 1)" + (f" (fed as {list(dims)})" if list(dims) != latent else ""),
             f"image range: [{value_range[0]:g}, {value_range[1]:g}] (from a probe run)",
             f"resolution: {resolution[0]}x{resolution[1]}"]
    if family == "vae":
        notes.append("decoder only: the Latent Explorer works; bringing images in needs an encoder")
    return ImportProposal(onnx, card, files, notes)


def _propose_unet(onnx: Path, family: str, inputs: tuple[TensorSpec, ...],
                  outputs: tuple[TensorSpec, ...]) -> ImportProposal:
    sample = next((s for s in inputs if s.rank == 4 and s.dtype.kind == "f"), None)
    timestep = next((s for s in inputs if s.rank <= 1), None)
    prediction = next((s for s in outputs if s.rank == 4), None)
    if sample is None or timestep is None or prediction is None or len(inputs) != 2:
        raise InputError(f"{onnx.name}: a diffusion U-Net takes a (batch, C, H, W) sample and a timestep and "
                         "returns the same shape (text-conditioned U-Nets come as Optimum folders).")
    io = _io({"sample": sample, "timestep": timestep, "prediction": prediction}, inputs, outputs, {})
    if timestep.rank == 0:
        raise InputError(f"{onnx.name}: the timestep input '{timestep.name}' must be [batch], not a scalar.")
    schedule, where = _scheduler_config(onnx.parent)
    size = _fixed_hw(sample) or (_PROBE_SIDE, _PROBE_SIDE)
    files = _model_files(onnx)
    card = _base_card(onnx, family, "unet", io, files, resolution=[size[1], size[0]],
                      config={"schedule": schedule, "conditioning": {"type": "none"}, "default_steps": 50,
                              "default_guidance": 1.0})
    notes = [f"tensors: sample -> '{sample.name}', timestep -> '{timestep.name}', prediction -> '{prediction.name}'",
             f"schedule: {where}; DDIM keeps diffusers' default (use_clipped_model_output false)",
             f"resolution: {size[1]}x{size[0]}" + ("" if _fixed_hw(sample) else " (dynamic; a guess)")]
    return ImportProposal(onnx, card, files, notes)


def _scheduler_config(folder: Path) -> tuple[dict[str, Any], str]:
    """A diffusers ``scheduler_config.json`` beside the U-Net (its fields we model), else diffusers' DDPM default."""
    for relative in (SCHEDULER_CONFIG, f"scheduler/{SCHEDULER_CONFIG}"):
        if is_regular(folder / relative):
            data = load_contained_json(folder, relative, MAX_CARD_BYTES, relative)
            if not isinstance(data, dict):
                raise InputError(f"{relative} must hold a JSON object.")
            schedule = {key: data[key] for key in _SCHEDULE_KEYS if key in data and data[key] is not None}
            return {**schedule, "use_clipped_model_output": False}, f"from {relative}"
    return {"num_train_timesteps": 1000, "beta_schedule": "linear", "prediction_type": "epsilon",
            "clip_sample": True, "use_clipped_model_output": False}, "none found; diffusers' DDPM default"


def _propose_sd(folder: Path) -> ImportProposal:
    files = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        if path.is_symlink() or (not path.is_dir() and not is_regular(path)):
            raise InputError(f"{folder.name}: {relative} is a link or not a regular file; copy the real files.")
        if path.is_file():
            files[relative] = path
    card = {"id": _slug(folder.name), "name": folder.name, "family": "sd-onnx"}
    return ImportProposal(folder, card, files, ["family: sd-onnx (an Optimum Stable Diffusion export; no card "
                                                "needed, every component is checked)"])


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9._-]+", "-", text.lower()).strip("-._")
    return slug[:64] or "model"


# --- checking, previewing, installing --------------------------------------------------------------------------

def stage(proposal: ImportProposal, folder: Path) -> Path:
    """Write the model folder (files copied, card with sha256s) at ``folder`` and check it as a scan would."""
    folder.mkdir(parents=True)
    for relative, source in proposal.files.items():
        target = folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    if proposal.family != "sd-onnx":
        card = copy.deepcopy(proposal.card)
        for entry in card["files"].values():
            entry["sha256"] = sha256_file(folder / entry["path"])
            for data in entry.get("data", []):
                data["sha256"] = sha256_file(folder / data["path"])
            if not entry.get("data"):
                entry.pop("data", None)
        atomic_write_bytes(folder / CARD_NAME, (json.dumps(card, indent=2) + "\n").encode("utf-8"))
    return folder


def render_once(folder: Path) -> tuple[str, np.ndarray | None]:
    """Check the staged folder like a registry scan and run it once; (model id, preview pixels or None)."""
    registry = ModelRegistry.for_folder(folder)
    entry = registry.entries()[0]
    if not entry.ok:
        raise ModelError(entry.reason or f"{folder.name} was refused.")
    try:
        return entry.id, _preview(registry, entry)
    finally:
        registry.release_all()


def _preview(registry: ModelRegistry, entry: Any) -> np.ndarray | None:
    if entry.family == "style":
        from genart_desktop.engine.pipelines.style import StylePipeline

        return StylePipeline.from_registry(registry, entry.id).apply(_probe_image(_PROBE_SIDE * 2, _PROBE_SIDE * 2))
    if entry.family in ("gan", "vae"):
        from genart_desktop.engine.latent.space import space_from_registry

        space = space_from_registry(registry, entry.id)
        return space.decode(space.sample(seed=0))[0]
    if entry.family == "diffusion":
        from genart_desktop.engine.pipelines.recipe import Recipe
        from genart_desktop.workspace.diffusion_models import load_generator

        width, height = entry.card.resolution or (_PROBE_SIDE, _PROBE_SIDE)
        recipe = Recipe(model_id=entry.id, seed=0, steps=4, sampler="ddim", width=width, height=height)
        return load_generator(registry, entry.id).render(recipe).pixels
    return None


def preview(proposal: ImportProposal) -> np.ndarray | None:
    """The proposal run once through the engine from a throw-away folder (the dialog's preview)."""
    with tempfile.TemporaryDirectory(prefix="genart-import-") as scratch:
        return render_once(stage(proposal, Path(scratch) / proposal.model_id))[1]


def install(proposal: ImportProposal, models_dir: Path) -> tuple[Path, np.ndarray | None]:
    """Build the folder under a hidden name in ``models_dir``, check and run it, then rename it into place;
    nothing is left behind on failure. Returns (the new folder, the preview pixels)."""
    target = models_dir / proposal.model_id
    if os.path.lexists(target):
        raise InputError(f"{target} already exists; choose another --id.")
    models_dir.mkdir(parents=True, exist_ok=True)
    scratch = models_dir / f".import-{proposal.model_id}-{uuid.uuid4().hex[:8]}"
    try:
        stage(proposal, scratch)
        _, pixels = render_once(scratch)
        if os.path.lexists(target):
            raise InputError(f"{target} already exists; choose another --id.")
        os.rename(scratch, target)
    finally:
        if scratch.exists():
            shutil.rmtree(scratch, ignore_errors=True)
    return target, pixels
