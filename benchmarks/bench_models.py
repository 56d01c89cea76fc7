"""Every default model family through our engine (onnxruntime) against PyTorch eager on the same network and weights.

Same process, same thread count, same inputs: GAN generation (batch 64), VAE encode and decode, style transfer at
1024x1024 and 4096x4096 through the engine's tiling (with peak memory), diffusion sampling steps per second (the
app's sampler driving each network), and a 5x5 latent-explorer grid render.

Where ``models/`` ships a model of a family, that model is used and PyTorch rebuilds its network from the training
module's architecture, loading the weights from the ONNX file's initialisers. Until then the script builds a freshly
initialised network of the family's default architecture, exports it through the training module's exporter into a
temporary folder, and marks those rows "untrained weights: speed only". Without torch (the ``train`` extra) the
PyTorch column says n/a.

    python benchmarks/bench_models.py [--quick] [--threads N] [--families gan,vae,style,diffusion]

``benchmarks/run.py`` runs this with the rest of the suite and prints the combined table.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import hashlib
import json
import os
import shlex
import sys
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# See run.py: spinning OpenMP workers starve numpy's BLAS threads (and each other) on small machines.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402

from common import (MemoryPeak, Row, Timing, count_flops, gemm_ceiling, markdown_table, measure,  # noqa: E402
                    peak_memory)
from genart_desktop.core.errors import GenArtError  # noqa: E402
from genart_desktop.core.paths import builtin_models_dir  # noqa: E402
from genart_desktop.engine.latent.neighbours import neighbour_grid  # noqa: E402
from genart_desktop.engine.latent.space import images_from_tensor, space_from_registry  # noqa: E402
from genart_desktop.engine.pipelines.diffusion_model import CardDiffusionModel  # noqa: E402
from genart_desktop.engine.pipelines.style import StylePipeline  # noqa: E402
from genart_desktop.engine.providers import CPU, CUDA, choose_provider  # noqa: E402
from genart_desktop.engine.registry import ModelEntry, ModelRegistry  # noqa: E402
from genart_desktop.engine.session import ModelSession  # noqa: E402
from genart_desktop.engine.tiling import TilePlan, run_tiled  # noqa: E402

FAMILIES = ("gan", "vae", "style", "diffusion")
UNTRAINED = "untrained weights: speed only"


@dataclass(frozen=True)
class Sizes:
    """How big each benchmark is; ``--quick`` and run.py's ``--config`` shrink it."""

    gan_batch: int = 64
    vae_batch: int = 64
    style_sizes: tuple[int, ...] = (1024, 4096)
    style_tile: int = 0  # 0: the pipeline's (or the card's) tile size
    style_repeats_above: int = 2048  # sizes above this run once (with peak memory) instead of `repeats` times
    diffusion_steps: int = 20
    diffusion_sampler: str = "ddim"
    grid: int = 5
    repeats: int = 5
    warmup: int = 1
    ceiling_size: int = 2048

    @classmethod
    def quick(cls) -> Sizes:
        return cls(gan_batch=16, vae_batch=16, style_sizes=(256, 512), style_tile=256, diffusion_steps=4,
                   repeats=2, ceiling_size=1024)

    def updated(self, values: dict[str, Any]) -> Sizes:
        known = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown size settings: {', '.join(unknown)} (known: {', '.join(sorted(known))})")
        fixed = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
        return dataclasses.replace(self, **fixed)


@dataclass
class Prepared:
    """One family ready to run: the registered model, its PyTorch twin (or why there is none) and what it is."""

    family: str
    registry: ModelRegistry
    entry: ModelEntry
    weights: str
    torch_modules: dict[str, Any] = field(default_factory=dict)
    torch_missing: str | None = None
    parity: dict[str, float] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def model_id(self) -> str:
        return self.entry.id

    def file(self, role: str) -> Path:
        return self.entry.files[role]


def torch_available() -> str | None:
    """None when torch and the training module import, else the reason the PyTorch column is n/a."""
    try:
        import torch  # noqa: F401

        import genart_desktop.training.export.exporter  # noqa: F401
    except ModuleNotFoundError as exc:
        return f"n/a ({exc.name} not installed)"
    return None


def engine_settings(threads: int, provider: str = "cpu") -> dict[str, Any]:
    return {"execution_provider": provider, "intra_op_threads": threads, "session_cache_size": 16}


# --- model folders: shipped, or freshly initialised and exported ---------------------------------------------------

def shipped_entry(family: str, settings: dict[str, Any]) -> tuple[ModelRegistry, ModelEntry] | None:
    """The first usable model of ``family`` in the shipped models folder, if any."""
    registry = ModelRegistry(roots=[(builtin_models_dir(), "builtin")], settings=settings)
    models = registry.models(family)
    return (registry, models[0]) if models else None


def _untrained_license() -> str:
    return "Random initial weights made by benchmarks/bench_models.py for timing only; no training data."


