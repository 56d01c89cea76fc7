"""``genart import-model PATH [--family F] [--id ID] [--name NAME]``: install a model from anywhere.

Reads the graph(s), guesses a card (workspace/model_import.py), runs the model once through the engine, prints what
it guessed and installs the folder into the per-user models folder, atomically: bad input is one line, exit 2, and
nothing written. ``--dry-run`` prints the guess and renders it without installing.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from genart_desktop.core.paths import user_models_dir
from genart_desktop.core.text import shown
from genart_desktop.workspace.model_import import IMPORT_FAMILIES, install, preview, propose

NAME = "import-model"
HELP = "Import an ONNX model (file or folder): guess its card, run it once, install it in the user models folder."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", type=Path, help="an .onnx file, a folder holding one, or an Optimum SD folder")
    parser.add_argument("--family", choices=IMPORT_FAMILIES, help="the model family (guessed when omitted)")
    parser.add_argument("--id", dest="model_id", help="the model id (default: from the file name)")
    parser.add_argument("--name", help="the display name")
    parser.add_argument("--dry-run", action="store_true", help="print the guess and run it; install nothing")


def run(args: argparse.Namespace) -> int:
    proposal = propose(args.path, args.family, args.model_id, args.name)
    print(f"{shown(proposal.source.name)}: {proposal.family} model '{shown(proposal.model_id)}' "
          f"({shown(str(proposal.card.get('name', '')))})")
    for note in proposal.notes:
        print(f"  {shown(note)}")
    if args.dry_run:
        pixels = preview(proposal)
        print(_rendered(pixels) + "; nothing installed (--dry-run).")
        return 0
    folder, pixels = install(proposal, user_models_dir())
    print(f"{_rendered(pixels)}; installed in {shown(str(folder))}")
    return 0


def _rendered(pixels: object) -> str:
    shape = getattr(pixels, "shape", None)
    return f"ran once: a {shape[1]}x{shape[0]} image" if shape else "checked (every component opens)"
