"""``genart-train dataset SRC_DIR OUT``: fit a folder of images into a cached training dataset."""

from __future__ import annotations

import argparse

NAME = "dataset"
HELP = "Turn a folder of images (PNG, JPEG, WebP; any mode) into a cached, captioned training dataset."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("src", metavar="SRC_DIR", help="folder of images (searched recursively)")
    parser.add_argument("out", metavar="OUT", help="dataset folder to write (dataset.json + images.npy)")
    parser.add_argument("--resolution", type=int, default=64, help="square size in pixels (default: 64)")
    parser.add_argument("--fit", choices=("crop", "pad"), default="crop",
                        help="centre-crop to a square, or pad to a square with the background (default: crop)")
    parser.add_argument("--background", default="white",
                        help="colour behind transparent pixels and padding: white, black, grey or #rrggbb")
    parser.add_argument("--captions", metavar="FILE",
                        help="CSV (file,caption,label) or JSON sidecar; image.txt files beside images also work")
    parser.add_argument("--crops", type=int, default=1,
                        help="random square crops per picture instead of one centre crop (default: 1)")
    parser.add_argument("--min-crop", type=float, default=0.35,
                        help="smallest crop side as a share of the picture's short side (default: 0.35)")
    parser.add_argument("--exclude", metavar="FILE",
                        help="text file naming pictures to leave out, one per line (a held-out split)")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the crops (default: 0)")


def run(args: argparse.Namespace) -> int:
    from genart_desktop.training.data.builder import build_dataset, read_exclusions
    from genart_desktop.training.data.fit import parse_colour

    report = build_dataset(args.src, args.out, args.resolution, args.fit, parse_colour(args.background),
                           args.captions, crops=args.crops, min_crop=args.min_crop,
                           exclude=read_exclusions(args.exclude), seed=args.seed)
    print(f"Wrote {report.count} images at {args.resolution}x{args.resolution} to {report.out}"
          + (f"; skipped {len(report.skipped)} unreadable file(s)." if report.skipped else "."))
    return 0
