import numpy as np
import pytest

from genart_desktop.core.errors import InputError, JobCancelled
from genart_desktop.core.paths import cache_dir
from genart_desktop.engine.latent import directions as dirs
from tests.engine.latent.tiny_latent import gan_space


def test_principal_directions_are_unit_and_ordered(tmp_path):
    space = gan_space(tmp_path, latent=8, size=8)
    found = dirs.principal_directions(space, count=4, samples=256)
    assert len(found) == 4
    for d in found:
        assert d.vector.shape == (8,) and np.linalg.norm(d.vector) == pytest.approx(1.0, abs=1e-5)
    variances = [d.variance for d in found]
    assert variances == sorted(variances, reverse=True)


def test_first_direction_changes_the_image_most(tmp_path):
    """Moving along PC 1 changes the output more than moving along a random unit direction, on average."""
    space = gan_space(tmp_path, latent=8, size=8)
    pc1 = dirs.principal_directions(space, count=2, samples=256)[0].vector
    rng = np.random.default_rng(4)
    base = rng.standard_normal((40, 8)).astype(np.float32)
    rand = rng.standard_normal(8).astype(np.float32)
    rand /= np.linalg.norm(rand)

    def change(v):
        return np.abs(space.decode_tensor(base + v) - space.decode_tensor(base - v)).mean()

    assert change(0.5 * pc1) > change(0.5 * rand)


def test_directions_are_cached_by_sha(tmp_path, monkeypatch):
    space = gan_space(tmp_path)
    first = dirs.cached_principal_directions(space, count=3, samples=64)
    files = list((cache_dir() / "latent-directions").glob("*.npz"))
    assert len(files) == 1 and space.sha256 in files[0].name

    def boom(*args, **kwargs):
        raise AssertionError("should have used the cache")

    monkeypatch.setattr(dirs, "principal_directions", boom)
    second = dirs.cached_principal_directions(space, count=3, samples=64)
    for a, b in zip(first, second):
        np.testing.assert_allclose(a.vector, b.vector)
    files[0].write_bytes(b"not a zip")  # a damaged cache is ignored, then recomputed
    assert dirs.load_cached(space, count=3, samples=64) is None


def test_cancel_stops_direction_search(tmp_path):
    space = gan_space(tmp_path)
    with pytest.raises(JobCancelled):
        dirs.principal_directions(space, samples=256, cancelled=lambda: True)


def test_direction_between_two_images():
    a, b = np.zeros(4, np.float32), np.array([1, 2, 0, 0], np.float32)
    d = dirs.direction_between(a, b, "smile")
    np.testing.assert_allclose(dirs.combine(a, [d], [1 / d.span]), b, atol=1e-6)
    with pytest.raises(InputError):
        dirs.direction_between(a, a)


def test_user_directions_saved_and_reloaded():
    store = dirs.UserDirections("tiny-gan", 4)
    store.save(dirs.Direction("warmer", np.array([1, 0, 0, 0], np.float32), 2.0, "user"))
    store.save(dirs.Direction("older", np.array([0, 1, 0, 0], np.float32), 1.5, "user"))
    store.save(dirs.Direction("warmer", np.array([0, 0, 1, 0], np.float32), 2.0, "user"))
    loaded = dirs.UserDirections("tiny-gan", 4).load()
    assert [d.name for d in loaded] == ["older", "warmer"]
    np.testing.assert_array_equal(loaded[1].vector, [0, 0, 1, 0])
    store.delete("older")
    assert [d.name for d in store.load()] == ["warmer"]
    with pytest.raises(InputError):
        store.save(dirs.Direction(" ", np.ones(4, np.float32)))
    with pytest.raises(InputError):
        store.save(dirs.Direction("wrong", np.ones(3, np.float32)))


def test_corrupt_user_directions_file_is_reported_and_kept():
    store = dirs.UserDirections("tiny-gan", 4)
    store.path.parent.mkdir(parents=True, exist_ok=True)
    store.path.write_text("{broken")
    with pytest.raises(InputError, match="cannot be read"):
        store.load()
    assert store.path.read_text() == "{broken"
