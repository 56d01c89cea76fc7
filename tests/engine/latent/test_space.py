import numpy as np
import pytest

from genart_desktop.core.errors import InputError, ModelError
from genart_desktop.engine.latent.space import GAN, VAE, LatentSpace, images_from_tensor
from genart_desktop.engine.session import ModelSession
from tests.engine.latent.tiny_latent import gan_space, vae_space
from tests.tiny_onnx import decoder, image_model, linear_generator, save_model


def test_gan_reads_latent_shape_and_renders_batches(tmp_path):
    space = gan_space(tmp_path, latent=8, size=8)
    assert space.latent_shape == (8,) and space.latent_dim == 8 and space.kind == GAN
    assert space.image_size == (8, 8)
    z = space.sample(seed=42, count=70)  # more than one internal batch of 64
    images = space.decode(z)
    assert images.shape == (70, 8, 8, 3) and images.dtype == np.uint8
    np.testing.assert_array_equal(images[3], space.decode(z[3])[0])
    assert not np.array_equal(images[0], images[1])


def test_sampling_is_deterministic_by_seed(tmp_path):
    space = gan_space(tmp_path)
    np.testing.assert_array_equal(space.sample(7, 2), space.sample(7, 2))
    assert not np.array_equal(space.sample(7), space.sample(8))


def test_wrong_latent_size_is_a_clear_error(tmp_path):
    space = gan_space(tmp_path, latent=8)
    with pytest.raises(InputError, match="8 values"):
        space.decode(np.zeros(5, np.float32))
    with pytest.raises(InputError, match="NaN"):
        space.decode(np.full(8, np.nan, np.float32))


def test_card_that_disagrees_with_graph_is_rejected(tmp_path):
    session = ModelSession.load(save_model(linear_generator(latent=8), tmp_path / "g.onnx"))
    with pytest.raises(ModelError, match="card says"):
        LatentSpace(GAN, session, card_latent_shape=[16])


def test_model_without_expected_ports_is_rejected(tmp_path):
    session = ModelSession.load(save_model(image_model(), tmp_path / "style.onnx"))
    with pytest.raises(ModelError, match="no input named 'z'"):
        LatentSpace(GAN, session)
    vae_decoder = ModelSession.load(save_model(decoder(latent=4), tmp_path / "d.onnx"))
    with pytest.raises(ModelError, match="not 'style'"):
        LatentSpace("style", vae_decoder)


def test_vae_encode_decode_round_trip(tmp_path):
    space = vae_space(tmp_path, latent=6, size=8)
    assert space.kind == VAE and space.can_encode and space.interpolation == "linear"
    z = np.random.default_rng(3).standard_normal(6).astype(np.float32) * 0.8
    picture = space.decode(z)[0]
    mean, logvar = space.encode(picture)
    np.testing.assert_allclose(mean, z, atol=0.02)
    assert logvar.shape == (6,)
    again = space.decode(mean)[0]
    assert np.abs(again.astype(int) - picture.astype(int)).max() <= 2


def test_encode_resizes_and_flattens_alpha(tmp_path):
    space = vae_space(tmp_path, latent=6, size=8)
    rgba = np.zeros((32, 20, 4), np.uint8)
    rgba[..., :3] = 200
    rgba[..., 3] = 255
    mean, _ = space.encode(rgba)
    assert mean.shape == (6,) and np.all(np.isfinite(mean))


def test_gan_cannot_encode(tmp_path):
    space = gan_space(tmp_path)
    with pytest.raises(InputError, match="no encoder"):
        space.encode(np.zeros((8, 8, 3), np.uint8))


def test_images_from_tensor_handles_nan_and_range():
    x = np.array([[[[np.nan, 2.0], [-1.0, 0.0]]]], np.float32)
    out = images_from_tensor(x)
    assert out.shape == (1, 2, 2, 3)
    assert out[0, 0, 1, 0] == 255 and out[0, 1, 0, 0] == 0 and out[0, 0, 0, 0] == 128


def test_space_from_registry(tmp_path):
    from genart_desktop.engine.latent.space import space_from_registry
    from genart_desktop.engine.registry import ModelRegistry
    from tests.engine.latent.tiny_latent import gan_folder, vae_folder
    from tests.tiny_onnx import image_model, write_model_folder

    gan_folder(tmp_path, latent=8)
    vae_folder(tmp_path, latent=6)
    write_model_folder(tmp_path, "tiny-style", "style", {"stylizer": image_model()})
    registry = ModelRegistry(roots=[(tmp_path, "user")])
    gan = space_from_registry(registry, "tiny-gan")
    assert gan.kind == GAN and gan.latent_dim == 8 and len(gan.sha256) == 64
    vae = space_from_registry(registry, "tiny-vae")
    assert vae.kind == VAE and vae.can_encode and vae.latent_dim == 6
    with pytest.raises(ModelError, match="needs a GAN or a VAE"):
        space_from_registry(registry, "tiny-style")
