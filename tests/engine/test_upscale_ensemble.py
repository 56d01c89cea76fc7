"""The upscaler's geometric self-ensemble: each transform is undone exactly (a network that is symmetric gives the
same picture with any ensemble, on tiles that are not square), averaging an asymmetric linear network equals
running its symmetrised kernel once, and bad sizes are refused."""

from __future__ import annotations

import numpy as np
import pytest

from genart_desktop.core.errors import InputError
from genart_desktop.engine.pipelines.upscale import UpscaleNetwork, UpscalePipeline
from genart_desktop.engine.pipelines.upscale_ensemble import SIZES, TRANSFORMS, SelfEnsemble
from genart_desktop.engine.session import ModelSession
from tests.engine.tiny_upscaler import tiny_upscaler
from tests.tiny_onnx import save_model

ASYMMETRIC = np.array([[0.30, -0.05, 0.02], [0.10, 0.55, -0.08], [0.00, 0.06, 0.10]], np.float32)


def network(tmp_path, taps: np.ndarray, name: str) -> UpscaleNetwork:
    path = save_model(tiny_upscaler(2, taps=taps), tmp_path / f"{name}.onnx")
    return UpscaleNetwork(ModelSession.load(path, {"execution_provider": "cpu"}), 2)


def picture(height: int = 37, width: int = 58) -> np.ndarray:
    return np.random.default_rng(1).integers(0, 256, (height, width, 3)).astype(np.uint8)


def dihedral_mean(taps: np.ndarray, size: int) -> np.ndarray:
    """The kernel an ensemble of ``size`` averages to: each transform's inverse applied to the kernel (a
    convolution commutes with flips and transposes when its kernel is transformed the same way)."""
    return np.mean([inverse(taps) for _, inverse in TRANSFORMS[:size]], axis=0)


def test_the_transforms_are_eight_distinct_pairs_each_undoing_the_other():
    tile = np.arange(2 * 3 * 5 * 7, dtype=np.float32).reshape(2, 3, 5, 7)
    seen = set()
    for forward, inverse in TRANSFORMS:
        moved = forward(tile)
        np.testing.assert_array_equal(inverse(moved), tile)
        seen.add(moved.tobytes() + bytes(moved.shape))
    assert len(seen) == len(TRANSFORMS) == max(SIZES)


@pytest.mark.parametrize("size", SIZES)
def test_a_symmetric_network_gives_the_same_picture_with_any_ensemble(tmp_path, size):
    symmetric = dihedral_mean(ASYMMETRIC, 8)
    net = network(tmp_path, symmetric, "symmetric")
    image = picture()
    once = UpscalePipeline(net, tile=24, overlap=6).upscale(image)  # tiles of 24x24, 24x13, 13x24 ...
    tiled = UpscalePipeline(net, tile=24, overlap=6, ensemble=size).upscale(image)
    assert tiled.shape == once.shape == (74, 116, 3)
    assert np.abs(tiled.astype(int) - once.astype(int)).max() <= 1


@pytest.mark.parametrize("size", [2, 4, 8])
def test_averaging_an_asymmetric_network_is_its_symmetrised_kernel_run_once(tmp_path, size):
    image = picture(31, 45)
    ensemble = UpscalePipeline(network(tmp_path, ASYMMETRIC, "raw"), tile=512, overlap=0, ensemble=size)
    expected = UpscalePipeline(network(tmp_path, dihedral_mean(ASYMMETRIC, size), "mean"), tile=512, overlap=0)
    plain = UpscalePipeline(network(tmp_path, ASYMMETRIC, "raw"), tile=512, overlap=0).upscale(image)
    got, want = ensemble.upscale(image).astype(int), expected.upscale(image).astype(int)
    assert np.abs(got - want).max() <= 1
    assert np.abs(plain.astype(int) - want).max() > 3  # the ensemble really changed the picture


def test_each_tile_runs_the_network_once_per_member(tmp_path):
    net = network(tmp_path, ASYMMETRIC, "raw")
    shapes = []

    def counting(batch, run_options=None):
        shapes.append(batch.shape)
        return net(batch, run_options)

    counting.scale = 2  # type: ignore[attr-defined]
    SelfEnsemble(counting, 4)(np.zeros((1, 3, 10, 16), np.float32))
    assert shapes == [(1, 3, 10, 16)] * 4
    shapes.clear()
    SelfEnsemble(counting, 8)(np.zeros((1, 3, 10, 16), np.float32))
    assert shapes == [(1, 3, 10, 16)] * 4 + [(1, 3, 16, 10)] * 4


@pytest.mark.parametrize("size", [0, 3, 16, 2.0, True, "4"])
def test_other_sizes_are_refused_in_one_line(tmp_path, size):
    net = network(tmp_path, ASYMMETRIC, "raw")
    with pytest.raises(InputError, match="must be one of 1, 2, 4, 8 runs per tile"):
        UpscalePipeline(net, ensemble=size)
