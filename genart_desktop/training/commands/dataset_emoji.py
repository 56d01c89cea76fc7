"""``genart-train dataset-emoji OUT``: render Noto Color Emoji with their Unicode names as captions."""

from __future__ import annotations

import argparse

NAME = "dataset-emoji"
HELP = "Render the Noto Color Emoji font into a captioned dataset (SIL OFL 1.1), e.g. for default models."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out", metavar="OUT", help="dataset folder to write")
    parser.add_argument("--resolution", type=int, default=64, help="square size in pixels (default: 64)")
    parser.add_argument("--background", default="white",
                        help="white, black, grey, #rrggbb, or none to keep the emoji's alpha channel (premultiplied "
                             "RGBA, for models that make cut-outs) (default: white)")
    parser.add_argument("--skin-tones", action="store_true", help="also render the skin-tone variants")
    parser.add_argument("--font", help="path of NotoColorEmoji.ttf (default: the system's)")
    parser.add_argument("--emoji-list", help="path of Unicode's emoji-test.txt (default: the system's, if any)")
    parser.add_argument("--limit", type=int, help="render only the first N emoji (for quick trials)")
    parser.add_argument("--min-word-count", type=int, default=2,
                        help="caption words seen fewer times are left out of the vocabulary (default: 2)")


def run(args: argparse.Namespace) -> int:
    from genart_desktop.core.errors import InputError
    from genart_desktop.training.data.emoji import build_emoji_dataset
    from genart_desktop.training.data.fit import parse_background

    if args.limit is not None and args.limit <= 0:
        raise InputError("--limit must be a positive number.")
    background = parse_background(args.background)
    out, count, skipped = build_emoji_dataset(args.out, args.resolution, background,
                                              args.skin_tones, args.font, args.emoji_list, args.limit,
                                              args.min_word_count)
    print(f"Wrote {count} {'RGBA' if background is None else 'RGB'} emoji at {args.resolution}x{args.resolution} to {out}"
          + (f" ({skipped} the font cannot draw were skipped)." if skipped else "."))
    return 0
