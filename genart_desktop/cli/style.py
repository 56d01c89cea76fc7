"""``genart style``: apply a style network to image files without a window, through the style palette's controller.

Each file becomes the same :class:`~genart_desktop.workspace.style_jobs.StyleRequest` the dock builds for a one-layer
canvas, run inline by the workspace with the dock's executor, so the pixels are the dock's. Every input is opened
(header and pixels) and the model loaded before the first file is written; each result is a PNG
``OUTDIR/<name>-<model id>.png`` (alpha kept, never overwriting: ``-1``, ``-2`` ... are appended), written
atomically. Progress is one line on stderr, per tile.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

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
HELP = "Apply a style model to image files (tiled, any size) and write PNGs."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, metavar="ID", help="a style model id from `genart models`")
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
    missing = [str(p) for p in inputs if not p.is_file()]
    if missing:
        raise InputError(f"Cannot find {', '.join(missing)}; nothing was written.")
    for path in inputs:  # decode everything once up front, so a broken file stops the batch before any output
        try:
            open_image_rgba(path)
        except InputError as exc:
            raise InputError(f"{exc} Nothing was written.") from exc

    workspace = Workspace(name="genart-style")
    try:
        controller = StyleController(workspace)
        controller.set_settings(strength=args.strength, preserve_colors=args.preserve_colors, scale=args.scale)
        controller.select(args.model)
        controller.check_model(args.tile)
        outdir.mkdir(parents=True, exist_ok=True)
        _style_files(controller, inputs, outdir, args)
    finally:
        workspace.shutdown()
    return 0


def _style_files(controller: StyleController, inputs: list[Path], outdir: Path, args: argparse.Namespace) -> None:
    """Each file through the dock's request type and executor, run inline; the bar shows the tiles."""
    bar = ProgressBar(len(inputs), enabled=not args.quiet)
    taken: set[Path] = set()
    began = time.perf_counter()
    try:
        for index, path in enumerate(inputs):
            bar.start_file(index, path.name)
            request = controller.style_request(StyleSnapshot.of_image(open_image_rgba(path)), args.tile)
            render = controller.workspace.run(request, request.label, owner=bar)
            target = free_png_path(outdir, f"{path.stem}-{args.model}", taken)
            atomic_write_bytes(target, png_bytes(render.pixels))
    finally:
        bar.close()
    if not args.quiet:
        print(f"Styled {len(inputs)} image(s) with {shown(args.model)} into {shown(outdir)} in "
              f"{time.perf_counter() - began:.1f} s.", file=sys.stderr)
