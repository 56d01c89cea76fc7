"""Loss pieces (Gram matrix, TV, content/style) and the perceptual networks' weight loading (HDF5 and VGG-19)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
h5py = pytest.importorskip("h5py")

from genart_desktop.core.errors import ModelError  # noqa: E402
from genart_desktop.training.style import squeezenet, vgg  # noqa: E402
from genart_desktop.training.style.losses import (  # noqa: E402
    LossWeights,
    PerceptualLoss,
    content_loss,
    gram_matrix,
    style_loss,
    total_variation,
)
from genart_desktop.training.style.perceptual import LossNetwork, load_loss_network, shared_data_dir  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared" / "data"
H5 = SHARED / "weights" / squeezenet.WEIGHTS_FILE
needs_h5 = pytest.mark.skipif(not H5.is_file(), reason=f"{H5} is not there (shared data missing)")


def test_gram_matrix_matches_a_hand_computation():
    features = torch.arange(2 * 3 * 2 * 2, dtype=torch.float32).reshape(2, 3, 2, 2)
    gram = gram_matrix(features)
    flat = features[1].reshape(3, 4)
    assert gram.shape == (2, 3, 3)
    torch.testing.assert_close(gram[1], flat @ flat.T / 12)
    torch.testing.assert_close(gram[1], gram[1].T)


def test_gram_ignores_spatial_arrangement_but_not_channel_statistics():
    features = torch.randn(1, 4, 8, 8)
    shuffled = features.reshape(1, 4, 64)[:, :, torch.randperm(64)].reshape(1, 4, 8, 8)
    torch.testing.assert_close(gram_matrix(features), gram_matrix(shuffled))
    assert not torch.allclose(gram_matrix(features), gram_matrix(features * 2))


def test_total_variation():
    flat = torch.ones(1, 3, 8, 8)
    assert float(total_variation(flat)) == 0.0
    stripes = torch.zeros(1, 1, 4, 4)
    stripes[..., ::2] = 1.0  # every horizontal neighbour differs by 1, vertical ones not at all
    assert float(total_variation(stripes)) == pytest.approx(1.0)
    noisy = flat + 0.1 * torch.randn(1, 3, 8, 8)
    assert float(total_variation(noisy)) > 0.005


def test_content_and_style_losses_are_zero_at_the_target_and_relative():
    features = torch.randn(2, 5, 6, 6)
    assert float(content_loss(features, features)) == 0.0
    assert float(content_loss(features * 10, features * 10 + 10)) == pytest.approx(
        float(content_loss(features, features + 1)), rel=1e-4)
    targets = {"a": gram_matrix(features[:1])}
    assert float(style_loss({"a": gram_matrix(features[:1])}, targets)) == 0.0
    assert float(style_loss({"a": gram_matrix(features[1:])}, targets)) > 0.0


def test_perceptual_loss_gradients_reach_the_image():
    network = LossNetwork("squeezenet", squeezenet.SqueezeNetFeatures().eval(), ("fire3",), ("conv1", "fire2"),
                          Path("random"))
    loss = PerceptualLoss(network, LossWeights(1.0, 10.0, 0.1))
    content = torch.rand(1, 3, 48, 48) * 2 - 1
    style = torch.rand(1, 3, 48, 48) * 2 - 1
    image = content.clone().requires_grad_(True)
    values = loss(image, loss.content_targets(content), loss.style_targets(style))
    assert float(values["content"]) == pytest.approx(0.0, abs=1e-6)
    values["total"].backward()
    assert image.grad is not None and float(image.grad.abs().sum()) > 0


# -- SqueezeNet 1.1 from the Keras HDF5 file ------------------------------------------------------------------------


def _numpy_conv1(rgb: np.ndarray, kernel: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """Keras conv1 on a Caffe-preprocessed image, by hand: valid 3x3, stride 2, ReLU. Returns (H, W, 64)."""
    x = rgb[..., ::-1].astype(np.float64) - np.array(squeezenet.CAFFE_BGR_MEAN)
    height, width = (x.shape[0] - 3) // 2 + 1, (x.shape[1] - 3) // 2 + 1
    out = np.zeros((height, width, kernel.shape[3]))
    for i in range(3):
        for j in range(3):
            out += np.einsum("hwc,co->hwo", x[i:i + 2 * height:2, j:j + 2 * width:2], kernel[i, j])
    return np.maximum(out + bias, 0.0)


def _photo(size: tuple[int, int] = (96, 72)) -> np.ndarray:
    from PIL import Image

    path = SHARED / "content" / "tubingen_neckarfront.jpg"
    return np.asarray(Image.open(path).convert("RGB").resize(size), dtype=np.uint8)


@needs_h5
def test_shared_data_is_found_beside_the_repository():
    assert shared_data_dir().resolve() == SHARED.resolve()


@needs_h5
def test_first_conv_layer_matches_a_numpy_convolution_of_the_hdf5_kernels():
    with h5py.File(H5, "r") as handle:  # read independently of the loader
        kernel = np.asarray(handle["conv1"]["uniform1"], np.float32)
        bias = np.asarray(handle["conv1"]["conv1_b"], np.float32)
    assert kernel.shape == (3, 3, 3, 64)
    rgb = _photo()
    expected = _numpy_conv1(rgb, kernel, bias)
    model = squeezenet.load_squeezenet(H5)
    image = torch.from_numpy(rgb.astype(np.float32) / 127.5 - 1.0).permute(2, 0, 1)[None]
    got = model(image, ("conv1",))["conv1"][0].permute(1, 2, 0).numpy()
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=1e-3 * np.abs(expected).max())
    # a wrong conversion (RGB instead of BGR, or flipped kernels) would not match
    assert np.abs(_numpy_conv1(rgb[..., ::-1], kernel, bias) - expected).max() > 1.0
    assert np.abs(_numpy_conv1(rgb, kernel[::-1, ::-1], bias) - expected).max() > 1.0


@needs_h5
def test_deep_features_of_a_real_photo_are_non_degenerate():
    network = load_loss_network("squeezenet", H5)
    model = network.module
    photo = torch.from_numpy(_photo((160, 120)).astype(np.float32) / 127.5 - 1.0).permute(2, 0, 1)[None]
    features = model(photo, ("fire5", "fire9"))
    for name, value in features.items():
        active = float((value > 0).float().mean())
        assert 0.01 < active < 0.95, (name, active)
        per_channel = value.flatten(2).std(-1)
        assert float((per_channel > 1e-3).float().mean()) > 0.2, name
    # trained features respond to image structure: a flipped photo is far closer than noise with the same colours
    flipped = model(photo.flip(-1), ("fire5",))["fire5"]
    noise = photo.flatten(2)[:, :, torch.randperm(photo.shape[2] * photo.shape[3])].reshape(photo.shape)
    scrambled = model(noise, ("fire5",))["fire5"]
    base = gram_matrix(features["fire5"])
    assert float((gram_matrix(flipped) - base).norm()) < 0.5 * float((gram_matrix(scrambled) - base).norm())


def test_missing_weights_are_a_clear_error(tmp_path):
    with pytest.raises(ModelError, match="--loss-weights"):
        squeezenet.load_squeezenet(tmp_path / "nope.h5")
    (tmp_path / "bad.h5").write_bytes(b"not hdf5")
    with pytest.raises(ModelError, match="HDF5"):
        squeezenet.load_squeezenet(tmp_path / "bad.h5")


def test_a_wrong_hdf5_file_is_refused(tmp_path):
    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as handle:
        handle.create_dataset("conv1/kernel", data=np.zeros((3, 3, 3, 32), np.float32))
        handle.create_dataset("conv1/bias", data=np.zeros((32,), np.float32))
    with pytest.raises(ModelError):
        squeezenet.load_squeezenet(path)


# -- VGG-19 (torchvision layout, loaded from a local file only) ------------------------------------------------------


def _fake_torchvision_vgg19(path: Path) -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    state = {f"features.{k}": v for k, v in vgg.VGG19Features().features.state_dict().items()}
    state["classifier.0.weight"] = torch.zeros(4, 4)  # torchvision files also hold the classifier
    torch.save(state, path)
    return state


def test_vgg19_loads_a_torchvision_state_dict_from_the_hub_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    cache = tmp_path / "torch" / "hub" / "checkpoints"
    cache.mkdir(parents=True)
    state = _fake_torchvision_vgg19(cache / vgg.HUB_FILE)
    network = load_loss_network("auto")
    assert network.name == "vgg19" and network.weights == cache / vgg.HUB_FILE
    torch.testing.assert_close(network.module.features[34].weight, state["features.34.weight"])
    assert len(network.module.features) == 37  # 16 convs + 16 ReLUs + 5 pools
    features = network.module(torch.zeros(1, 3, 32, 32), ("relu1_1", "relu3_1", "relu5_1"))
    assert features["relu1_1"].shape == (1, 64, 32, 32)
    assert features["relu3_1"].shape == (1, 256, 8, 8)
    assert features["relu5_1"].shape == (1, 512, 2, 2)


def test_vgg19_safetensors_and_errors(tmp_path, monkeypatch):
    from safetensors.torch import save_file

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty"))
    with pytest.raises(ModelError, match="never|nothing is downloaded"):
        load_loss_network("vgg19")
    state = {f"features.{k}": v.contiguous() for k, v in vgg.VGG19Features().features.state_dict().items()}
    save_file(state, str(tmp_path / "vgg19.safetensors"))
    assert load_loss_network("vgg19", tmp_path / "vgg19.safetensors").name == "vgg19"
    del state["features.0.weight"]
    save_file(state, str(tmp_path / "broken.safetensors"))
    with pytest.raises(ModelError, match="not a torchvision VGG-19"):
        vgg.load_vgg19(tmp_path / "broken.safetensors")


@needs_h5
def test_unknown_layers_are_refused():
    from genart_desktop.core.errors import InputError

    with pytest.raises(InputError, match="no layer"):
        load_loss_network("squeezenet", H5, style_layers=("fire99",))
