"""``genart-train vae-prior MODEL_DIR --data DATASET``: record where the VAE really puts images in its latent space."""

from __future__ import annotations

import argparse

NAME = "vae-prior"
HELP = ("Encode a dataset with an exported VAE and write the encodings' Gaussian summary (mean and principal axes) "
        "into its card as latent.prior, so the Latent Explorer's random draws and neighbours look like the data.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model_dir", metavar="MODEL_DIR", help="an exported VAE model folder (model.json + ONNX)")
    parser.add_argument("--data", required=True, help="the dataset it was trained on (made by genart-train dataset)")
    parser.add_argument("--rank", type=int, default=32, help="principal axes to keep (default 32)")
    parser.add_argument("--batch", type=int, default=256, help="images per encoder run")


def run(args: argparse.Namespace) -> int:
    import numpy as np
    import torch

    from genart_desktop.core.errors import InputError, ModelError
    from genart_desktop.engine.latent.prior import MAX_RANK, LatentPrior
    from genart_desktop.training.data.cached import ImageDataset
    from genart_desktop.training.evaluation.card_metrics import open_model_folder, save_card

    if not 1 <= args.rank <= MAX_RANK or args.batch < 1:
        raise InputError(f"--rank must be 1..{MAX_RANK} and --batch at least 1.")
    registry, entry, card = open_model_folder(args.model_dir)
    if entry.family != "vae" or "encoder" not in entry.files:
        raise ModelError(f"{entry.id} is not a VAE with an encoder.")
    encoder = registry.session(entry.id, "encoder")
    dataset = ImageDataset.load(args.data)
    means = []
    for start in range(0, len(dataset), args.batch):
        images = dataset.batch(torch.arange(start, min(len(dataset), start + args.batch))).numpy()
        means.append(np.asarray(encoder.run({"image": images.astype(np.float32)})["mean"], np.float32))
    latents = np.concatenate(means).reshape(len(dataset), -1)
    prior = LatentPrior.fit(latents, args.rank)
    explained = float((prior.scales.astype(np.float64) ** 2).sum() / latents.var(axis=0, ddof=1).sum())
    record = {**prior.to_card(), "samples": int(len(latents)), "explained_variance": round(explained, 4),
              "command": f"genart-train vae-prior {args.model_dir} --data {args.data} --rank {prior.scales.size}"}
    card.setdefault("latent", {})["prior"] = record
    card_path = save_card(entry.folder, card)
    print(f"Wrote latent.prior into {card_path}: {len(latents)} encodings, {prior.scales.size} axes explaining "
          f"{explained:.1%} of their variance, residual std {prior.residual:.3f}.")
    return 0