def export_untrained(family: str, root: Path) -> tuple[Path, dict[str, Any], dict[str, float]]:
    """Build the default architecture of ``family`` with fresh weights (seed 0) and export it as a model folder.

    Returns the folder, the torch modules by role, and the exporter's parity (max abs difference per role).
    GAN, VAE and diffusion go through the training module's own ``export_run`` (a run folder holding one checkpoint
    of the untrained network); the training module has no style exporter yet, so the style network is exported here
    with dynamic height and width, as the style pipeline needs.
    """
    import torch

    torch.manual_seed(0)
    out = root / "models" / f"bench-{family}"
    if family in ("gan", "vae"):
        return _export_gan_vae(family, root, out)
    if family == "diffusion":
        return _export_diffusion(root, out)
    if family == "style":
        return _export_style(out)
    raise ValueError(f"unknown family {family}")


def _save_run(root: Path, family: str, cfg: Any, tensors: dict[str, Any], extra_meta: dict[str, Any]) -> Path:
    from genart_desktop.training.checkpoint import checkpoint_path, save_checkpoint
    from genart_desktop.training.runs import RunFolder

    run = RunFolder.create(root / "runs", family)
    run.write_options(family, cfg.to_dict(), cfg.command())
    meta = {"step": 0, "family": family, "options": cfg.to_dict(), "wall_time_s": 0.0, "precision": "fp32",
            "hardware": "none (untrained benchmark network)", **extra_meta}
    save_checkpoint(checkpoint_path(run.checkpoints_dir, 0), tensors, meta)
    return run.path


def _export_gan_vae(family: str, root: Path, out: Path) -> tuple[Path, dict[str, Any], dict[str, float]]:
    from genart_desktop.training.checkpoint import module_tensors
    from genart_desktop.training.export.exporter import export_run
    from genart_desktop.training.gan.config import GanConfig
    from genart_desktop.training.gan.trainer import build_generator
    from genart_desktop.training.vae.config import VaeConfig
    from genart_desktop.training.vae.models import Decoder, Encoder

    if family == "gan":
        cfg = GanConfig(data="none")
        modules = {"generator": build_generator(cfg).eval()}
        tensors = module_tensors("G_ema", modules["generator"])
    else:
        cfg = VaeConfig(data="none")
        shape = cfg.latent_shape()
        modules = {"encoder": Encoder(cfg.resolution, shape, cfg.channels, cfg.max_channels, cfg.convs).eval(),
                   "decoder": Decoder(cfg.resolution, shape, cfg.channels, cfg.max_channels, cfg.convs).eval()}
        tensors = {**module_tensors("encoder", modules["encoder"]), **module_tensors("decoder", modules["decoder"])}
    run = _save_run(root, family, cfg, tensors, {})
    result = export_run(str(run), out=str(out), model_id=f"bench-{family}-untrained",
                        name=f"Untrained {family.upper()} (benchmark)", description=UNTRAINED,
                        license_text=_untrained_license())
    return result.folder, modules, dict(result.parity)


def _export_diffusion(root: Path, out: Path) -> tuple[Path, dict[str, Any], dict[str, float]]:
    from genart_desktop.training.checkpoint import module_tensors
    from genart_desktop.training.diffusion.config import DiffusionConfig
    from genart_desktop.training.diffusion.export import export_run
    from genart_desktop.training.diffusion.objective import make_schedule
    from genart_desktop.training.diffusion.text import Conditioning
    from genart_desktop.training.diffusion.trainer import build_unet

    cfg = DiffusionConfig(data="none")
    conditioning = Conditioning("none")
    unet = build_unet(cfg, 3, cfg.resolution, conditioning).eval()
    schedule = make_schedule(cfg.schedule, cfg.timesteps, cfg.prediction_type, clip_sample=True)
    described = {"conditioning": conditioning.to_json(), "schedule": schedule.to_dict(), "in_channels": 3,
                 "sample_size": cfg.resolution, "latent": None, "real_diversity": None}
    run = _save_run(root, "diffusion", cfg, module_tensors("unet_ema", unet), {"trainer": {"model": described}})
    result = export_run(run, out, model_id="bench-diffusion-untrained", name="Untrained diffusion U-Net (benchmark)",
                        description=UNTRAINED, license_text=_untrained_license(), thumbnail=False)
    return result.folder, {"unet": unet}, dict(result.parity)


