"""``genart-train stylize CONTENT STYLE OUT``: Gatys et al.'s optimisation of one image's pixels (best quality,
slow, no training)."""

from __future__ import annotations

import argparse
import sys

NAME = "stylize"
HELP = "Stylize one image by optimising its pixels (Gatys et al.): slow, highest quality, no model needed."


def _layers(text: str | None) -> tuple[str, ...] | None:
    return tuple(p.strip() for p in text.split(",") if p.strip()) if text else None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("content", metavar="CONTENT", help="the photo or picture to repaint")
    parser.add_argument("style", metavar="STYLE", help="the style image (e.g. a painting)")
    parser.add_argument("out", metavar="OUT", help="output image (.png, .jpg or .webp); written atomically")
    parser.add_argument("--size", type=int, default=512, help="long side of the output in pixels (default 512)")
    parser.add_argument("--steps", type=int, default=300, help="optimiser iterations per scale (default 300)")
    parser.add_argument("--optimizer", choices=("lbfgs", "adam"), default="lbfgs", help="default lbfgs")
    parser.add_argument("--lr", type=float, default=None, help="step size (default 1.0 for lbfgs, 0.02 for adam)")
    parser.add_argument("--scales", type=int, default=2, help="coarse-to-fine scales, each twice the last "
                        "(default 2)")
    parser.add_argument("--style-scale", type=float, default=1.0, help="style image size relative to the output; "
                        "below 1 gives larger strokes (default 1)")
    parser.add_argument("--content-weight", type=float, default=1.0)
    parser.add_argument("--style-weight", type=float, default=1000.0)
    parser.add_argument("--tv-weight", type=float, default=1.0)
    parser.add_argument("--init", choices=("content", "noise"), default="content")
    parser.add_argument("--preserve-colors", action="store_true", help="keep the content's colours (luminance-only "
                        "transfer)")
    parser.add_argument("--loss-net", choices=("auto", "squeezenet", "vgg19"), default="auto")
    parser.add_argument("--loss-weights", metavar="FILE", help="weights file of the loss network")
    parser.add_argument("--content-layers", help="comma-separated loss-network layers for content")
    parser.add_argument("--style-layers", help="comma-separated loss-network layers for style")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0, help="CPU threads for torch (0 keeps torch's choice)")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    import torch
    from tqdm import tqdm

    from genart_desktop.core.errors import InputError
    from genart_desktop.engine.pipelines.style import keep_chroma
    from genart_desktop.training.style.gatys import GatysOptions, stylize
    from genart_desktop.training.style.images import WRITE_FORMATS, fit_long_side, load_rgb, save_rgb
    from genart_desktop.training.style.losses import LossWeights, PerceptualLoss
    from genart_desktop.training.style.perceptual import load_loss_network

    out = Path(args.out)
    if out.suffix.lower() not in WRITE_FORMATS:
        raise InputError(f"Cannot write {out.name}: use a .png, .jpg or .webp file name.")
    if not out.parent.is_dir():
        raise InputError(f"The folder {out.parent} does not exist.")
    if min(args.content_weight, args.style_weight, args.tv_weight) < 0:
        raise InputError("Loss weights must not be negative.")
    options = GatysOptions(size=args.size, steps=args.steps, optimizer=args.optimizer, lr=args.lr,
                           scales=args.scales, style_scale=args.style_scale, init=args.init, seed=args.seed)
    options.validate()
    content, style = load_rgb(args.content), load_rgb(args.style)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = "cuda" if args.device == "cuda" or (args.device == "auto" and torch.cuda.is_available()) else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise InputError("--device cuda was asked for, but PyTorch sees no CUDA device here.")
    network = load_loss_network(args.loss_net, args.loss_weights, _layers(args.content_layers),
                                _layers(args.style_layers))
    loss = PerceptualLoss(network, LossWeights(args.content_weight, args.style_weight, args.tv_weight))
    torch.manual_seed(args.seed)
    total = options.steps * options.scales
    with tqdm(total=total, unit="it", desc=f"stylize ({network.name}, {options.optimizer})") as bar:
        def progress(done: int, _total: int, losses: dict[str, float]) -> None:
            bar.update(done - bar.n)
            bar.set_postfix({k: f"{v:.3g}" for k, v in losses.items() if k != "total"}, refresh=False)

        result = stylize(content, style, loss, options, progress, device)
    if args.preserve_colors:
        result = keep_chroma(fit_long_side(content, args.size)[: result.shape[0], : result.shape[1]], result)
    save_rgb(out, result)
    print(f"Wrote {out} ({result.shape[1]}x{result.shape[0]}).", file=sys.stderr)
    return 0
