"""Latent diffusion (Rombach et al. 2022): the paired VAE, the dataset encoded once, and latent scaling.

The VAE is an exported VAE model folder (``genart-train vae`` then export): its ONNX encoder and decoder run through
onnxruntime, so the diffusion trainer needs none of the VAE trainer's code and pairs with exactly the graphs the app
will run. The dataset is encoded once into ``latents.safetensors`` in the run folder (posterior mean and log-variance,
also of the flipped images when ``--flip`` is on); training draws z = mean + exp(logvar / 2) * noise each step and
multiplies by ``scale`` = 1 / (std of z over the dataset) so the U-Net sees unit-variance latents. The export ships
the VAE's decoder unchanged and writes ``scale`` as the card's ``config.latent.scaling_factor``, which the app divides
by before decoding and multiplies the paired encoder's mean by (as Stable Diffusion's 0.18215).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from genart_desktop.core.errors import InputError, ModelError
from genart_desktop.engine.cards import ModelCard, load_card, verify_files
from genart_desktop.engine.session import ModelSession
from genart_desktop.training.export.exporter import export_run

CACHE_FILE = "latents.safetensors"
CPU_ONLY = {"execution_provider": "cpu"}


@dataclass
class PairedVAE:
    """An exported VAE (encoder ``image -> mean, logvar``; decoder ``latent -> image``) with a spatial latent."""

    folder: Path
    card: ModelCard
    encoder: ModelSession
    decoder: ModelSession

    @classmethod
    def load(cls, folder: str | os.PathLike[str], resolution: int, run_folder: Path | None = None) -> PairedVAE:
        """Load an exported VAE folder; a VAE *run* folder is exported once into ``run_folder/paired-vae``."""
        folder = resolve_vae_folder(Path(folder), run_folder)
        try:
            card = load_card(folder)
            verify_files(card)
        except ModelError as exc:
            raise InputError(f"--latent-vae {folder}: {exc}") from exc
        if card.family != "vae":
            raise InputError(f"--latent-vae {folder} is a {card.family} model, not a VAE.")
        shape = card.latent_shape or ()
        if len(shape) != 3:
            raise InputError(f"The VAE {card.id} has a flat latent {list(shape)}; latent diffusion needs a spatial "
                             "one such as [4, 8, 8].")
        if card.resolution is not None and tuple(card.resolution) != (resolution, resolution):
            raise InputError(f"The VAE {card.id} works at {card.resolution[0]}x{card.resolution[1]} but --resolution "
                             f"is {resolution}.")
        if resolution % shape[1] or resolution % shape[2] or resolution // shape[1] != resolution // shape[2]:
            raise InputError(f"The VAE latent {list(shape)} does not tile a {resolution}px image evenly.")
        encoder = ModelSession.load(card.files["encoder"].path, CPU_ONLY, name=f"{card.id} encoder")
        decoder = ModelSession.load(card.files["decoder"].path, CPU_ONLY, name=f"{card.id} decoder")
        return cls(folder, card, encoder, decoder)

    @property
    def latent_shape(self) -> tuple[int, int, int]:
        c, h, w = self.card.latent_shape  # type: ignore[misc]
        return int(c), int(h), int(w)

    @property
    def channels(self) -> int:
        return self.latent_shape[0]

    @property
    def image_channels(self) -> int:
        """3 (RGB) or 4 (premultiplied RGBA: a VAE trained on pictures with alpha)."""
        shape = self.encoder.input("image").shape
        return int(shape[1]) if len(shape) == 4 and isinstance(shape[1], int) else 3

    @property
    def factor(self) -> int:
        assert self.card.resolution is not None
        return self.card.resolution[0] // self.latent_shape[2]

    def encode(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        dtype = self.encoder.input("image").dtype
        out = self.encoder.run({"image": images.astype(dtype)}, outputs=["mean", "logvar"])
        return out["mean"].astype(np.float32), out["logvar"].astype(np.float32)

    def decode(self, latents: np.ndarray) -> np.ndarray:
        dtype = self.decoder.input("latent").dtype
        return self.decoder.run({"latent": latents.astype(dtype)}, outputs=["image"])["image"].astype(np.float32)

    def describe(self) -> dict[str, Any]:
        """What the card records about the pairing."""
        return {"id": self.card.id, "name": self.card.name, "latent_shape": list(self.latent_shape),
                "factor": self.factor, "encoder_sha256": self.card.files["encoder"].sha256,
                "decoder_sha256": self.card.files["decoder"].sha256, "license": self.card.license}


def check_image_channels(vae: PairedVAE | None, channels: int) -> None:
    """Refuse at once a dataset whose pictures the sample space cannot hold (RGBA needs a 4-channel VAE)."""
    wanted = 3 if vae is None else vae.image_channels
    if channels == wanted:
        return
    if vae is None:
        raise InputError("The dataset's pictures have an alpha channel, which pixel-space diffusion cannot make; "
                         "train in a VAE's latent space (--latent-vae) whose VAE was trained on this dataset.")
    kind = {3: "RGB", 4: "RGBA"}
    raise InputError(f"The VAE {vae.card.id} takes {kind.get(wanted, wanted)} pictures but the dataset holds "
                     f"{kind.get(channels, channels)} ones; pair them (train the VAE on this dataset).")


def resolve_vae_folder(folder: Path, run_folder: Path | None) -> Path:
    """The model folder to use: ``folder`` itself, or for a VAE training run its export inside our run folder (made
    on first use and then reused, so a VAE run that keeps training cannot change a diffusion run under way)."""
    if (folder / "model.json").is_file() or not (folder / "options.json").is_file():
        return folder
    if run_folder is None:
        raise InputError(f"{folder} is a training run; export it first with `genart-train export {folder}`.")
    paired = run_folder / "paired-vae"
    if not (paired / "model.json").is_file():
        export_run(str(folder), str(paired))
    return paired


class ScaledCodec:
    """The engine pipeline's LatentCodec for the U-Net's scaled latents (used for sample grids while training)."""

    def __init__(self, vae: PairedVAE, scale: float):
        self.vae, self.scale = vae, float(scale)
        self.channels, self.factor = vae.channels, vae.factor

    def encode(self, images: np.ndarray) -> np.ndarray:
        return self.vae.encode(images)[0] * self.scale

    def decode(self, latents: np.ndarray) -> np.ndarray:
        return self.vae.decode(np.asarray(latents, dtype=np.float32) / self.scale)


def encode_dataset(vae: PairedVAE, images: torch.Tensor, batch: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, 3, R, R) in [-1, 1] -> posterior mean and log-variance (N, C, h, w)."""
    means, logvars = [], []
    for start in range(0, images.shape[0], batch):
        mean, logvar = vae.encode(images[start:start + batch].numpy())
        means.append(torch.from_numpy(mean))
        logvars.append(torch.from_numpy(logvar))
    return torch.cat(means), torch.cat(logvars)


