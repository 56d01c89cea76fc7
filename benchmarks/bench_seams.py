"""Inpainting seams: how visible the border of a repainted selection is, before (issue 18) and now.

For each installed diffusion model that can start from an image (and, with ``--tiny-sd``, the tests' tiny Stable
Diffusion folder, random weights), a painting with fine texture gets an elliptical selection repainted. The same
generated picture is landed twice on the painting:

Stable Diffusion folders in the model folders are measured like our models.

- *today*: the placement before issue 18: stretched to the region, cut to the hard selection, no tone matching;
- *now*: the dock's placement: never stretched, a feathered edge inside the selection, soft compositing in pixel
  space after decoding, tone matched at the border.

The seam figure (``workspace.diffusion_blend.seam_energy``) is the mean gradient across the selection's border over
the mean gradient in the ring around it: about 1 is no visible seam. Lower is better.

    python benchmarks/bench_seams.py [--quick] [--size 1920x1080] [--steps N] [--feather PX] [--tiny-sd]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from genart_desktop.core.images import flatten_alpha, resize  # noqa: E402
from genart_desktop.document.document import Document  # noqa: E402
from genart_desktop.document.geometry import Rect  # noqa: E402
from genart_desktop.engine.registry import ModelRegistry  # noqa: E402
from genart_desktop.workspace.diffusion import INPAINT, DiffusionController  # noqa: E402
from genart_desktop.workspace.diffusion_blend import seam_energy  # noqa: E402
from genart_desktop.workspace.workspace import Workspace  # noqa: E402


def painting(width: int, height: int, seed: int = 0) -> np.ndarray:
    """Smooth colour fields, a few hard-edged shapes and brush-like texture: RGBA uint8."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    rgb = np.stack([120 + 90 * np.sin(xx / width * 3.0), 110 + 80 * np.cos(yy / height * 2.5),
                    140 + 60 * np.sin((xx + yy) / (width + height) * 6.0)], axis=2)
    rng = np.random.default_rng(seed)
    for _ in range(6):
        cx, cy, r = rng.uniform(0, width), rng.uniform(0, height), rng.uniform(0.05, 0.15) * width
        rgb[(xx - cx) ** 2 + (yy - cy) ** 2 < r * r] = rng.uniform(30, 230, 3)
    rgb += rng.normal(0, 10, (height, width, 1))
    out = np.full((height, width, 4), 255, np.uint8)
    out[..., :3] = np.clip(rgb, 0, 255).astype(np.uint8)
    return out


def legacy_placed(pixels: np.ndarray, rect: Rect, selection: np.ndarray) -> np.ndarray:
    """The placement before issue 18: stretched to the region, alpha the hard selection."""
    out = np.empty((rect.height, rect.width, 4), np.uint8)
    out[..., :3] = resize(flatten_alpha(pixels), rect.width, rect.height)
    out[..., 3] = selection
    return out


def over(base: np.ndarray, layer: np.ndarray) -> np.ndarray:
    alpha = layer[..., 3:].astype(np.float32) / 255.0
    return np.round(layer[..., :3] * alpha + base[..., :3] * (1.0 - alpha)).astype(np.uint8)


def measure(controller: DiffusionController, model_id: str, size: tuple[int, int], steps: int, feather: int,
            prompt: str) -> tuple[float, float]:
    doc = Document(*size)
    doc.add_layer("Painting", pixels=painting(*size))
    width, height = size
    doc.select_ellipse(Rect(width // 4, height // 5, width // 2, height * 3 // 5))
    info = controller.info(model_id)
    base = controller.default_settings(model_id)
    settings = dataclasses.replace(base, seed_mode="fixed", seed=1, steps=min(steps, info.max_steps),
                                   prompt=prompt or (info.examples[0] if info.examples else "a flower"),
                                   strength=0.8, feather=feather)
    (entry,), _ = controller.submit(INPAINT, settings, doc)
    entry.handle.wait(3600)
    deadline = time.monotonic() + 10  # events are delivered on the worker thread just after the job ends
    while not entry.finished and time.monotonic() < deadline:
        time.sleep(0.01)
    if entry.placed is None:
        raise RuntimeError(entry.message or "the job gave no result")
    rect = entry.placement.rect
    region = doc.composite(rect)
    selection = doc.selection.mask[rect.slices()]
    today = over(region, legacy_placed(entry.pixels, rect, selection))
    now = over(region, entry.placed)
    return seam_energy(today, selection), seam_energy(now, selection)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a 640x360 painting and 6 steps")
    parser.add_argument("--size", default=None, help="painting size, WxH (default 1920x1080)")
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--feather", type=int, default=8, help="the dock's edge feather in pixels")
    parser.add_argument("--prompt", default="", help="prompt for text models (default: the card's first example)")
    parser.add_argument("--tiny-sd", action="store_true", help="also the tests' tiny Stable Diffusion folder")
    args = parser.parse_args(argv)
    size = tuple(int(v) for v in (args.size or ("640x360" if args.quick else "1920x1080")).split("x"))
    steps = args.steps or (6 if args.quick else 25)

    targets: list[tuple[ModelRegistry, str]] = []
    registry = ModelRegistry()
    workspace = Workspace(registry)
    controller = DiffusionController(workspace, preview_every=0)
    for entry in controller.models():
        try:
            if controller.info(entry.id).can_start_from_image:
                targets.append((registry, entry.id))
        except Exception as exc:  # a broken model is reported, not fatal
            print(f"skipped {entry.id}: {exc}")
    temp = None
    if args.tiny_sd:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from tests.engine.tiny_sd import export_tiny_sd  # needs torch, diffusers and transformers

        temp = tempfile.TemporaryDirectory()
        folder = Path(temp.name) / "tiny-sd"
        export_tiny_sd(folder)
        sd_registry = ModelRegistry.for_folder(folder)
        targets.append((sd_registry, sd_registry.entries()[0].id))
    print(f"painting {size[0]}x{size[1]}, elliptical selection, {steps} steps, feather {args.feather} px")
    print("| model | seam today | seam now | change |")
    print("|---|---:|---:|---:|")
    for model_registry, model_id in targets:
        if model_registry is not registry:
            workspace.shutdown()
            workspace = Workspace(model_registry)
            controller = DiffusionController(workspace, preview_every=0)
        try:
            today, now = measure(controller, model_id, size, steps, args.feather, args.prompt)
        except Exception as exc:
            print(f"| {model_id} | failed: {str(exc)[:80]} | | |")
            continue
        print(f"| {model_id} | {today:.2f} | {now:.2f} | {100 * (now - today) / today:+.0f}% |")
    if not targets:
        print("| (no model that starts from an image is installed) | | | |")
    workspace.shutdown()
    if temp is not None:
        temp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
