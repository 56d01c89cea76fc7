"""``genart-train style-match MODEL_DIR...``: is each style network recognisable as its painting?

Each network stylizes the photos exactly as the palette does (the engine's pipeline, the card's default settings);
the outputs' feature statistics are compared with every listed network's painting, and the nearest one should be
the network's own (issue 19 asks this of at least 7 of the 8 defaults).
"""

from __future__ import annotations

import argparse
import json

NAME = "style-match"
HELP = ("Nearest-painting test of style networks: stylize photos with each, find the closest painting by feature "
        "statistics, and (with --write-card) record the result in each card.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model_dirs", nargs="+", metavar="MODEL_DIR", help="style model folders (family style)")
    parser.add_argument("--styles", required=True, help="folder holding the paintings the networks were trained on")
    parser.add_argument("--photos", nargs="+", required=True, metavar="PHOTO", help="photos to stylize")
    parser.add_argument("--loss-weights", default=None, help="SqueezeNet 1.1 weights (default: looked up locally)")
    parser.add_argument("--write-card", action="store_true", help="record the result in each card's metrics")


def painting_of(card: dict) -> str | None:
    """The painting file a style network was trained on, from its card's provenance."""
    data = str(card.get("provenance", {}).get("data", ""))
    marker = "style image "
    if marker not in data:
        return None
    return data.split(marker, 1)[1].strip().split("/")[-1].split(";")[0].strip()


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    import numpy as np

    from genart_desktop.core.errors import InputError
    from genart_desktop.engine.pipelines.style import StylePipeline, default_settings
    from genart_desktop.training.evaluation.card_metrics import open_model_folder, save_card
    from genart_desktop.training.evaluation.style_figures import (FeatureJudge, judge_pair, load_photos,
                                                                  nearest_painting, painting_signatures)

    judge = FeatureJudge(args.loss_weights)
    photos = load_photos([Path(p) for p in args.photos])
    models = []
    for model_dir in args.model_dirs:
        registry, entry, card = open_model_folder(model_dir)
        painting = painting_of(card)
        if entry.family != "style" or not painting:
            raise InputError(f"{model_dir} is not a style network trained on a named painting.")
        models.append((model_dir, registry, entry, card, painting))
    files = [Path(args.styles) / painting for *_, painting in models]
    missing = [f.name for f in files if not f.is_file()]
    if missing:
        raise InputError(f"{args.styles} does not hold {', '.join(missing)}.")
    targets = painting_signatures(judge, files)
    correct = 0
    rows = []
    for model_dir, registry, entry, card, painting in models:
        pipeline = StylePipeline.from_registry(registry, entry.id)
        settings = default_settings(card.get("config"))

        def stylize(rgb: np.ndarray, pipeline=pipeline, settings=settings) -> np.ndarray:
            return pipeline.apply(rgb, settings)[..., :3]

        result = nearest_painting(judge, stylize, photos, targets)
        pairs = [judge_pair(judge, photo, stylize(photo), targets[painting]) for photo in photos]
        result.update({
            "painting": painting, "correct": result["nearest"] == painting, "photos": len(photos),
            "candidates": len(targets),
            "style_ratio": round(float(np.mean([p.style_ratio for p in pairs])), 4),
            "content_distance": round(float(np.mean([p.content for p in pairs])), 4),
            "measure": "SqueezeNet 1.1 feature mean/std distance over conv1, fire3, fire5, fire7 (see "
                       "training/evaluation/style_figures.py); style_ratio = distance(output, painting) / "
                       "distance(photo, painting), content_distance = relative fire5 difference to the photo",
        })
        correct += bool(result["correct"])
        rows.append((entry.id, painting, result["nearest"], result["style_ratio"], result["content_distance"]))
        if args.write_card:
            card.setdefault("metrics", {})["nearest_painting"] = result
            save_card(model_dir, card)
    width = max(len(r[0]) for r in rows)
    print(f"{'model':<{width}}  right  nearest painting{'':<34}  style ratio  content")
    for model_id, painting, nearest, ratio, content in rows:
        print(f"{model_id:<{width}}  {'yes' if nearest == painting else 'NO ':<5}  {nearest:<50}  {ratio:>11.3f}  "
              f"{content:>7.3f}")
    print(f"{correct} of {len(rows)} networks are nearest to their own painting.")
    print(json.dumps({"correct": correct, "of": len(rows)}))
    return 0