def _export_style(out: Path) -> tuple[Path, dict[str, Any], dict[str, float]]:
    import torch

    from genart_desktop.core.atomic import atomic_write_bytes
    from genart_desktop.training.export.onnx_file import OPSET, check_self_contained
    from genart_desktop.training.export.parity import max_abs_diff
    from genart_desktop.training.style.network import StyleNet, StyleNetConfig

    network = StyleNet(StyleNetConfig()).eval()
    out.mkdir(parents=True, exist_ok=True)
    path = out / "stylizer.onnx"
    axes = {"content": {0: "batch", 2: "height", 3: "width"}, "stylized": {0: "batch", 2: "height", 3: "width"}}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(network, (torch.zeros(1, 3, 64, 64),), str(path), input_names=["content"],
                          output_names=["stylized"], dynamic_axes=axes, opset_version=OPSET, dynamo=False)
    check_self_contained(path)
    example = {"content": torch.rand(1, 3, 72, 96, generator=torch.Generator().manual_seed(4)) * 2 - 1}
    parity = max_abs_diff(path, network, example, ["stylized"])
    image = ["batch", 3, "height", "width"]
    card = {
        "format": "genart-model-card/1", "id": "bench-style-untrained", "name": "Untrained style network (benchmark)",
        "family": "style", "description": UNTRAINED,
        "files": {"stylizer": {"path": path.name, "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}},
        "io": {"stylizer": {"inputs": {"content": {"shape": image, "dtype": "float32", "range": [-1, 1]}},
                            "outputs": {"stylized": {"shape": image, "dtype": "float32", "range": [-1, 1]}}}},
        "resolution": [256, 256], "license": _untrained_license(),
        "provenance": {"data": "none", "command": "benchmarks/bench_models.py", "steps": 0, "hardware": "none",
                       "precision": "float32", "wall_time_s": 0.0, "created": "benchmark run"},
        "config": {"network": StyleNetConfig().to_dict(), "size_multiple": 4},
    }
    atomic_write_bytes(out / "model.json", json.dumps(card, indent=2).encode("utf-8"))
    return out, {"stylizer": network}, {"stylizer": max(parity.values())}


# --- PyTorch twins of shipped models -------------------------------------------------------------------------------

def _config_from_card(entry: ModelEntry, config_cls: Any) -> Any:
    """The training options recorded in the card's ``provenance.command`` (flags the user typed; defaults else)."""
    from genart_desktop.training.config import add_config_arguments, explicit_options

    command = str((entry.card.provenance if entry.card else {}).get("command", ""))
    words = shlex.split(command)
    flags = [w for w in words[2:]] if len(words) >= 2 and words[0].endswith("genart-train") else []
    parser = argparse.ArgumentParser(add_help=False)
    add_config_arguments(parser, config_cls)
    known, _ = parser.parse_known_args(flags)
    return config_cls.from_dict(explicit_options(known, config_cls))


def load_onnx_weights(module: Any, onnx_path: Path) -> tuple[int, int]:
    """Copy ONNX initialisers into ``module``'s tensors of the same name and shape; (matched, total) tensors."""
    import onnx
    import torch
    from onnx import numpy_helper

    graph = onnx.load(str(onnx_path)).graph
    initialisers = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    # weights stored as float16 (store_weights_as_fp16) keep their name with a suffix and are cast back in the graph
    from genart_desktop.training.export.onnx_file import FP16_SUFFIX

    initialisers.update({name.split(FP16_SUFFIX)[0]: value for name, value in list(initialisers.items())
                         if FP16_SUFFIX in name})
    # the style network's output layer is exported in phased form (training/style/inference_form.py)
    from genart_desktop.training.style.inference_form import PHASED, stylenet_state

    if all(name in initialisers for name in PHASED):
        phased = {name: torch.from_numpy(np.array(initialisers[name], np.float32)) for name in PHASED}
        initialisers.update({name: value.numpy() for name, value in stylenet_state(phased).items()})
    # an exporter wrapper (e.g. the diffusion export's ``ExportedUNet.unet``) prefixes every name once
    for name, value in list(initialisers.items()):
        if "." in name:
            initialisers.setdefault(name.split(".", 1)[1], value)
    state = module.state_dict()
    matched = 0
    with torch.no_grad():
        for name, tensor in state.items():
            value = initialisers.get(name)
            if value is not None and tuple(value.shape) == tuple(tensor.shape):
                tensor.copy_(torch.from_numpy(np.array(value, dtype=np.float32)).to(tensor.dtype))
                matched += 1
    module.load_state_dict(state)
    return matched, len(state)


def torch_twin(entry: ModelEntry) -> tuple[dict[str, Any], str]:
    """Rebuild a shipped model's networks in PyTorch from the training architecture; weights from its ONNX files."""
    family = entry.family
    if family == "gan":
        from genart_desktop.training.gan.config import GanConfig
        from genart_desktop.training.gan.trainer import build_generator

        modules = {"generator": build_generator(_config_from_card(entry, GanConfig))}
    elif family == "vae":
        from genart_desktop.training.vae.config import VaeConfig
        from genart_desktop.training.vae.models import Decoder, Encoder

        cfg = _config_from_card(entry, VaeConfig)
        shape = cfg.latent_shape()
        modules = {"encoder": Encoder(cfg.resolution, shape, cfg.channels, cfg.max_channels, cfg.convs),
                   "decoder": Decoder(cfg.resolution, shape, cfg.channels, cfg.max_channels, cfg.convs)}
    elif family == "style":
        from genart_desktop.training.style.network import StyleNet, StyleNetConfig

        network = (entry.card.config or {}).get("network", {}) if entry.card else {}
        known = {f.name for f in dataclasses.fields(StyleNetConfig)}
        modules = {"stylizer": StyleNet(StyleNetConfig(**{k: v for k, v in network.items() if k in known}))}
    elif family == "diffusion":
        modules = {"unet": _diffusion_twin(entry)}
    else:
        raise GenArtError(f"no PyTorch architecture for family {family}")
    matched = total = 0
    for role, module in modules.items():
        got, count = load_onnx_weights(module.eval(), entry.files[role])
        matched, total = matched + got, total + count
    note = "same weights" if matched == total else f"{matched}/{total} weight tensors matched by name"
    return modules, note


def _diffusion_twin(entry: ModelEntry) -> Any:
    from genart_desktop.training.diffusion.config import DiffusionConfig
    from genart_desktop.training.diffusion.text import Conditioning, Vocabulary
    from genart_desktop.training.diffusion.trainer import build_unet

    cfg = _config_from_card(entry, DiffusionConfig)
    config = entry.card.config if entry.card else {}
    cond = config.get("conditioning") or {}
    kind = cond.get("type", "none")
    if kind == "class":
        conditioning = Conditioning("class", classes=tuple(cond.get("classes", ())))
    elif kind == "text" and isinstance(cond.get("vocabulary"), list):  # the card carries the word list inline
        conditioning = Conditioning("text", Vocabulary(tuple(cond["vocabulary"]), int(cond.get("max_tokens", 8))))
    elif kind == "text":
        vocab_file = entry.folder / cond.get("vocabulary_file", "vocab.json")
        conditioning = Conditioning("text", Vocabulary.from_json(json.loads(vocab_file.read_text(encoding="utf-8"))))
    else:
        conditioning = Conditioning("none")
    sample = config.get("sample") or {}
    size = (sample.get("size") or [cfg.resolution])[0]
    return build_unet(cfg, int(sample.get("channels", 3)), int(size), conditioning)


def prepare(family: str, workdir: Path, threads: int, torch_reason: str | None) -> Prepared:
    """The family's model in a registry (shipped, else freshly exported) and its PyTorch twin."""
    settings = engine_settings(threads)
    shipped = shipped_entry(family, settings)
    if shipped is not None:
        registry, entry = shipped
        prepared = Prepared(family, registry, entry, f"shipped model {entry.id}")
        if torch_reason:
            prepared.torch_missing = torch_reason
            return prepared
        try:
            prepared.torch_modules, note = torch_twin(entry)
            prepared.weights += f" ({note})"
        except Exception as exc:  # noqa: BLE001 - report why the comparison is missing, keep the ORT numbers
            prepared.torch_missing = f"n/a (cannot rebuild in PyTorch: {exc})"
        return prepared
    if torch_reason:
        raise GenArtError(f"models/ has no {family} model and exporting an untrained one needs torch ({torch_reason}).")
    folder, modules, parity = export_untrained(family, workdir)
    registry = ModelRegistry(roots=[(folder.parent, "user")], settings=settings)
    entry = next((e for e in registry.entries() if e.folder == folder), None)
    if entry is None or not entry.ok:
        raise GenArtError(f"the exported {family} model was rejected: {entry.reason if entry else 'not found'}")
    return Prepared(family, registry, entry, UNTRAINED, modules, parity=parity)


# --- running both sides ---------------------------------------------------------------------------------------------

def _torch_call(module: Any) -> Callable[..., Any]:
    import torch

    def call(*tensors: np.ndarray) -> np.ndarray | tuple[np.ndarray, ...]:
        with torch.inference_mode():
            out = module(*[torch.from_numpy(t) for t in tensors])
        if isinstance(out, tuple):
            return tuple(o.numpy() for o in out)
        return out.numpy()

    return call


def _pair(row: Row, ours: Callable[[], Any], theirs: Callable[[], Any] | None, sizes: Sizes,
          memory: bool = False, repeats: int | None = None, warmup: int | None = None) -> Row:
    repeats = repeats or sizes.repeats
    warmup = sizes.warmup if warmup is None else warmup

    def timed(fn: Callable[[], Any]) -> tuple[Timing, MemoryPeak | None]:
        if memory:
            return peak_memory(lambda: measure(fn, repeats=repeats, warmup=warmup))
        return measure(fn, repeats=repeats, warmup=warmup), None

    row.ours, row.ours_memory = timed(ours)
    if theirs is not None:
        row.theirs, row.theirs_memory = timed(theirs)
    return row


def _flops(path: Path, shapes: dict[str, list[int]], row: Row, calls: float = 1.0) -> None:
    try:
        count = count_flops(path, shapes)
    except Exception as exc:  # noqa: BLE001 - a graph we cannot count still gets its timings
        row.notes.append(f"FLOPs not counted: {exc}")
        return
    row.flops = count.total * calls
    row.flops_complete = count.complete
    row.extra["flops_by_op"] = {k: v * calls for k, v in count.by_op.items()}


def _base_row(prepared: Prepared, benchmark: str) -> Row:
    row = Row(prepared.family, benchmark, prepared.weights, theirs_missing=prepared.torch_missing)
    row.extra.update({"model_id": prepared.model_id, "export_parity_max_abs_diff": prepared.parity})
    return row


def bench_gan(prepared: Prepared, sizes: Sizes) -> list[Row]:
    session = prepared.registry.session(prepared.model_id, "generator")
    latent = int(session.input("z").shape[1])
    z = np.random.default_rng(0).standard_normal((sizes.gan_batch, latent), dtype=np.float32)
    row = _base_row(prepared, f"generate batch {sizes.gan_batch}")
    row.items, row.unit = sizes.gan_batch, "images/s"
    theirs = None
    if "generator" in prepared.torch_modules:
        call = _torch_call(prepared.torch_modules["generator"])
        theirs = lambda: call(z)  # noqa: E731
        row.extra["max_abs_diff_vs_pytorch"] = float(np.abs(session.run({"z": z[:2]})["image"] - call(z[:2])).max())
    _pair(row, lambda: session.run({"z": z}), theirs, sizes)
    _flops(prepared.file("generator"), {"z": [sizes.gan_batch, latent]}, row)
    return [row]


def bench_vae(prepared: Prepared, sizes: Sizes) -> list[Row]:
    encoder = prepared.registry.session(prepared.model_id, "encoder")
    decoder = prepared.registry.session(prepared.model_id, "decoder")
    image_shape = [sizes.vae_batch, *[int(d) for d in encoder.input("image").shape[1:]]]
    latent_shape = [sizes.vae_batch, *[int(d) for d in decoder.input("latent").shape[1:]]]
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, image_shape).astype(np.float32)
    latents = rng.standard_normal(latent_shape, dtype=np.float32)
    rows = []
    for role, session, name, data in (("encoder", encoder, "image", images), ("decoder", decoder, "latent", latents)):
        row = _base_row(prepared, f"{'encode' if role == 'encoder' else 'decode'} batch {sizes.vae_batch}")
        row.items, row.unit = sizes.vae_batch, "images/s"
        theirs = None
        if role in prepared.torch_modules:
            call = _torch_call(prepared.torch_modules[role])
            theirs = lambda call=call, data=data: call(data)  # noqa: E731
            first_out = session.output_names[0]
            expected = call(data[:2])
            expected = expected[0] if isinstance(expected, tuple) else expected
            row.extra["max_abs_diff_vs_pytorch"] = float(np.abs(session.run({name: data[:2]})[first_out]
                                                                - expected).max())
        _pair(row, lambda session=session, name=name, data=data: session.run({name: data}), theirs, sizes)
        _flops(prepared.file(role), {name: list(data.shape)}, row)
        rows.append(row)
    return rows


def _test_image(size: int) -> np.ndarray:
    """A smooth colour field with detail (random pixels would not matter to speed, but keep it picture-like)."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) / max(1, size - 1)
    rgb = np.stack([x, y, 0.5 + 0.5 * np.sin(12 * x + 7 * y)], axis=-1)
    noise = np.random.default_rng(0).uniform(-0.05, 0.05, rgb.shape).astype(np.float32)
    return np.clip((rgb + noise) * 255, 0, 255).astype(np.uint8)


def bench_style(prepared: Prepared, sizes: Sizes) -> list[Row]:
    overrides = {"tile": sizes.style_tile, "overlap": min(96, sizes.style_tile // 4)} if sizes.style_tile else {}
    pipeline = StylePipeline.from_registry(prepared.registry, prepared.model_id, **overrides)
    module = prepared.torch_modules.get("stylizer")
    call = _torch_call(module) if module is not None else None

    def torch_stylize(rgb: np.ndarray) -> np.ndarray:
        """The same tiles as the pipeline chose (whole when memory allows), through PyTorch."""
        def process(patch: np.ndarray) -> np.ndarray:
            batch = (patch.astype(np.float32) / 127.5 - 1.0).transpose(2, 0, 1)[None]
            return call(np.ascontiguousarray(batch))[0].transpose(1, 2, 0)

        side = pipeline.tile_side(*rgb.shape[:2])
        blended = run_tiled(rgb, process, tile=side, overlap=pipeline.overlap, multiple=pipeline.multiple)
        return np.clip(np.rint((blended + 1.0) * 127.5), 0, 255).astype(np.uint8)

    rows = []
    for size in sizes.style_sizes:
        image = _test_image(size)
        plan = pipeline.plan(size, size)
        side = pipeline.tile_side(size, size)
        how = "whole image (fits the memory budget)" if len(plan) == 1 else f"{len(plan)} tiles of <= {side} px"
        row = _base_row(prepared, f"stylize {size}x{size}, {how}")
        row.unit = "ms"
        once = size > sizes.style_repeats_above
        if call is not None and size == sizes.style_sizes[0]:
            ours_small = pipeline.stylize(image[:64, :64])
            row.extra["max_abs_diff_vs_pytorch_uint8"] = int(np.abs(ours_small.astype(np.int16)
                                                                    - torch_stylize(image[:64, :64])).max())
        _pair(row, lambda image=image: pipeline.stylize(image),
              (lambda image=image: torch_stylize(image)) if call is not None else None, sizes, memory=True,
              repeats=1 if once else None, warmup=0 if once else None)
        if once:
            row.notes.append("one run")
        _style_flops(prepared.file("stylizer"), plan, pipeline.multiple, row)
        rows.append(row)
    return rows


def _style_flops(path: Path, plan: TilePlan, multiple: int, row: Row) -> None:
    """FLOPs summed over the tile plan, counting the graph once per distinct (padded) tile shape."""
    per_shape: dict[tuple[int, int], Any] = {}
    total, complete = 0.0, True
    try:
        for tile in plan:
            height = tile.rows.length + (-tile.rows.length) % multiple
            width = tile.cols.length + (-tile.cols.length) % multiple
            if (height, width) not in per_shape:
                per_shape[(height, width)] = count_flops(path, {"content": [1, 3, height, width]})
            count = per_shape[(height, width)]
            total += count.total
            complete = complete and count.complete
    except Exception as exc:  # noqa: BLE001
        row.notes.append(f"FLOPs not counted: {exc}")
        return
    row.flops, row.flops_complete = total, complete


def bench_diffusion(prepared: Prepared, sizes: Sizes) -> list[Row]:
    model = CardDiffusionModel.from_registry(prepared.registry, prepared.model_id)
    steps, sampler = sizes.diffusion_steps, sizes.diffusion_sampler
    size = model.native_size
    unet_session = prepared.registry.session(prepared.model_id, "unet")
    channels = int(unet_session.input("sample").shape[1]) if isinstance(unet_session.input("sample").shape[1], int) \
        else 3
    row = _base_row(prepared, f"sample {size}x{size}, {steps} {sampler} steps, batch 1")
    row.items, row.unit = steps, "steps/s"
    theirs = None
    if "unet" in prepared.torch_modules and model.codec is None and model.conditioning.kind == "none":
        from genart_desktop.engine.pipelines.diffusion import DiffusionPipeline, DiffusionRequest
        from genart_desktop.training.diffusion.sampling import TorchDenoiser

        import torch

        pipeline = DiffusionPipeline(TorchDenoiser(prepared.torch_modules["unet"], torch.device("cpu")),
                                     model.schedule, channels=channels)
        request = DiffusionRequest(width=size, height=size, steps=steps, sampler=sampler, seed=0, batch=1)
        theirs = lambda: pipeline.run(request)  # noqa: E731
        ours_image = model.generate(steps=2, sampler=sampler, seed=0).images
        theirs_image = pipeline.run(dataclasses.replace(request, steps=2)).images
        row.extra["max_abs_diff_vs_pytorch"] = float(np.abs(ours_image - theirs_image).max())
    elif "unet" in prepared.torch_modules:
        row.theirs_missing = "n/a (conditioned or latent model: PyTorch side not wired)"
    _pair(row, lambda: model.generate(steps=steps, sampler=sampler, seed=0), theirs, sizes)
    shapes = {"sample": [1, channels, size // max(1, getattr(model.codec, "factor", 1)),
                         size // max(1, getattr(model.codec, "factor", 1))], "timestep": [1]}
    if "cond" in unet_session.input_names:
        shapes["cond"] = [1, int(unet_session.input("cond").shape[1])]
    _flops(prepared.file("unet"), shapes, row, calls=steps * (2 if model.conditioning.kind != "none" else 1))
    return [row]


def bench_latent_grid(prepared: Prepared, sizes: Sizes) -> list[Row]:
    """One click in the latent explorer: build the grid's latents, run the generator/decoder, convert to uint8."""
    space = space_from_registry(prepared.registry, prepared.model_id)
    role = "generator" if prepared.family == "gan" else "decoder"
    centre = space.sample(seed=1)[0]
    count = sizes.grid * sizes.grid
    row = _base_row(prepared, f"latent explorer {sizes.grid}x{sizes.grid} grid render")
    row.area = f"latent ({prepared.family})"
    row.unit = "ms"
    seeds = iter(range(10**9))
    theirs = None
    shape = space.shape_noise  # the explorer shapes neighbour offsets by a VAE's latent prior
    if role in prepared.torch_modules:
        call = _torch_call(prepared.torch_modules[role])
        theirs = lambda: images_from_tensor(call(  # noqa: E731 - PyTorch takes the latent in the graph's shape
            neighbour_grid(centre, sizes.grid, 0.6, next(seeds), shape).reshape(count, *space.latent_shape)))
    _pair(row, lambda: space.decode(neighbour_grid(centre, sizes.grid, 0.6, next(seeds), shape)), theirs, sizes)
    name = space._decoder.input_names[0]  # noqa: SLF001 - count the graph the explorer really runs
    _flops(prepared.file(role), {name: [count, *space.latent_shape]}, row)
    return [row]


BENCHES: dict[str, tuple[Callable[[Prepared, Sizes], list[Row]], ...]] = {
    "gan": (bench_gan, bench_latent_grid),
    "vae": (bench_vae, bench_latent_grid),
    "style": (bench_style,),
    "diffusion": (bench_diffusion,),
}


# --- GPU mode -------------------------------------------------------------------------------------------------------

def cuda_status(threads: int, probe_model: Path | None = None) -> tuple[bool, str]:
    """(True, "") when onnxruntime really runs on CUDA here (a session reports it first), else (False, why not)."""
    choice = choose_provider(engine_settings(threads, "cuda"))
    if choice.provider != CUDA:
        return False, choice.reason or "CUDA is not available"
    if probe_model is not None:
        session = ModelSession.load(probe_model, engine_settings(threads, "cuda"))
        if session.provider != CUDA:
            return False, f"a CUDA session reported {session.provider}"
    try:
        import torch

        if not torch.cuda.is_available():
            return True, "PyTorch has no CUDA here"
    except ModuleNotFoundError:
        return True, "torch not installed"
    return True, ""


def export_fp16(module: Any, inputs: dict[str, np.ndarray], outputs: list[str], axes: dict[str, dict[int, str]],
                path: Path) -> Path:
    """fp16 weights and arithmetic inside, float32 at the edges (the training exporter's HalfPrecision wrapper)."""
    import torch

    from genart_desktop.training.export.networks import HalfPrecision
    from genart_desktop.training.export.onnx_file import OPSET

    wrapped = HalfPrecision(copy.deepcopy(module).cuda()).eval()
    args = tuple(torch.from_numpy(v).cuda() for v in inputs.values())
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(wrapped, args, str(path), input_names=list(inputs), output_names=outputs,
                          dynamic_axes=axes, opset_version=OPSET, dynamo=False)
    return path


def cuda_pair(label: str, module: Any, inputs: dict[str, np.ndarray], outputs: list[str],
              axes: dict[str, dict[int, str]], folder: Path, sizes: Sizes, items: float, unit: str,
              torch_missing: str) -> Row:
    """onnxruntime CUDA with IO binding on an fp16 export vs PyTorch CUDA eager in fp16, same inputs on the GPU."""
    import onnxruntime as ort
    import torch

    row = Row("gpu", label, "fp16", items=items, unit=unit)
    path = export_fp16(module, inputs, outputs, axes, folder / f"{label.split()[0]}-fp16.onnx")
    session = ModelSession.load(path, {"execution_provider": "cuda"})
    raw = session._session  # noqa: SLF001 - IO binding needs the onnxruntime session itself
    binding = raw.io_binding()
    for name, value in inputs.items():
        binding.bind_ortvalue_input(name, ort.OrtValue.ortvalue_from_numpy(value, "cuda", 0))
    for name in outputs:
        binding.bind_output(name, "cuda")

    def ours() -> None:
        raw.run_with_iobinding(binding)
        binding.synchronize_outputs()

    row.ours = measure(ours, repeats=sizes.repeats, warmup=max(2, sizes.warmup))
    if torch_missing:
        row.theirs_missing = f"n/a ({torch_missing})"
    else:
        gpu_module = copy.deepcopy(module).cuda().half().eval()
        tensors = [torch.from_numpy(v).cuda().half() for v in inputs.values()]

        def theirs() -> None:
            with torch.inference_mode():
                gpu_module(*tensors)
            torch.cuda.synchronize()

        row.theirs = measure(theirs, repeats=sizes.repeats, warmup=max(2, sizes.warmup))
    _flops(path, {k: list(v.shape) for k, v in inputs.items()}, row)
    return row


def gpu_rows(prepared: dict[str, Prepared], sizes: Sizes, folder: Path, torch_missing: str) -> list[Row]:
    rows = []
    rng = np.random.default_rng(0)
    for family, item in prepared.items():
        try:
            if family == "gan" and "generator" in item.torch_modules:
                latent = int(item.registry.session(item.model_id, "generator").input("z").shape[1])
                rows.append(cuda_pair(f"generator batch {sizes.gan_batch}", item.torch_modules["generator"],
                                      {"z": rng.standard_normal((sizes.gan_batch, latent), dtype=np.float32)},
                                      ["image"], {"z": {0: "batch"}, "image": {0: "batch"}}, folder, sizes,
                                      sizes.gan_batch, "images/s", torch_missing))
            elif family == "vae" and "decoder" in item.torch_modules:
                shape = [int(d) for d in item.registry.session(item.model_id, "decoder").input("latent").shape[1:]]
                rows.append(cuda_pair(f"decoder batch {sizes.vae_batch}", item.torch_modules["decoder"],
                                      {"latent": rng.standard_normal((sizes.vae_batch, *shape), dtype=np.float32)},
                                      ["image"], {"latent": {0: "batch"}, "image": {0: "batch"}}, folder, sizes,
                                      sizes.vae_batch, "images/s", torch_missing))
            elif family == "style" and "stylizer" in item.torch_modules:
                side = sizes.style_sizes[0]
                axes = {n: {0: "batch", 2: "height", 3: "width"} for n in ("content", "stylized")}
                rows.append(cuda_pair(f"stylizer {side}x{side} one pass", item.torch_modules["stylizer"],
                                      {"content": rng.uniform(-1, 1, (1, 3, side, side)).astype(np.float32)},
                                      ["stylized"], axes, folder, sizes, 1, "ms", torch_missing))
            elif family == "diffusion" and "unet" in item.torch_modules and item.info.get("unconditional", True):
                session = item.registry.session(item.model_id, "unet")
                shape = [2, *[int(d) if isinstance(d, int) else 32 for d in session.input("sample").shape[1:]]]
                axes = {"sample": {0: "batch"}, "timestep": {0: "batch"}, "prediction": {0: "batch"}}
                rows.append(cuda_pair("U-Net call batch 2", item.torch_modules["unet"],
                                      {"sample": rng.standard_normal(shape, dtype=np.float32),
                                       "timestep": np.array([500.0, 500.0], np.float32)},
                                      ["prediction"], axes, folder, sizes, 1, "calls/s", torch_missing))
        except Exception as exc:  # noqa: BLE001 - one failing GPU comparison must not hide the others
            rows.append(Row("gpu", f"{family}: failed", text=f"error: {str(exc).splitlines()[0][:200]}"))
    return rows


# --- the whole model section ----------------------------------------------------------------------------------------

def run_models(threads: int, sizes: Sizes, families: tuple[str, ...] = FAMILIES,
               log: Callable[[str], None] = print) -> tuple[list[Row], dict[str, Any]]:
    """All model rows (CPU, plus GPU rows when CUDA really runs) and a summary of how they were made."""
    torch_reason = torch_available()
    if torch_reason is None:
        import torch

        torch.set_num_threads(threads)
        # Untrained networks produce denormal floats, which slow PyTorch's CPU kernels about tenfold; onnxruntime's
        # kernels do not suffer from them, so flush them in PyTorch too (a common inference setting).
        torch.set_flush_denormal(True)
    rows: list[Row] = []
    info: dict[str, Any] = {"families": {}, "torch": torch_reason or "available",
                            "torch_flush_denormal": torch_reason is None}
    prepared: dict[str, Prepared] = {}
    with tempfile.TemporaryDirectory(prefix="genart-bench-") as tmp:
        workdir = Path(tmp)
        for family in families:
            log(f"[models] preparing {family} ...")
            try:
                item = prepare(family, workdir, threads, torch_reason)
            except Exception as exc:  # noqa: BLE001 - report the family as failed and go on
                rows.append(Row(family, "prepare model", text=f"failed: {str(exc).splitlines()[0][:200]}"))
                info["families"][family] = {"error": str(exc)}
                continue
            prepared[family] = item
            info["families"][family] = {"model_id": item.model_id, "weights": item.weights,
                                        "source": str(item.entry.folder) if item.weights != UNTRAINED else "temporary",
                                        "provider": item.registry.provider_choice().provider,
                                        "export_parity_max_abs_diff": item.parity}
            for bench in BENCHES[family]:
                log(f"[models] {family}: {bench.__name__} ...")
                try:
                    rows.extend(bench(item, sizes))
                except Exception as exc:  # noqa: BLE001
                    rows.append(Row(family, bench.__name__, item.weights,
                                    text=f"failed: {str(exc).splitlines()[0][:200]}"))
        probe = next((p.file(r) for p in prepared.values() for r in p.entry.roles), None)
        available, reason = cuda_status(threads, probe)
        info["cuda"] = {"available": available, "note": reason}
        if available:
            log("[models] CUDA runs here: GPU comparisons ...")
            rows.extend(gpu_rows(prepared, sizes, workdir, reason))
        for item in prepared.values():
            item.registry.release_all()
    info["provider"] = CPU
    return rows, info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small batches and images (a smoke run)")
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                        else (os.cpu_count() or 1))
    parser.add_argument("--families", default=",".join(FAMILIES))
    args = parser.parse_args(argv)
    families = tuple(f.strip() for f in args.families.split(",") if f.strip())
    bad = [f for f in families if f not in FAMILIES]
    if bad:
        parser.error(f"unknown families {', '.join(bad)}; choose from {', '.join(FAMILIES)}")
    sizes = Sizes.quick() if args.quick else Sizes()
    ceiling = gemm_ceiling(args.threads, sizes.ceiling_size)
    rows, info = run_models(args.threads, sizes, families, log=lambda m: print(m, file=sys.stderr))
    print(f"threads {args.threads}; numpy float32 GEMM ceiling {ceiling['best_gflops']:.1f} GFLOP/s; "
          f"CUDA: {'yes' if info['cuda']['available'] else 'unavailable (' + info['cuda']['note'] + ')'}\n")
    print(markdown_table(rows, ceiling["best_gflops"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
