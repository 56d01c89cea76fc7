"""``genart generate``: diffusion images without a window, through the diffusion dock's own controller.

The options become the dock's :class:`DiffusionSettings`; the controller turns them into the same requests the dock
queues (``DiffusionController.jobs``) and the workspace runs them inline with the same executor, so a PNG written
here and a dock result with the same recipe are the same pixels. Every PNG carries its recipe (model id and hash,
seed, steps, sampler, guidance, prompt, regional prompts...) in a text chunk and is written atomically. All inputs
(model, images, region masks, control picture, size, settings) are checked before the first file is written; Ctrl+C cancels the
image in progress.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import sys
from pathlib import Path

import numpy as np

from genart_desktop.cli._output import free_png_path
from genart_desktop.core.errors import InputError
from genart_desktop.core.images import (
    flatten_alpha,
    open_image_rgba,
    resize,
    resize_mask,
)
from genart_desktop.core.text import shown
from genart_desktop.document.geometry import Rect
from genart_desktop.engine.control_maps import CONTROL_MODES
from genart_desktop.engine.pipelines.control import (
    MAX_CONTROL_STRENGTH,
    RecipeControl,
    check_strength,
)
from genart_desktop.engine.pipelines.limits import MAX_SEED, MAX_SIDE
from genart_desktop.engine.pipelines.regions import MAX_REGIONS, same_shape
from genart_desktop.engine.samplers import DEFAULT_SAMPLER, sampler_names
from genart_desktop.workspace.diffusion import DiffusionController, DiffusionJob
from genart_desktop.workspace.diffusion_control import control_from_pixels
from genart_desktop.workspace.diffusion_models import ModelInfo, diffusion_registry
from genart_desktop.workspace.diffusion_placement import (
    Placement,
    placed_pixels,
    working_size,
)
from genart_desktop.workspace.diffusion_regions import recipe_regions
from genart_desktop.workspace.diffusion_settings import (
    MAX_BATCH_COUNT,
    DiffusionSettings,
)
from genart_desktop.workspace.recipe_png import check_recipe, write_recipe_png
from genart_desktop.workspace.workspace import Workspace

NAME = "generate"
HELP = "Generate images with a diffusion model or a Stable Diffusion ONNX folder and write PNGs with their recipe."
MAX_COUNT = 1000


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
    parser.add_argument("--size", metavar="WxH",
                        help="output size (default: the model's, or the init image's); a size the model cannot "
                             "make is generated at one it can and scaled, never stretched")
    parser.add_argument("--fit", choices=("fit", "fill"), default="fit",
                        help="a fixed-size model's picture in another shape: fit inside (transparent margins) or "
                             "fill (crop)")
    parser.add_argument("--feather", type=int, default=8, metavar="PX", help="soft mask edge in pixels (--mask)")
    parser.add_argument("--region", action="append", default=[], metavar="MASK=PROMPT",
                        help="a regional prompt: white (opaque) pixels of the MASK image, which has the picture's "
                             f"shape, follow PROMPT; repeatable (at most {MAX_REGIONS})")
    parser.add_argument("--control", type=Path, metavar="IMAGE",
                        help="a control picture in the picture's shape (a model trained with --control follows it): "
                             "a line sketch or flat colour blocks, or a photo to derive them from (--control-mode)")
    parser.add_argument("--control-strength", type=float, default=1.0, metavar="S",
                        help=f"how strongly the control steers the picture, 0 to {MAX_CONTROL_STRENGTH:g} (default 1)")
    parser.add_argument("--control-mode", choices=CONTROL_MODES, default="sketch",
                        help="use the control image as drawn (sketch), or derive lines (edges) or colour blocks "
                             "from it")
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


def open_model(spec: str) -> tuple[DiffusionController, str]:
    """The dock's controller on a workspace of its own (no previews: nobody watches them), and the model id."""
    registry, model_id = diffusion_registry(spec)
    return DiffusionController(Workspace(registry), preview_every=0), model_id


