"""The VAE latent prior: fitting recovers a known Gaussian, cards are checked, sampling and neighbours follow it."""

from __future__ import annotations

import json

import numpy as np
import pytest

from genart_desktop.core.errors import ModelError
from genart_desktop.engine.latent import neighbours
from genart_desktop.engine.latent.prior import LatentPrior
from genart_desktop.engine.latent.space import space_from_registry
from genart_desktop.engine.registry import ModelRegistry
from tests.engine.latent.tiny_latent import vae_folder


def anisotropic(count: int = 4000, dim: int = 6, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Samples of N(mean, R diag(stds^2) R^T) with a random rotation R; (samples, mean, stds)."""
    rng = np.random.default_rng(seed)
    rotation, _ = np.linalg.qr(rng.standard_normal((dim, dim)))
    stds = np.array([3.0, 1.5, 0.2, 0.2, 0.2, 0.2])[:dim]
    mean = rng.normal(0, 2, dim)
    samples = mean + (rng.standard_normal((count, dim)) * stds) @ rotation.T
    return samples.astype(np.float32), mean, stds


def test_fit_recovers_the_mean_the_strong_axes_and_the_rest():
    samples, mean, stds = anisotropic()
    prior = LatentPrior.fit(samples, rank=2)
    np.testing.assert_allclose(prior.mean, mean, atol=0.15)
    np.testing.assert_allclose(prior.scales, stds[:2], rtol=0.06)
    assert prior.residual == pytest.approx(0.2, rel=0.08)
    np.testing.assert_allclose(prior.components @ prior.components.T, np.eye(2), atol=1e-5)
    drawn = prior.sample(np.random.default_rng(1).standard_normal((4000, 6)))
    np.testing.assert_allclose(np.cov(drawn, rowvar=False), np.cov(samples, rowvar=False), atol=0.35)
    assert np.allclose(prior.shape_noise(np.zeros((1, 6))), 0.0)


def test_card_round_trip_and_bad_priors_are_refused():
    prior = LatentPrior.fit(anisotropic()[0], rank=3)
    back = LatentPrior.from_card(json.loads(json.dumps(prior.to_card())), 6)
    np.testing.assert_allclose(back.components, prior.components, atol=1e-4)
    good = prior.to_card()
    cases = {
        "kind": {**good, "kind": "mixture"},
        "mean length": {**good, "mean": good["mean"][:5]},
        "components shape": {**good, "components": good["components"][:2]},
        "not a number": {**good, "scales": ["a", 1, 2]},
        "negative": {**good, "scales": [-1.0, 1.0, 1.0]},
        "nan": {**good, "residual": float("nan")},
        "not orthonormal": {**good, "components": (np.asarray(good["components"]) * 2).tolist()},
        "missing": {k: v for k, v in good.items() if k != "residual"},
    }
    for name, card in cases.items():
        with pytest.raises(ModelError):
            LatentPrior.from_card(card, 6)
        assert name


def write_prior(folder, prior: LatentPrior | dict) -> None:
    card_path = folder / "model.json"
    card = json.loads(card_path.read_text())
    card["latent"]["prior"] = prior.to_card() if isinstance(prior, LatentPrior) else prior
    card_path.write_text(json.dumps(card))


def test_a_vae_with_a_prior_samples_and_explores_its_own_distribution(tmp_path):
    samples, mean, _ = anisotropic()
    folder = vae_folder(tmp_path, latent=6)
    write_prior(folder, LatentPrior.fit(samples, rank=2))
    space = space_from_registry(ModelRegistry(roots=[(tmp_path, "user")]), "tiny-vae")
    drawn = space.sample(seed=3, count=3000)
    assert np.array_equal(drawn, space.sample(seed=3, count=3000))  # still seeded
    np.testing.assert_allclose(drawn.mean(axis=0), mean, atol=0.2)
    np.testing.assert_allclose(np.cov(drawn, rowvar=False), np.cov(samples, rowvar=False), atol=0.5)
    # neighbour offsets follow the prior: mostly along its two strong axes
    grid = neighbours.neighbour_grid(drawn[0], 5, 1.0, 7, space.shape_noise)
    offsets = grid - drawn[0]
    strong = offsets @ space.prior.components.T
    assert np.linalg.norm(strong) > 4 * np.linalg.norm(offsets - strong @ space.prior.components)


def test_a_card_with_a_broken_prior_is_listed_with_its_reason(tmp_path):
    folder = vae_folder(tmp_path, latent=6)
    write_prior(folder, {"kind": "gaussian-pca", "mean": [0.0] * 5, "components": [[1.0] * 5], "scales": [1.0],
                         "residual": 1.0})
    (entry,) = ModelRegistry(roots=[(tmp_path, "user")]).entries()
    assert not entry.ok and "latent.prior" in entry.reason
