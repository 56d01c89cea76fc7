"""``genart generate``: diffusion images without a window, through the same pipelines as the diffusion panel.

Every PNG carries its recipe (model id and hash, seed, steps, sampler, guidance, prompt...) in a text chunk and is
written atomically. All inputs (model, images, size) are checked before the first file is written.
"""

from __future__ import annotations

import argparse
import re
import secrets
import sys
from pathlib import Path
from typing import Any

import numpy as np

from genart_desktop.core.atomic import atomic_write_bytes
from genart_desktop.core.errors import InputError, ModelError
from genart_desktop.core.images import flatten_alpha, open_image_rgba, resize, to_tensor
from genart_desktop.engine.pipelines.recipe import Recipe, encode_png
from genart_desktop.engine.samplers import DEFAULT_SAMPLER, sampler_names

NAME = "generate"
HELP = "Generate images with a diffusion model or a Stable Diffusion ONNX folder and write PNGs with their recipe."
MAX_COUNT = 1000
MAX_SIDE = 4096


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, metavar="ID|PATH",
                        help="a model id from `genart models`, or the path of a Stable Diffusion ONNX folder")
    parser.add_argument("--prompt", default="", help="text prompt (or class name for class-conditioned models)")
    parser.add_argument("--negative", default="", metavar="TEXT", help="negative prompt")
    parser.add_argument("--seed", type=int, default=None, help="first seed (image i uses seed + i); random if omitted")
    parser.add_argument("--steps", type=int, default=None, help="sampling steps (model default if omitted)")
    parser.add_argument("--sampler", default=DEFAULT_SAMPLER, choices=sampler_names(), help="sampler")
    parser.add_argument("--eta", type=float, default=0.0, help="DDIM eta (0 = deterministic)")
    parser.add_argument("--guidance", type=float, default=None, help="classifier-free guidance scale")
    parser.add_argument("--init", type=Path, metavar="IMAGE", help="start from this image (image-to-image)")
    parser.add_argument("--strength", type=float, default=0.75, help="how much of the init image to change (0-1)")
    parser.add_argument("--mask", type=Path, metavar="IMAGE",
                        help="inpaint: white (opaque) pixels are repainted, black or transparent ones kept")
    parser.add_argument("--size", metavar="WxH", help="output size (default: the model's, or the init image's)")
    parser.add_argument("-n", "--count", type=int, default=1, help="number of images")
    parser.add_argument("outdir", type=Path, metavar="OUTDIR", help="folder for the PNGs (created if missing)")


def parse_size(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    match = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text)
    if not match:
        raise InputError(f"--size must look like 512x512, got {text!r}.")
    width, height = int(match.group(1)), int(match.group(2))
    if not (8 <= width <= MAX_SIDE and 8 <= height <= MAX_SIDE):
        raise InputError(f"--size must be between 8 and {MAX_SIDE} pixels per side, got {width}x{height}.")
    return width, height


def load_model(spec: str) -> tuple[Any, str]:
    """(generator, model id) for a registry id or a Stable Diffusion folder path."""
    from genart_desktop.engine.sd import StableDiffusionOnnx, is_sd_folder

    path = Path(spec).expanduser()
    if path.is_dir():
        if not is_sd_folder(path):
            raise ModelError(f"{path} is not a Stable Diffusion ONNX folder (model_index.json and unet/model.onnx); "
                             "put your own models in the models folder and pass their id.")
        return StableDiffusionOnnx.load(path), path.resolve().name
    from genart_desktop.engine.registry import ModelRegistry

    registry = ModelRegistry()
    entry = registry.get(spec)
    if entry.family == "sd-onnx":
        return StableDiffusionOnnx.load(entry.folder, registry.settings), entry.id
    if entry.family != "diffusion":
        raise ModelError(f"Model '{spec}' is a {entry.family} model; `genart generate` needs a diffusion model.")
    from genart_desktop.engine.pipelines.diffusion_model import CardDiffusionModel

    return CardDiffusionModel.from_registry(registry, spec), entry.id