def latent_scale(mean: torch.Tensor, logvar: torch.Tensor) -> float:
    """1 / std of z = mean + exp(logvar / 2) eps over the whole dataset (variance of the mixture)."""
    variance = mean.double().var() + logvar.double().exp().mean()
    return float(1.0 / variance.clamp_min(1e-12).sqrt())


def cached_latents(run_folder: Path, vae: PairedVAE, dataset_images: torch.Tensor, flip: bool,
                   dataset_key: str) -> tuple[torch.Tensor, torch.Tensor, float]:
    """Mean and logvar of shape (V, N, C, h, w) (V = 2 with flips) and the scale, encoded once per run."""
    path = run_folder / CACHE_FILE
    key = json.dumps({"vae": vae.card.files["encoder"].sha256, "dataset": dataset_key, "flip": flip},
                     sort_keys=True)
    if path.is_file():
        try:
            tensors = load_file(str(path))
            meta = json.loads(tensors.pop("meta").numpy().tobytes().decode("utf-8"))
            if meta.get("key") == key:
                return tensors["mean"], tensors["logvar"], float(meta["scale"])
        except (OSError, ValueError, KeyError, RuntimeError):
            pass  # unreadable or stale: encode again
    views = [dataset_images] + ([dataset_images.flip(-1)] if flip else [])
    encoded = [encode_dataset(vae, view) for view in views]
    mean = torch.stack([m for m, _ in encoded])
    logvar = torch.stack([v for _, v in encoded])
    scale = latent_scale(mean[0], logvar[0])
    meta_bytes = json.dumps({"key": key, "scale": scale}).encode("utf-8")
    tmp = path.with_suffix(".tmp")
    save_file({"mean": mean.contiguous(), "logvar": logvar.contiguous(),
               "meta": torch.frombuffer(bytearray(meta_bytes), dtype=torch.uint8)}, str(tmp))
    os.replace(tmp, path)
    return mean, logvar, scale


def dataset_fingerprint(images: torch.Tensor) -> str:
    return hashlib.sha256(images.numpy().tobytes()).hexdigest()
