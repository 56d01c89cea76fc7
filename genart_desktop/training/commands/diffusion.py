"""``genart-train diffusion DATASET_DIR``: train a DDPM U-Net (pixel or VAE-latent space, optionally conditioned on
class labels or captions), and ``--export RUN_DIR OUT`` to write the app's ONNX model folder from a run."""

from __future__ import annotations

import argparse

from genart_desktop.training.config import add_training_arguments
from genart_desktop.training.diffusion.config import DiffusionConfig

NAME = "diffusion"
HELP = ("Train a diffusion U-Net (DDPM, linear or cosine schedule, eps or v prediction, optional class/text "
        "conditioning with classifier-free guidance, optional VAE latent space) and export it to ONNX.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dataset", metavar="DATASET_DIR", nargs="?", default=argparse.SUPPRESS,
                        help="dataset folder (or plain image folder); same as --data")
    add_training_arguments(parser, DiffusionConfig)
    parser.add_argument("--export", metavar="RUN_DIR",
                        help="instead of training: export RUN_DIR's EMA U-Net as a model folder for the app "
                             "(the same as `genart-train export RUN_DIR`)")
    parser.add_argument("--out", metavar="DIR", help="model folder for --export (default: RUN_DIR/export/ID)")
    parser.add_argument("--id", dest="model_id", help="model id for --export (default: from the run folder)")
    parser.add_argument("--name", dest="model_name", help="display name for --export")
    parser.add_argument("--description", dest="model_description", help="card description for --export")


def run(args: argparse.Namespace) -> int:
    if getattr(args, "export", None):
        from genart_desktop.training.diffusion.export import export_run

        result = export_run(args.export, args.out, model_id=args.model_id, name=args.model_name,
                            description=args.model_description)
        print(f"Exported {result.card['id']} to {result.folder} (parity max abs diff "
              f"{result.parity['unet']:.2g}).")
        return 0
    if hasattr(args, "dataset"):
        if getattr(args, "data", None) not in (None, args.dataset):
            from genart_desktop.core.errors import InputError

            raise InputError("Give the dataset either as DATASET_DIR or as --data, not both.")
        args.data = args.dataset
    from genart_desktop.training.diffusion.trainer import DiffusionTrainer
    from genart_desktop.training.launch import launch

    return launch(args, DiffusionConfig, DiffusionTrainer)
