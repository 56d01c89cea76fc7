"""``genart-train evaluate MODEL_DIR --data DATASET``: prompt adherence, diversity and memorisation of a model."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

NAME = "evaluate"
HELP = ("Measure an exported model in onnxruntime against the dataset it was trained on: for a conditioned "
        "diffusion model, prompt adherence judged by a classifier trained on the dataset's categories; for it and "
        "for a GAN, the diversity ratio and the nearest-training-image distance.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model_dir", metavar="MODEL_DIR", help="an exported model folder (model.json + ONNX)")
    parser.add_argument("--data", required=True, help="the dataset it was trained on (with category labels)")
    parser.add_argument("--per-label", type=int, default=16, help="diffusion: prompts (and images) per category")
    parser.add_argument("--samples", type=int, default=512, help="GAN: how many images to generate")
    parser.add_argument("--truncation", type=float, default=None,
                        help="GAN: truncation psi of the samples (default: the card's)")
    parser.add_argument("--steps", type=int, default=None, help="sampling steps (default: the card's)")
    parser.add_argument("--guidance", type=float, default=None, help="guidance scale (default: the card's)")
    parser.add_argument("--sampler", default="dpmpp_2m", help="sampler name")
    parser.add_argument("--seed", type=int, default=0, help="seed of prompts, images and the judge")
    parser.add_argument("--grid", metavar="PNG", help="also write the generated images (diffusion: a row per "
                                                      "category; GAN: the first 64)")
    parser.add_argument("--grid-scale", type=int, default=1, choices=range(1, 9), metavar="N",
                        help="enlarge each image of the grid N times (nearest; default 1)")
    parser.add_argument("--against", metavar="MODEL_DIR",
                        help="diffusion: also judge this model on the same prompts, seeds and judge, and report the "
                             "paired difference in prompt adherence with its standard error")
    parser.add_argument("--write-card", action="store_true", help="record the result in the card's metrics")
    parser.add_argument("--prompt-sheet", metavar="PNG", help="also write a labelled sheet: a row per --prompts")
    parser.add_argument("--prompts", nargs="+", default=["red heart", "cat face", "sun", "pizza", "rocket"],
                        metavar="TEXT", help="prompts of the prompt sheet")
    parser.add_argument("--columns", type=int, default=6, help="seeds per prompt on the prompt sheet")
    parser.add_argument("--within-seeds", type=int, default=16, metavar="N",
                        help="diffusion: seeds of one prompt per category for the within-prompt diversity figure "
                             "(0 leaves it out; default 16)")
    parser.add_argument("--controls", metavar="DATASET",
                        help="control models: pictures held out from training to make the controls from (default: "
                             "--data, recorded as not held out)")
    parser.add_argument("--control-count", type=int, default=32, help="control models: pictures to measure")
    parser.add_argument("--control-strength", type=float, default=1.0, help="control models: the control strength")
    parser.add_argument("--control-sheet", metavar="PNG",
                        help="control models: also write a sheet of rows picture | control | output")
    parser.add_argument("--control-rows", type=int, default=8, help="control models: rows of the control sheet")
    parser.add_argument("--styles", metavar="DIR", help="style-arbitrary: the folder of paintings (trained and "
                                                        "held-out styles are told apart by the card)")
    parser.add_argument("--blend-strip", metavar="PNG", help="style-arbitrary: also write a strip blending the "
                                                             "first two --blend paintings in five steps")
    parser.add_argument("--blend", nargs=2, metavar="FILE", default=["van_gogh_starry_night.jpg",
                                                                    "hokusai_great_wave_off_kanagawa.jpg"],
                        help="style-arbitrary: the two paintings (file names in --styles) of the blend strip")


def _card(model_dir: str) -> dict[str, Any]:
    """The folder's model card as a dict (read once per command)."""
    from pathlib import Path

    from genart_desktop.core.errors import InputError

    card = Path(model_dir) / "model.json"
    try:
        data = json.loads(card.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{model_dir} has no readable model card ({card.name}): {exc}") from exc
    if not isinstance(data, dict):
        raise InputError(f"{model_dir} has no readable model card ({card.name}): not a JSON object")
    return data


def run_generator(args: argparse.Namespace) -> int:
    from genart_desktop.core.errors import InputError
    from genart_desktop.training.data.cached import ImageDataset
    from genart_desktop.training.evaluation.card_metrics import record_quality
    from genart_desktop.training.evaluation.generator_quality import (
        evaluate_generator,
        load_generator,
    )
    from genart_desktop.training.grid import save_grid

    space, card_psi = load_generator(args.model_dir)
    psi = card_psi if args.truncation is None else args.truncation
    if not 0.0 < psi <= 1.0:
        raise InputError(f"--truncation must be in (0, 1], not {psi}.")
    quality, images = evaluate_generator(space, ImageDataset.load(args.data), args.samples, args.seed, psi)
    if args.grid:
        save_grid(args.grid, images[:64], columns=8, scale=args.grid_scale)
    if args.write_card:
        record_quality(args.model_dir, quality.to_dict())
    print(json.dumps(quality.to_dict(), indent=2))
    return 0


def run_arbitrary(args: argparse.Namespace) -> int:
    from genart_desktop.core.errors import InputError
    from genart_desktop.training.evaluation.arbitrary_quality import (
        blend_strip,
        contact_sheet,
        evaluate_arbitrary,
    )
    from genart_desktop.training.evaluation.card_metrics import save_card

    if not args.styles:
        raise InputError("Give the folder of paintings with --styles DIR.")
    figures, runner, photos, pictures = evaluate_arbitrary(args.model_dir, args.data, args.styles)
    held = set(runner.card.get("provenance", {}).get("held_out", {}).get("styles", []))
    if args.grid:
        contact_sheet(runner, photos, pictures, held).save(args.grid)
    if args.blend_strip:
        missing = [name for name in args.blend if name not in pictures]
        if missing:
            raise InputError(f"--blend names {', '.join(missing)}, which is not in {args.styles}.")
        blend_strip(runner, photos[0], pictures[args.blend[0]], pictures[args.blend[1]]).save(args.blend_strip)
    if args.write_card:
        card = dict(runner.card)
        card.setdefault("metrics", {})["style_figures"] = figures
        save_card(args.model_dir, card)
    print(json.dumps(figures, indent=2))
    return 0


def run_control(args: argparse.Namespace) -> int:
    """Control adherence of a control model (edge or colour-region agreement), recorded as metrics.control."""
    from genart_desktop.core.errors import InputError
    from genart_desktop.training.data.cached import ImageDataset
    from genart_desktop.training.evaluation.card_metrics import save_card
    from genart_desktop.training.evaluation.control_adherence import (
        evaluate_control_model,
    )

    if args.control_count < 2:
        raise InputError("--control-count must be at least 2.")
    dataset = ImageDataset.load(args.controls or args.data)
    result = evaluate_control_model(args.model_dir, dataset, args.control_count, args.steps, args.control_strength,
                                    args.seed, held_out=bool(args.controls))
    if args.control_sheet:
        import io

        from genart_desktop.core.atomic import atomic_write_bytes

        buffer = io.BytesIO()
        result.sheet(args.control_rows).save(buffer, "PNG")
        atomic_write_bytes(args.control_sheet, buffer.getvalue())
    if args.write_card:
        from pathlib import Path

        card = json.loads((Path(args.model_dir) / "model.json").read_text(encoding="utf-8"))
        card.setdefault("metrics", {})["control"] = result.to_dict()
        save_card(args.model_dir, card)
    print(json.dumps(result.to_dict(), indent=2))
    return 0


def run(args: argparse.Namespace) -> int:
    from genart_desktop.core.errors import InputError

    card = _card(args.model_dir)
    family = str(card.get("family", ""))
    config = card.get("config") if isinstance(card.get("config"), dict) else {}
    conditioning = config.get("conditioning")
    kind = conditioning.get("type") if isinstance(conditioning, dict) else None
    has_control = isinstance(config.get("control"), dict)
    if args.against and not (family == "diffusion" and (kind == "text" or (kind == "class" and not has_control))):
        raise InputError("--against compares the prompt adherence of two prompted diffusion models; "
                         f"{Path(args.model_dir).name} is not measured that way.")
    if family == "diffusion" and has_control:
        run_control(args)
        if kind != "text":
            return 0  # not prompted: control adherence is its whole measure
    if family == "gan":
        return run_generator(args)
    if family == "style-arbitrary":
        return run_arbitrary(args)
    from genart_desktop.training.data.cached import ImageDataset
    from genart_desktop.training.evaluation.diffusion_quality import (
        card_summary,
        evaluate_diffusion,
        load_model,
        paired_adherence,
        record_in_card,
        train_judge,
    )
    from genart_desktop.training.grid import save_grid

    if args.per_label < 1:
        raise InputError("--per-label must be at least 1.")
    if args.within_seeds < 0 or args.within_seeds == 1:
        raise InputError("--within-seeds must be 0 or at least 2.")
    model = load_model(args.model_dir)
    other = load_model(args.against) if args.against else None  # refused before any work when broken
    dataset = ImageDataset.load(args.data)
    judge = train_judge(dataset, args.seed)
    quality, images, _rows = evaluate_diffusion(model, dataset, args.per_label, args.steps, args.guidance,
                                                args.sampler, args.seed, classifier=judge,
                                                within_seeds=args.within_seeds)
    paired = None
    if other is not None:
        print(f"judging {args.against} on the same prompts and seeds")
        theirs, _, _ = evaluate_diffusion(other, dataset, args.per_label, args.steps, args.guidance, args.sampler,
                                          args.seed, classifier=judge, within_seeds=0)
        paired = paired_adherence(quality, theirs, Path(args.against).resolve().name)
    if args.grid:
        save_grid(args.grid, images, columns=args.per_label, scale=args.grid_scale)
    if args.prompt_sheet:
        import io

        from genart_desktop.core.atomic import atomic_write_bytes
        from genart_desktop.training.evaluation.diffusion_quality import prompt_sheet

        buffer = io.BytesIO()
        prompt_sheet(model, args.prompts, args.columns, args.seed, steps=args.steps,
                     guidance=args.guidance).save(buffer, "PNG")
        atomic_write_bytes(args.prompt_sheet, buffer.getvalue())
    if args.write_card:
        record_in_card(args.model_dir, quality, paired)
    print(json.dumps(card_summary(quality, paired), indent=2))
    return 0