def _load_mask(path: Path, size: tuple[int, int]) -> np.ndarray:
    rgba = open_image_rgba(path)
    if rgba.shape[1::-1] != size:
        rgba = resize(rgba, *size)
    grey = rgba[..., :3].astype(np.float32).mean(axis=2) / 255.0
    return grey * (rgba[..., 3].astype(np.float32) / 255.0)


def region_masks(specs: list[str], size: tuple[int, int]) -> list[tuple[np.ndarray, str]]:
    """(uint8 mask at ``size``, prompt) for each ``MASK=PROMPT``; a mask of another shape is refused."""
    if len(specs) > MAX_REGIONS:
        raise InputError(f"--region can be given at most {MAX_REGIONS} times, got {len(specs)}.")
    masks = []
    for spec in specs:
        path, equals, prompt = spec.partition("=")
        if not equals or not path or not prompt.strip():
            raise InputError(f"--region must look like MASK=PROMPT, got {shown(spec)!r}.")
        rgba = open_image_rgba(Path(path))
        if not same_shape((rgba.shape[1], rgba.shape[0]), size):
            raise InputError(f"{shown(Path(path).name)} is {rgba.shape[1]}x{rgba.shape[0]}, not the shape of the "
                             f"{size[0]}x{size[1]} picture; draw the region on a mask of that shape.")
        grey = rgba[..., :3].astype(np.float32).mean(axis=2) * (rgba[..., 3].astype(np.float32) / 255.0)
        masks.append((resize_mask(np.round(grey).astype(np.uint8), *size), prompt))
    return masks


def file_control(args: argparse.Namespace, info: ModelInfo, picture: tuple[int, int],
                 size: tuple[int, int]) -> RecipeControl | None:
    """The control of ``--control`` (an image in the ``picture``'s shape) for a ``size`` generation, or None."""
    if args.control is None:
        return None
    info.check_control(args.control)
    check_strength(args.control_strength)
    rgba = open_image_rgba(args.control)
    if not same_shape((rgba.shape[1], rgba.shape[0]), picture):
        raise InputError(f"{shown(args.control.name)} is {rgba.shape[1]}x{rgba.shape[0]}, not the shape of the "
                         f"{picture[0]}x{picture[1]} picture; draw the control in that shape or pass --size.")
    return control_from_pixels(rgba, size, args.control_mode, args.control_strength)


def plan(args: argparse.Namespace, info: ModelInfo, size: tuple[int, int] | None) -> tuple[
        tuple[int, int], np.ndarray | None, np.ndarray | None, Placement | None]:
    """(the size to generate at, init and mask at that size, how the result becomes the output). The model's own
    sizes decide the first; a different output size (``--size``, or the init image's) is reached by scaling the
    result, never by asking the graphs for a size they refuse."""
    if args.init is None:
        wanted = size or info.snap_size(*info.native_size)
        native = info.snap_size(*wanted)
        fit = args.fit if info.fixed_size is not None else "fill"
        return native, None, None, None if native == wanted else Placement(Rect(0, 0, *wanted), fit=fit)
    source = flatten_alpha(open_image_rgba(args.init))
    wanted = size or (source.shape[1], source.shape[0])
    source = source if source.shape[1::-1] == wanted else resize(source, *wanted)
    native = working_size(info, wanted, max(info.native_size)) if wanted != info.snap_size(*wanted) \
        else wanted
    init = resize(source, *native)
    selection = None if args.mask is None else np.round(_load_mask(args.mask, wanted) * 255).astype(np.uint8)
    mask = None if selection is None else _load_mask(args.mask, native)
    if native == wanted:
        return native, init, mask, None
    detail = 1.0 if selection is not None else float(args.strength)  # inpainting brings no old detail back
    return native, init, mask, Placement(Rect(0, 0, *wanted), selection, "region", source, detail,
                                         int(args.feather))


def settings_from_args(args: argparse.Namespace, info: ModelInfo, size: tuple[int, int]) -> DiffusionSettings:
    """The dock's settings for these options (the model's defaults where an option is left out)."""
    return DiffusionSettings(
        model_id=info.id, prompt=args.prompt, negative_prompt=args.negative, class_label=args.prompt,
        steps=args.steps if args.steps is not None else info.default_steps, sampler=args.sampler,
        guidance=float(args.guidance if args.guidance is not None else info.default_guidance), eta=float(args.eta),
        seed=args.seed if args.seed is not None else 0, seed_mode="random" if args.seed is None else "fixed",
        width=size[0], height=size[1], batch_count=min(args.count, MAX_BATCH_COUNT), strength=float(args.strength))


