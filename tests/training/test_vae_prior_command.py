"""``genart-train vae-prior``: encodes a dataset with an exported VAE and records the prior in its card."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("torch")

from genart_desktop.engine.latent.space import space_from_registry
from genart_desktop.engine.registry import ModelRegistry
from genart_desktop.training.cli import main
from genart_desktop.training.data.store import write_dataset
from tests.engine.latent.tiny_latent import vae_folder

pytestmark = pytest.mark.train


def dataset(folder, count: int = 40):
    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, (1, 8, 8, 3))
    images = np.clip(base + rng.normal(0, 12, (count, 8, 8, 3)), 0, 255).astype(np.uint8)  # one kind of picture
    write_dataset(folder, images, [{"source": f"{i}.png"} for i in range(count)], {})
    return folder


def test_prior_is_written_and_the_explorer_draws_from_it(tmp_path, capsys):
    models = tmp_path / "models"
    folder = vae_folder(models, latent=6)
    onnx_before = {p.name: p.read_bytes() for p in folder.glob("*.onnx")}
    data = dataset(tmp_path / "data")
    assert main(["vae-prior", str(folder), "--data", str(data), "--rank", "3", "--batch", "16"]) == 0
    assert "40 encodings" in capsys.readouterr().out
    prior = json.loads((folder / "model.json").read_text())["latent"]["prior"]
    assert prior["samples"] == 40 and len(prior["scales"]) == 3 and 0 < prior["explained_variance"] <= 1
    assert {p.name: p.read_bytes() for p in folder.glob("*.onnx")} == onnx_before
    registry = ModelRegistry(roots=[(models, "user")])
    space = space_from_registry(registry, "tiny-vae")
    images = np.load(data / "images.npy")
    encoded = np.stack([space.encode(image)[0].reshape(-1) for image in images])
    drawn = space.sample(seed=1, count=400)
    # draws sit around the dataset's encodings (not around the origin) and spread about as much
    centre = encoded.mean(axis=0)
    assert np.linalg.norm(drawn.mean(axis=0) - centre) < 0.2 * np.linalg.norm(centre)
    assert drawn.std(axis=0).sum() == pytest.approx(encoded.std(axis=0).sum(), rel=0.3)


def test_refuses_models_that_are_not_vaes_and_bad_options(tmp_path, capsys):
    from tests.engine.latent.tiny_latent import gan_folder

    gan = gan_folder(tmp_path / "models", latent=8)
    data = dataset(tmp_path / "data")
    card_before = (gan / "model.json").read_text()
    assert main(["vae-prior", str(gan), "--data", str(data)]) == 2
    assert "not a VAE" in capsys.readouterr().err
    assert (gan / "model.json").read_text() == card_before
    vae = vae_folder(tmp_path / "models", latent=6)
    assert main(["vae-prior", str(vae), "--data", str(data), "--rank", "0"]) == 2
    assert main(["vae-prior", str(tmp_path / "nowhere"), "--data", str(data)]) == 2
