"""``genart --export --export-filename OUT IN``: convert between .ora and flat images without a window.

Krita's command-line export, for scripts and batch jobs. The output format follows OUT's extension: .ora keeps the
layers; .png/.jpg/.jpeg/.webp flatten. Errors print one line and exit non-zero, and nothing is written.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from genart_desktop.core.errors import InputError
from genart_desktop.core.text import shown

NAME = "export"
HELP = "Convert IN (.ora, PNG, JPEG, WebP, TIFF, BMP) to OUT (.ora, .png, .jpg, .webp) without opening a window."

OUTPUT_EXTENSIONS = (".ora", ".png", ".jpg", ".jpeg", ".webp")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", metavar="IN", help="the file to convert")
    parser.add_argument("--export-filename", required=True, metavar="OUT",
                        help="where to write; the extension picks the format")
    parser.add_argument("--quality", type=int, default=95, help="JPEG/WebP quality 1-100 (100 = lossless WebP)")


def run(args: argparse.Namespace) -> int:
    from genart_desktop.document.io.ora import save_ora
    from genart_desktop.document.io.raster import export_flat, open_document

    source = Path(args.input)
    target = Path(args.export_filename)
    if target.suffix.lower() not in OUTPUT_EXTENSIONS:
        raise InputError(f"Cannot export to {shown(target.name)}: use one of {', '.join(OUTPUT_EXTENSIONS)}.")
    if not 1 <= args.quality <= 100:
        raise InputError(f"Quality must be from 1 to 100, got {args.quality}.")
    if not target.parent.is_dir():
        raise InputError(f"Cannot export to {shown(target)}: the folder {shown(target.parent)} does not exist.")
    doc = open_document(source)
    if target.suffix.lower() == ".ora":
        save_ora(doc, target)
    else:
        export_flat(doc, target, quality=args.quality)
    print(f"Exported {shown(source.name)} ({doc.width}x{doc.height}, {len(doc.layers)} layer"
          f"{'s' if len(doc.layers) != 1 else ''}) to {shown(target)}")
    return 0
