"""``genart-train export RUN_DIR``: ONNX files checked against PyTorch, plus the model.json card."""

from __future__ import annotations

import argparse

from genart_desktop.engine.pipelines.upscale_ensemble import SIZES as ENSEMBLE_SIZES

NAME = "export"
HELP = "Export a GAN, VAE or diffusion run to ONNX, check parity with PyTorch in onnxruntime, and write its model card."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", metavar="RUN_DIR", help="a run folder made by genart-train gan/vae/diffusion")
    parser.add_argument("--out", metavar="DIR", help="model folder to write (default: RUN_DIR/export/ID)")
    parser.add_argument("--fp16", action="store_true", help="fp16 weights (half the size; looser parity bound)")
    parser.add_argument("--id", dest="model_id", help="model id: lower-case letters, digits, . _ -")
    parser.add_argument("--name", help="display name")
    parser.add_argument("--description", help="one or two sentences for the app")
    parser.add_argument("--license", dest="license_text", help="licence text (default: the dataset's)")
    parser.add_argument("--truncation", type=float, default=1.0,
                        help="GAN: recommended truncation psi recorded in the card (default: 1.0)")
    parser.add_argument("--self-ensemble", type=int, default=1, choices=ENSEMBLE_SIZES,
                        help="upscaler: network runs per tile (flipped, transposed, averaged) the card asks the app "
                             "for; the held-out photos are measured with and without (default: 1)")


def run(args: argparse.Namespace) -> int:
    from genart_desktop.training.export.exporter import export_run

    result = export_run(args.run_dir, args.out, args.fp16, args.model_id, args.name, args.description,
                        args.license_text, args.truncation, args.self_ensemble)
    diffs = ", ".join(f"{role} {value:.2g}" for role, value in result.parity.items())
    print(f"Exported {result.card['id']} to {result.folder} (parity max abs diff: {diffs}).")
    return 0