def run(args: argparse.Namespace) -> int:
    if not 1 <= args.count <= MAX_COUNT:
        raise InputError(f"-n must be between 1 and {MAX_COUNT}, got {args.count}.")
    if args.mask is not None and args.init is None:
        raise InputError("--mask needs --init: the image to paint into.")
    if not 0.0 <= args.strength <= 1.0:
        raise InputError(f"--strength must be between 0 and 1, got {args.strength}.")
    if args.seed is not None and not 0 <= args.seed <= MAX_SEED - args.count:
        raise InputError("--seed must be a non-negative whole number.")
    if args.outdir.exists() and not args.outdir.is_dir():
        raise InputError(f"{args.outdir} exists and is not a folder.")
    size = parse_size(args.size)
    controller, model_id = open_model(args.model)
    try:
        generate_all(args, controller, model_id, size)
    finally:
        controller.workspace.shutdown()
    return 0


def generate_all(args: argparse.Namespace, controller: DiffusionController, model_id: str,
                 size: tuple[int, int] | None) -> None:
    """Check the images and the settings, then make ``args.count`` images in batches of the dock's size."""
    info = controller.info(model_id)
    if not 0 <= args.feather <= 128:
        raise InputError(f"--feather must be between 0 and 128 pixels, got {args.feather}.")
    size, init, mask, placement = plan(args, info, size)
    mode = "inpaint" if mask is not None else "img2img" if init is not None else "txt2img"
    settings = settings_from_args(args, info, size)
    picture = placement or Placement(Rect(0, 0, *size))  # the output picture, which the masks describe
    regions = recipe_regions(region_masks(args.region, (picture.rect.width, picture.rect.height)), picture, size)
    control = file_control(args, info, (picture.rect.width, picture.rect.height), size)
    jobs, _shown = controller.jobs(settings, mode, size, init, mask, regions=regions, control=control)  # all checked
    check_recipe(jobs[0].recipe)  # what the PNG will carry (the others differ only in the seed)
    controller.generator(model_id)  # a model that cannot load is refused before the folder is made
    args.outdir.mkdir(parents=True, exist_ok=True)
    stem_base = re.sub(r"[^A-Za-z0-9._-]+", "-", model_id)[:40] or "image"
    for index in range(args.count):
        if index and index % MAX_BATCH_COUNT == 0:  # the next batch of requests, seeds continuing
            settings = dataclasses.replace(settings, seed=jobs[-1].recipe.seed + 1, seed_mode="fixed",
                                           batch_count=min(args.count - index, MAX_BATCH_COUNT))
            jobs, _shown = controller.jobs(settings, mode, size, init, mask, regions=regions, control=control)
        write_image(controller, jobs[index % MAX_BATCH_COUNT], args.outdir, stem_base, placement)


def write_image(controller: DiffusionController, job: DiffusionJob, outdir: Path, stem: str,
                placement: Placement | None = None) -> Path:
    """Run one request inline, as the dock's worker would, and write its PNG with the recipe (scaled to the
    output size by ``placement``; an inpainted picture is laid over its source)."""
    seed = job.recipe.seed
    output = controller.workspace.run(job, f"Diffusion: seed {seed}")  # Ctrl+C cancels it: no file is written
    pixels = output.pixels
    if placement is not None:
        pixels = placed_pixels(pixels, placement, controller.scale)
        if placement.source is not None:
            alpha = pixels[..., 3:].astype(np.float32) / 255.0
            mixed = pixels[..., :3] * alpha + placement.source[..., :3] * (1.0 - alpha)
            pixels = np.clip(np.round(mixed), 0, 255).astype(np.uint8)
    path = free_png_path(outdir, f"{stem}-{seed}")
    write_recipe_png(path, pixels, output.recipe)
    print(f"wrote {path} (seed {seed})", file=sys.stderr)
    return path