def _factor(model: Any) -> int:
    codec = getattr(model, "codec", None)
    return int(getattr(codec, "factor", 1)) if codec is not None else 1


def _load_rgb(path: Path, size: tuple[int, int]) -> np.ndarray:
    pixels = flatten_alpha(open_image_rgba(path))
    return resize(pixels, *size) if pixels.shape[1::-1] != size else pixels


def _load_mask(path: Path, size: tuple[int, int]) -> np.ndarray:
    rgba = open_image_rgba(path)
    if rgba.shape[1::-1] != size:
        rgba = resize(rgba, *size)
    grey = rgba[..., :3].astype(np.float32).mean(axis=2) / 255.0
    return grey * (rgba[..., 3].astype(np.float32) / 255.0)


def _free_path(outdir: Path, stem: str) -> Path:
    path = outdir / f"{stem}.png"
    counter = 1
    while path.exists():
        path = outdir / f"{stem}-{counter}.png"
        counter += 1
    return path


def run(args: argparse.Namespace) -> int:
    if not 1 <= args.count <= MAX_COUNT:
        raise InputError(f"-n must be between 1 and {MAX_COUNT}, got {args.count}.")
    if args.mask is not None and args.init is None:
        raise InputError("--mask needs --init: the image to paint into.")
    if not 0.0 <= args.strength <= 1.0:
        raise InputError(f"--strength must be between 0 and 1, got {args.strength}.")
    if args.seed is not None and not 0 <= args.seed <= 2**63 - 1 - args.count:
        raise InputError("--seed must be a non-negative whole number.")
    if args.outdir.exists() and not args.outdir.is_dir():
        raise InputError(f"{args.outdir} exists and is not a folder.")
    size = parse_size(args.size)
    model, model_id = load_model(args.model)
    factor = _factor(model)

    init = mask = None
    if args.init is not None:
        if size is None:
            w, h = open_image_rgba(args.init).shape[1::-1]
            size = (max(factor, w // factor * factor), max(factor, h // factor * factor))
        init = to_tensor(_load_rgb(args.init, size))
        if args.mask is not None:
            mask = _load_mask(args.mask, size)
    if size is None:
        native = getattr(model, "resolution", None) or (model.native_size, model.native_size)
        size = (int(native[0]), int(native[1]))
    if size[0] % factor or size[1] % factor:
        raise InputError(f"This model needs a width and height divisible by {factor}, got {size[0]}x{size[1]}.")

    seed = args.seed if args.seed is not None else secrets.randbelow(2**32)
    mode = "inpaint" if mask is not None else "img2img" if init is not None else "txt2img"
    args.outdir.mkdir(parents=True, exist_ok=True)
    stem_base = re.sub(r"[^A-Za-z0-9._-]+", "-", model_id)[:40] or "image"
    for index in range(args.count):
        image_seed = seed + index
        kwargs: dict[str, Any] = {"steps": args.steps, "sampler": args.sampler, "seed": image_seed,
                                  "width": size[0], "height": size[1], "eta": args.eta, "init_image": init,
                                  "strength": args.strength, "mask": mask}
        if args.guidance is not None:
            kwargs["guidance"] = args.guidance
        if kwargs["steps"] is None:
            kwargs["steps"] = getattr(model, "default_steps", 25)
        result = model.generate(args.prompt, args.negative, **kwargs)
        recipe = Recipe(
            model_id=model_id, model_hash=str(getattr(model, "fingerprint", "")), seed=image_seed,
            steps=int(kwargs["steps"]), sampler=args.sampler,
            guidance=float(kwargs.get("guidance", getattr(model, "default_guidance", 7.5))),
            prompt=args.prompt, negative_prompt=args.negative, width=size[0], height=size[1],
            strength=float(args.strength) if init is not None else 1.0, mode=mode, eta=float(args.eta))
        path = _free_path(args.outdir, f"{stem_base}-{image_seed}")
        atomic_write_bytes(path, encode_png(result.pixels()[0], recipe))
        print(f"wrote {path} (seed {image_seed})", file=sys.stderr)
    return 0
