"""``genart upscale``: enlarge image files x2/x4 with an upscaler model, without a window.

Each file becomes the same :class:`~genart_desktop.workspace.upscale.UpscaleRequest` the app builds, run inline by
the workspace with the app's executor, so the pixels are the app's. Every input is decoded and the model loaded
before the first file is written; each result is a PNG ``OUTDIR/<name>-x<scale>.png`` (alpha kept, never
overwriting: ``-1``, ``-2`` ... are appended), written atomically.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from genart_desktop.cli._output import free_png_path, png_bytes
from genart_desktop.core.atomic import atomic_write_bytes
from genart_desktop.core.errors import InputError
from genart_desktop.core.images import open_image_rgba
from genart_desktop.core.text import shown
from genart_desktop.engine.pipelines.upscale_ensemble import SIZES as ENSEMBLE_SIZES
from genart_desktop.workspace.upscale import SCALES, UpscaleController, UpscaleRequest, open_upscaler
from genart_desktop.workspace.workspace import Workspace

NAME = "upscale"
HELP = "Enlarge image files 2x or 4x with an upscaler model (tiled, any size, alpha kept) and write PNGs."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, metavar="ID", help="an upscaler model id from `genart models`")
    parser.add_argument("--scale", type=int, default=None, choices=SCALES,
                        help="enlargement factor (default: the model's)")
    parser.add_argument("--tile", type=int, default=None, help="tile size in input pixels (default: the model's)")
    parser.add_argument("--ensemble", type=int, default=None, choices=ENSEMBLE_SIZES,
                        help="network runs per tile, flipped and transposed and averaged: sharper, that many times "
                             "slower (default: the model's card; 1 is the fastest)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    parser.add_argument("paths", nargs="+", type=Path, metavar="IN... OUTDIR",
                        help="input images, then the output folder (created if missing)")


def run(args: argparse.Namespace) -> int:
    if len(args.paths) < 2:
        raise InputError("Give at least one input image and then the output folder.")
    *inputs, outdir = args.paths
    if outdir.exists() and not outdir.is_dir():
        raise InputError(f"{shown(outdir)} exists and is not a folder; the last argument must be the output folder.")
    missing = [shown(p) for p in inputs if not p.is_file()]
    if missing:
        raise InputError(f"Cannot find {', '.join(missing)}; nothing was written.")
    for path in inputs:  # decode everything up front, so a broken file stops the batch before any output
        try:
            open_image_rgba(path)
        except InputError as exc:
            raise InputError(f"{exc} Nothing was written.") from exc
    workspace = Workspace(name="genart-upscale")
    try:
        controller = UpscaleController(workspace)
        pipeline = open_upscaler(workspace.registry, args.model, args.tile, args.ensemble)  # a bad model stops here
        scale = args.scale or pipeline.scale
        if scale not in SCALES:
            raise InputError(f"{shown(args.model)} enlarges {pipeline.scale}x; choose --scale 2 or 4.")
        outdir.mkdir(parents=True, exist_ok=True)
        _upscale_files(controller, inputs, outdir, scale, args)
    finally:
        workspace.shutdown()
    return 0


def _upscale_files(controller: UpscaleController, inputs: list[Path], outdir: Path, scale: int,
                   args: argparse.Namespace) -> None:
    taken: set[Path] = set()
    began = time.perf_counter()
    for path in inputs:
        request = UpscaleRequest(args.model, scale, open_image_rgba(path), args.tile, source=path.name,
                                 ensemble=args.ensemble)
        result = controller.workspace.run(request, request.label)
        target = free_png_path(outdir, f"{path.stem}-x{scale}", taken)
        atomic_write_bytes(target, png_bytes(result.pixels))
        if not args.quiet:
            print(f"{shown(path.name)} -> {shown(target.name)} ({result.pixels.shape[1]}x{result.pixels.shape[0]})",
                  file=sys.stderr)
    if not args.quiet:
        print(f"Upscaled {len(inputs)} image(s) {scale}x with {shown(args.model)} into {shown(outdir)} in "
              f"{time.perf_counter() - began:.1f} s.", file=sys.stderr)
