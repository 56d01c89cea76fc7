"""``genart-train contact-sheet OUT.png --models ID... --photos PHOTO...``: style networks side by side."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "contact-sheet"
HELP = "Render style models on photos (rows) through the app's style pipeline and save one comparison image."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out", type=Path, metavar="OUT.png", help="the sheet to write")
    parser.add_argument("--models", nargs="+", required=True, metavar="ID", help="style model ids")
    parser.add_argument("--photos", nargs="+", required=True, type=Path, metavar="PHOTO", help="content photos")
    parser.add_argument("--models-dir", type=Path, help="folder of model folders (default: the app's)")
    parser.add_argument("--cell", type=int, default=192, help="row height in pixels (default 192)")
    parser.add_argument("--scale", type=float, default=None, help="brush scale (default: each card's)")


def run(args: argparse.Namespace) -> int:
    import io

    from genart_desktop.core.atomic import atomic_write_bytes
    from genart_desktop.core.errors import InputError
    from genart_desktop.engine.registry import ModelRegistry
    from genart_desktop.training.evaluation.contact_sheet import render_sheet

    if not 32 <= args.cell <= 1024:
        raise InputError("--cell must be between 32 and 1024.")
    for photo in args.photos:
        if not photo.is_file():
            raise InputError(f"The photo {photo} does not exist.")
    roots = [(args.models_dir, "builtin")] if args.models_dir else None
    registry = ModelRegistry(roots=roots, settings={"execution_provider": "cpu"})
    sheet = render_sheet(args.photos, args.models, registry, args.cell, args.scale)
    buffer = io.BytesIO()
    sheet.save(buffer, "PNG", optimize=True)
    atomic_write_bytes(args.out, buffer.getvalue())
    print(f"Wrote {args.out} ({sheet.width}x{sheet.height}).")
    return 0
