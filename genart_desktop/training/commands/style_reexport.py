"""``genart-train style-reexport MODEL_DIR...``: re-export style model folders into the current export graph from
their own ONNX weights (no retraining), checked against the previous graph on photos."""

from __future__ import annotations

import argparse

NAME = "style-reexport"
HELP = "Re-export style model folders into the current (faster) graph from their own weights; parity-checked."
PHOTOS = 4


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folders", metavar="MODEL_DIR", nargs="+", help="style model folders (changed in place)")
    parser.add_argument("--photos", metavar="DIR", required=True, help="photos to compare the old and new graphs on")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from genart_desktop.core.errors import InputError
    from genart_desktop.core.text import shown
    from genart_desktop.training.style.reexport import reexport_style_folder
    from genart_desktop.training.style.sources import IMAGE_SUFFIXES

    folder = Path(args.photos)
    photos = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)[:PHOTOS] \
        if folder.is_dir() else []
    if not photos:
        raise InputError(f"No photos in {shown(str(folder))}.")
    for model in args.folders:
        card = reexport_style_folder(model, photos)
        metrics = card["metrics"]
        print(f"{shown(card['id'])}: re-exported; max difference to the previous graph "
              f"{metrics['reexport_max_abs_diff_vs_previous_graph']:.2e}, to PyTorch "
              f"{metrics['parity_max_abs_diff']['stylizer']:.2e}; "
              f"{card['config'].get('activation_bytes_per_pixel', '?')} bytes per pixel")
    return 0
