"""Regional prompts (issue 20): what two regions cost per sampling step against none.

The default emoji diffusion model (``models/emoji-diffusion-64``) renders the same recipe with no region and with
two regions (left and right halves, each its own prompt). Each region adds its condition rows to the step's one
batched U-Net call (guidance on: 2 rows per image become 4), so the cost should grow with the rows, not with extra
calls. The time of a step is read between consecutive step callbacks (median over the run's steps and repeats).

    python benchmarks/bench_regions.py [--quick] [--threads N] [--steps N]

Prints a table; no targets are asserted.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

MODEL_ID = "emoji-diffusion-64"


def step_times(model, recipe, repeats: int) -> list[float]:
    """Milliseconds between consecutive step callbacks over ``repeats`` renders (after one warm-up render)."""
    from genart_desktop.engine.pipelines.generator import StepControl

    stamps: list[float] = []
    control = StepControl(on_step=lambda _event: stamps.append(time.perf_counter()))
    model.render(recipe, control=control)
    gaps: list[float] = []
    for _ in range(repeats):
        stamps.clear()
        model.render(recipe, control=control)
        gaps += [(b - a) * 1000.0 for a, b in itertools.pairwise(stamps)]
    return gaps


def run(steps: int, repeats: int, threads: int | None) -> list[list[str]]:
    import dataclasses

    import numpy as np

    from genart_desktop.engine.pipelines.diffusion_model import CardDiffusionModel
    from genart_desktop.engine.pipelines.regions import RecipeRegion
    from genart_desktop.engine.registry import ModelRegistry

    settings = {"execution_provider": "cpu", **({"intra_op_threads": threads} if threads else {})}
    registry = ModelRegistry(roots=[(HERE.parent / "models", "bundled")], settings=settings)
    model = CardDiffusionModel.from_registry(registry, MODEL_ID)
    width, height = model.default_size()
    base = model.recipe("a red apple", steps=steps, sampler="ddim", seed=1)
    left = np.zeros((height, width), np.uint8)
    left[:, : width // 2] = 255
    regions = (RecipeRegion.from_mask(left, "a green tree"), RecipeRegion.from_mask(255 - left, "a blue car"))
    rows = []
    measured = {}
    for label, recipe in (("no regions", base), ("2 regions", dataclasses.replace(base, regions=regions))):
        gaps = step_times(model, recipe, repeats)
        measured[label] = statistics.median(gaps)
        unet_rows = (recipe.guidance != 1.0) + 1 + len(recipe.regions)  # uncond, base prompt, each region
        rows.append([f"{MODEL_ID} {width}x{height}, {label}", f"{measured[label]:.1f} ms per step",
                     f"{unet_rows} U-Net rows per step in one call"])
    ratio = measured["2 regions"] / measured["no regions"]
    rows.append(["2 regions / none", f"{ratio:.2f}x per step", "twice the rows; sampler and mixing add little"])
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few steps, one repeat")
    parser.add_argument("--threads", type=int, default=None, help="onnxruntime threads (default: its own choice)")
    parser.add_argument("--steps", type=int, default=None)
    args = parser.parse_args(argv)
    steps = args.steps or (4 if args.quick else 20)
    if not (HERE.parent / "models" / MODEL_ID).is_dir():
        print(f"bench_regions needs models/{MODEL_ID}.")
        return 2
    rows = run(steps, 1 if args.quick else 3, args.threads)
    print("| benchmark | measured | note |")
    print("| --- | --- | --- |")
    for row in rows:
        print("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
