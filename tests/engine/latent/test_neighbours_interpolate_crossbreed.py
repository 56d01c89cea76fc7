import numpy as np
import pytest

from genart_desktop.core.errors import InputError
from genart_desktop.engine.latent import crossbreed, interpolate, neighbours


def test_grid_keeps_centre_and_is_deterministic():
    centre = np.arange(16, dtype=np.float32)
    grid = neighbours.neighbour_grid(centre, 5, 0.5, seed=9)
    assert grid.shape == (25, 16)
    np.testing.assert_array_equal(grid[12], centre)
    np.testing.assert_array_equal(grid, neighbours.neighbour_grid(centre, 5, 0.5, seed=9))
    assert not np.array_equal(grid, neighbours.neighbour_grid(centre, 5, 0.5, seed=10))


def test_grid_spread_scales_offsets_by_ring():
    centre = np.zeros(4000, np.float32)
    grid = neighbours.neighbour_grid(centre, 5, 1.0, seed=1)
    inner = np.linalg.norm(grid[6]) / np.sqrt(4000)
    outer = np.linalg.norm(grid[0]) / np.sqrt(4000)
    assert inner == pytest.approx(0.5, rel=0.1) and outer == pytest.approx(1.0, rel=0.1)
    assert np.all(neighbours.neighbour_grid(centre, 3, 0.0, seed=1) == 0)


@pytest.mark.parametrize("size", [2, 4, 7])
def test_grid_rejects_bad_sizes(size):
    with pytest.raises(InputError):
        neighbours.neighbour_grid(np.zeros(3), size, 0.5, 0)


def test_slerp_ends_and_norm():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(64), rng.standard_normal(64)
    np.testing.assert_allclose(interpolate.slerp(a, b, 0.0), a, atol=1e-5)
    np.testing.assert_allclose(interpolate.slerp(a, b, 1.0), b, atol=1e-5)
    mid = interpolate.slerp(a, b, 0.5)
    lin = interpolate.lerp(a, b, 0.5)
    expected = 0.5 * (np.linalg.norm(a) + np.linalg.norm(b))
    assert np.linalg.norm(mid) == pytest.approx(expected, rel=1e-4)
    assert np.linalg.norm(lin) < 0.85 * expected  # the straight line sags toward the origin


def test_slerp_of_parallel_vectors_falls_back_to_lerp():
    a = np.ones(5)
    np.testing.assert_allclose(interpolate.slerp(a, 3 * a, 0.5), 2 * a, atol=1e-6)


def test_path_frames_hit_every_key_and_loop():
    keys = [np.zeros(3), np.ones(3), np.full(3, 2.0)]
    frames = interpolate.path_frames(keys, 5, interpolate.LINEAR)
    np.testing.assert_allclose(frames, [[0] * 3, [0.5] * 3, [1] * 3, [1.5] * 3, [2] * 3], atol=1e-6)
    loop = interpolate.path_frames(keys[:2], 4, interpolate.LINEAR, loop=True)
    np.testing.assert_allclose(loop[:, 0], [0, 0.5, 1.0, 0.5], atol=1e-6)
    np.testing.assert_allclose(interpolate.path_point(keys, 0.75, interpolate.LINEAR), [1.5] * 3, atol=1e-6)
    with pytest.raises(InputError):
        interpolate.path_frames(keys[:1], 5, interpolate.SLERP)
    with pytest.raises(InputError):
        interpolate.path_frames([np.zeros(3), np.zeros(4)], 5, interpolate.SLERP)


def test_mix_preserves_gaussian_norm_and_ratio():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal(2000), rng.standard_normal(2000)
    child = crossbreed.mix([a, b], [0.5, 0.5])
    assert np.linalg.norm(child) == pytest.approx(np.sqrt(2000), rel=0.1)
    plain = crossbreed.mix([a, b], [3, 1], gaussian=False)
    np.testing.assert_allclose(plain, 0.75 * a + 0.25 * b, atol=1e-5)
    with pytest.raises(InputError):
        crossbreed.mix([a], None)
    with pytest.raises(InputError):
        crossbreed.mix([a, b], [0, 0])


def test_crossover_takes_each_dimension_from_a_parent():
    a, b = np.zeros(1000), np.ones(1000)
    child = crossbreed.crossover([a, b], [0.8, 0.2], seed=3)
    assert set(np.unique(child)) <= {0.0, 1.0}
    assert 0.12 < child.mean() < 0.28
    np.testing.assert_array_equal(child, crossbreed.crossover([a, b], [0.8, 0.2], seed=3))


def test_children_differ_and_are_reproducible():
    rng = np.random.default_rng(2)
    parents = [rng.standard_normal(32) for _ in range(3)]
    kids = crossbreed.children(parents, 4, crossbreed.CROSSOVER, seed=5)
    assert kids.shape == (4, 32) and len({k.tobytes() for k in kids}) == 4
    np.testing.assert_array_equal(kids, crossbreed.children(parents, 4, crossbreed.CROSSOVER, seed=5))
    mixes = crossbreed.children(parents, 3, crossbreed.MIX, seed=5, mutation=0.1)
    assert len({k.tobytes() for k in mixes}) == 3


def test_truncation():
    z = np.array([2.0, -4.0], np.float32)
    np.testing.assert_allclose(crossbreed.truncate(z, 0.5), [1.0, -2.0])
    with pytest.raises(InputError):
        crossbreed.truncate(z, 1.5)
    t = crossbreed.truncated_normal(1, 50, 20, 1.0)
    assert np.abs(t).max() <= 1.0
