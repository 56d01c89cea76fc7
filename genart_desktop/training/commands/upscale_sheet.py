"""``genart-train upscale-sheet OUT.png --model ID --photos PHOTO... [--small IMAGE...]``: Lanczos | ours | original."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "upscale-sheet"
HELP = ("Compare an upscaler with Lanczos on crops of photos (downscaled, then enlarged back) and on small pictures "
        "(e.g. 64 px generated emoji), through the app's pipeline; saves one sheet: Lanczos | ours | original.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out", type=Path, metavar="OUT.png", help="the sheet to write")
    parser.add_argument("--model", required=True, metavar="ID", help="upscaler model id")
    parser.add_argument("--photos", nargs="*", default=[], type=Path, metavar="PHOTO", help="photos (centre crops)")
    parser.add_argument("--small", nargs="*", default=[], type=Path, metavar="IMAGE",
                        help="small pictures enlarged as they are (their original column is a nearest enlargement)")
    parser.add_argument("--crop", type=int, default=192, help="side of the photo crops in pixels (default 192)")
    parser.add_argument("--models-dir", type=Path, help="folder of model folders (default: the app's)")


def run(args: argparse.Namespace) -> int:
    from genart_desktop.core.atomic import atomic_write_bytes
    from genart_desktop.core.errors import InputError
    from genart_desktop.core.images import flatten_alpha, open_image_rgba
    from genart_desktop.engine.registry import ModelRegistry
    from genart_desktop.training.upscale.measure import centre_crop, load_photo, render_sheet, sheet_rows
    from genart_desktop.workspace.upscale import open_upscaler

    if not args.photos and not args.small:
        raise InputError("Give --photos or --small pictures to show.")
    if not 32 <= args.crop <= 1024:
        raise InputError("--crop must be between 32 and 1024.")
    roots = [(args.models_dir, "builtin")] if args.models_dir else None
    pipeline = open_upscaler(ModelRegistry(roots=roots, settings={"execution_provider": "cpu"}), args.model)
    photos = [centre_crop(load_photo(path, pipeline.scale), args.crop // pipeline.scale * pipeline.scale)
              for path in args.photos]
    small = [flatten_alpha(open_image_rgba(path)) for path in args.small]
    atomic_write_bytes(args.out, render_sheet(sheet_rows(pipeline, photos, small)))
    print(f"Wrote {args.out}.")
    return 0
