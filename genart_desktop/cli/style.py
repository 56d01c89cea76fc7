"""``genart style``: apply a style to image files without a window, through the style palette's controller.

The style is a fixed network (``--model``), a preset painting of the arbitrary model (``--preset``), any picture
(``--style-image``), or a blend of 2 to 4 of them (``--weights``, in the order models, presets, pictures). Each
file becomes the same :class:`~genart_desktop.workspace.style_jobs.StyleRequest` the dock builds for a one-layer
canvas, run inline by the workspace with the dock's executor, so the pixels are the dock's. Every input is opened
(header and pixels) and the model loaded before the first file is written; each result is a PNG
``OUTDIR/<name>-<style>.png`` (alpha kept, never overwriting: ``-1``, ``-2`` ... are appended), written
atomically. Progress is one line on stderr, per tile.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

from genart_desktop.cli._output import free_png_path, png_bytes
from genart_desktop.core.atomic import atomic_write_bytes
from genart_desktop.core.errors import InputError
from genart_desktop.core.images import open_image_rgba
from genart_desktop.core.text import shown
from genart_desktop.engine.events import Progress
from genart_desktop.engine.pipelines.limits import MAX_SCALE, MIN_SCALE
from genart_desktop.workspace.style import StyleController
from genart_desktop.workspace.style_jobs import StyleSnapshot, tile_counts
from genart_desktop.workspace.workspace import Workspace

NAME = "style"
HELP = "Apply a style (a style model, a preset painting or any picture, or a blend) to image files and write PNGs."
MAX_LABEL = 60  # characters of the style part of an output name


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", action="append", default=[], metavar="ID",
                        help="a style model id from `genart models` (repeat to blend)")
    parser.add_argument("--preset", action="append", default=[], metavar="ID",
                        help="a painting of the arbitrary style model, e.g. starry-night (repeat to blend)")
    parser.add_argument("--style-image", action="append", default=[], type=Path, metavar="IMG",
                        help="any picture as the style, through the arbitrary style model (repeat to blend)")
    parser.add_argument("--weights", default=None, metavar="W1,W2,...",
                        help="one weight per style, in the order models, presets, pictures (default: equal)")
    parser.add_argument("--strength", type=float, default=1.0, help="0 keeps the image, 1 is the full style "
                        "(default 1)")
    parser.add_argument("--preserve-colors", action="store_true", help="keep the original colours, take only the "
                        "light and dark of the brush work")
    parser.add_argument("--scale", type=float, default=1.0, help=f"brush-stroke size ({MIN_SCALE}-{MAX_SCALE}; "
                        "2 = strokes twice as large; default 1)")
    parser.add_argument("--tile", type=int, default=None, help="tile size in pixels (default: the model's)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("paths", nargs="+", type=Path, metavar="IN... OUTDIR",
                        help="input images, then the output folder (created if missing)")


class ProgressBar:
    """``[#####.....] 3/8 photo.jpg tile 2/4`` redrawn in place on stderr (plain lines when not a terminal)."""

    def __init__(self, files: int, stream=None, width: int = 24, enabled: bool = True) -> None:  # noqa: ANN001
        self.files, self.width, self.enabled = files, width, enabled
        self.stream = stream if stream is not None else sys.stderr
        self.interactive = enabled and hasattr(stream, "isatty") and stream.isatty()
        self.index, self.name = 0, ""

    def start_file(self, index: int, name: str) -> None:
        self.index, self.name = index, name

    def update(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        fraction = (self.index + done / max(total, 1)) / self.files
        filled = round(fraction * self.width)
        line = (f"[{'#' * filled}{'.' * (self.width - filled)}] {self.index + 1}/{self.files} {self.name} "
                f"tile {done}/{total}")
        if self.interactive:
            self.stream.write("\r" + line + "\x1b[K")
        elif done == total:
            self.stream.write(line + "\n")
        self.stream.flush()

    def on_progress(self, event: Progress) -> None:
        """The bar as the owner of a style job: each tile's progress event redraws it."""
        counts = tile_counts(event.message)
        if counts is not None:
            self.update(*counts)

    def close(self) -> None:
        if self.interactive:
            self.stream.write("\n")
            self.stream.flush()


def run(args: argparse.Namespace) -> int:
    if len(args.paths) < 2:
        raise InputError("Give at least one input image and then the output folder.")
    *inputs, outdir = args.paths
    if outdir.exists() and not outdir.is_dir():
        raise InputError(f"{outdir} exists and is not a folder; the last argument must be the output folder.")
    count = len(args.model) + len(args.preset) + len(args.style_image)
    if count == 0:
        raise InputError("Choose a style: --model ID, --preset ID or --style-image IMG.")
    weights = parse_weights(args.weights, count)
    missing = [shown(p) for p in [*inputs, *args.style_image] if not p.is_file()]
    if missing:
        raise InputError(f"Cannot find {', '.join(missing)}; nothing was written.")
    for path in inputs:  # decode everything up front, so a broken file stops the batch before any output
        _decoded(path)
    styles = [_decoded(path) for path in args.style_image]

    workspace = Workspace(name="genart-style")
    try:
        controller = StyleController(workspace)
        controller.set_settings(strength=args.strength, preserve_colors=args.preserve_colors, scale=args.scale)
        choices = [*args.model, *(f"preset:{p}" for p in args.preset),
                   *(controller.add_picture(p.stem, px) for p, px in zip(args.style_image, styles))]
        controller.select_many(choices, weights)
        controller.check_model(args.tile)
        outdir.mkdir(parents=True, exist_ok=True)
        label = "+".join([*args.model, *args.preset, *(p.stem for p in args.style_image)])
        _style_files(controller, inputs, outdir, args, safe_label(label))
    finally:
        workspace.shutdown()
    return 0


def _decoded(path: Path) -> np.ndarray:
    try:
        return open_image_rgba(path)
    except InputError as exc:
        raise InputError(f"{exc} Nothing was written.") from exc


def parse_weights(text: str | None, count: int) -> list[float] | None:
    """``0.7,0.3`` -> [0.7, 0.3]: one finite weight >= 0 per style, not all 0; None keeps them equal."""
    if text is None:
        return None
    try:
        weights = [float(part) for part in text.split(",")]
    except ValueError:
        raise InputError(f"--weights must be numbers separated by commas, not {shown(text)}.") from None
    if len(weights) != count:
        raise InputError(f"--weights gives {len(weights)} weight(s) for {count} style(s).")
    if not all(math.isfinite(w) and w >= 0 for w in weights) or not sum(weights) > 0:
        raise InputError("--weights must be numbers of at least 0, and one above 0.")
    return weights


def safe_label(text: str) -> str:
    """The style part of an output file name: letters, digits, '.', '_', '-' and '+' only, not too long."""
    cleaned = "".join(ch if ch.isalnum() or ch in "._-+" else "_" for ch in text)[:MAX_LABEL].strip("._")
    return cleaned or "style"


def _style_files(controller: StyleController, inputs: list[Path], outdir: Path, args: argparse.Namespace,
                 label: str) -> None:
    """Each file through the dock's request type and executor, run inline; the bar shows the tiles."""
    bar = ProgressBar(len(inputs), enabled=not args.quiet)
    taken: set[Path] = set()
    began = time.perf_counter()
    try:
        for index, path in enumerate(inputs):
            bar.start_file(index, path.name)
            request = controller.style_request(StyleSnapshot.of_image(open_image_rgba(path)), args.tile)
            render = controller.workspace.run(request, request.label, owner=bar)
            target = free_png_path(outdir, f"{path.stem}-{label}", taken)
            atomic_write_bytes(target, png_bytes(render.pixels))
    finally:
        bar.close()
    if not args.quiet:
        print(f"Styled {len(inputs)} image(s) with {shown(controller.recipe().model_name)} into {shown(outdir)} in "
              f"{time.perf_counter() - began:.1f} s.", file=sys.stderr)
