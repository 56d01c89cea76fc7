"""``genart-train evaluate MODEL_DIR --data DATASET``: prompt adherence, diversity and memorisation of a model."""

from __future__ import annotations

import argparse
import json

NAME = "evaluate"
HELP = ("Measure an exported conditioned diffusion model in onnxruntime: prompt adherence judged by a classifier "
        "trained on the dataset's categories, diversity ratio and nearest-training-image distance.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model_dir", metavar="MODEL_DIR", help="an exported model folder (model.json + ONNX)")
    parser.add_argument("--data", required=True, help="the dataset it was trained on (with category labels)")
    parser.add_argument("--per-label", type=int, default=16, help="prompts (and images) per category")
    parser.add_argument("--steps", type=int, default=None, help="sampling steps (default: the card's)")
    parser.add_argument("--guidance", type=float, default=None, help="guidance scale (default: the card's)")
    parser.add_argument("--sampler", default="dpmpp_2m", help="sampler name")
    parser.add_argument("--seed", type=int, default=0, help="seed of prompts, images and the judge")
    parser.add_argument("--grid", metavar="PNG", help="also write the generated images, a row per category")
    parser.add_argument("--write-card", action="store_true", help="record the result in the card's metrics")
    parser.add_argument("--prompt-sheet", metavar="PNG", help="also write a labelled sheet: a row per --prompts")
    parser.add_argument("--prompts", nargs="+", default=["red heart", "cat face", "sun", "pizza", "rocket"],
                        metavar="TEXT", help="prompts of the prompt sheet")
    parser.add_argument("--columns", type=int, default=6, help="seeds per prompt on the prompt sheet")


def run(args: argparse.Namespace) -> int:
    from genart_desktop.core.errors import InputError
    from genart_desktop.training.data.cached import ImageDataset
    from genart_desktop.training.evaluation.diffusion_quality import (
        evaluate_diffusion,
        load_model,
        record_in_card,
    )
    from genart_desktop.training.grid import save_grid

    if args.per_label < 1:
        raise InputError("--per-label must be at least 1.")
    model = load_model(args.model_dir)
    dataset = ImageDataset.load(args.data)
    quality, images, _rows = evaluate_diffusion(model, dataset, args.per_label, args.steps, args.guidance,
                                                args.sampler, args.seed)
    if args.grid:
        save_grid(args.grid, images, columns=args.per_label)
    if args.prompt_sheet:
        import io

        from genart_desktop.core.atomic import atomic_write_bytes
        from genart_desktop.training.evaluation.diffusion_quality import prompt_sheet

        buffer = io.BytesIO()
        prompt_sheet(model, args.prompts, args.columns, args.seed, steps=args.steps,
                     guidance=args.guidance).save(buffer, "PNG")
        atomic_write_bytes(args.prompt_sheet, buffer.getvalue())
    if args.write_card:
        record_in_card(args.model_dir, quality)
    summary = quality.to_dict()
    summary.pop("prompts")
    print(json.dumps(summary, indent=2))
    return 0
