"""``genart-train style``: train a fast style network from one style image and a folder of content photos, then
(with ``--out``) export it as a model folder the app loads. ``--export RUN`` exports an existing run only."""

from __future__ import annotations

import argparse

from genart_desktop.training.style.config import StyleConfig

NAME = "style"
HELP = ("Train a fast style network (one style image, a folder of content photos) and export it to ONNX "
        "with a model card.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from genart_desktop.training.config import add_training_arguments

    add_training_arguments(parser, StyleConfig)
    parser.add_argument("--content", dest="data", default=argparse.SUPPRESS, metavar="DIR",
                        help="folder of content photos (same as --data)")
    parser.add_argument("--out", metavar="MODEL_DIR", help="after training, export the model folder here "
                        "(e.g. models/style-starry-night or $GENART_HOME/models/...)")
    parser.add_argument("--export", metavar="RUN_DIR", help="only export this finished run (to --out or "
                        "RUN_DIR/export/ID)")
    parser.add_argument("--id", dest="model_id", help="model id for the card (default: style-<style file name>)")
    parser.add_argument("--name", help="display name for the card")
    parser.add_argument("--license", dest="license_text", help="licence text for the card (default: built from "
                        "PROVENANCE.md / photos.csv beside the data)")
    parser.add_argument("--thumbnail", metavar="PHOTO", help="photo the thumbnail is rendered from")
    parser.add_argument("--default-scale", type=float, metavar="S",
                        help="brush scale the app starts with for this style (default 1; a network trained on "
                             "128 px crops looks best at about 2 on canvases around 1000 px)")


def _export(run_dir: str, args: argparse.Namespace) -> int:
    from genart_desktop.training.style.export import export_style_run

    dest, card = export_style_run(run_dir, args.out, args.model_id, args.name, args.license_text, args.thumbnail,
                                   args.default_scale)
    parity = card["metrics"]["parity_max_abs_diff"]["stylizer"]
    print(f"Exported {card['id']} to {dest} (ONNX vs PyTorch max abs difference {parity:.2g}).")
    return 0


def run(args: argparse.Namespace) -> int:
    if args.export:
        return _export(args.export, args)
    from genart_desktop.training.launch import launch
    from genart_desktop.training.style.trainer import StyleTrainer

    made: list[StyleTrainer] = []

    def build(*parts):  # noqa: ANN002, ANN202 - same signature as the trainer class
        trainer = StyleTrainer(*parts)
        made.append(trainer)
        return trainer

    status = launch(args, StyleConfig, build)
    if status == 0 and args.out and made and made[0].run is not None and not getattr(args, "dry_run", False):
        return _export(str(made[0].run.path), args)
    return status
