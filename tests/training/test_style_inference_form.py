"""The exported form of the style network computes the same function, and shipped folders re-export from their own
weights only when the new graph agrees with the old one."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

from genart_desktop.core.errors import ModelError  # noqa: E402
from genart_desktop.engine.cards import sha256_file  # noqa: E402
from genart_desktop.training.export.parity import onnx_session  # noqa: E402
from genart_desktop.training.style.inference_form import PhaseConv, inference_form  # noqa: E402
from genart_desktop.training.style.network import StyleNet, StyleNetConfig  # noqa: E402
from genart_desktop.training.style.reexport import reexport_style_folder  # noqa: E402
from genart_desktop.training.style.run_memory import activation_bytes_per_pixel  # noqa: E402
from tests.training._fixtures import make_image_folder  # noqa: E402


def _net(width: int = 8, blocks: int = 1, seed: int = 0) -> StyleNet:
    torch.manual_seed(seed)
    net = StyleNet(StyleNetConfig(width, blocks)).eval()
    with torch.no_grad():  # trained-looking norms, not the identity initialisation
        for module in net.modules():
            if isinstance(module, torch.nn.InstanceNorm2d):
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.3, 0.3)
    return net


@pytest.mark.parametrize("shape", [(1, 3, 32, 48), (2, 3, 20, 12)])
def test_inference_form_is_the_same_function(shape):
    net = _net()
    x = torch.rand(shape, generator=torch.Generator().manual_seed(1)) * 2 - 1
    with torch.no_grad():
        expected, got = net(x), inference_form(net)(x)
    assert got.shape == expected.shape
    assert float((got - expected).abs().max()) < 1e-5


def test_phase_conv_matches_a_reflect_padded_convolution_and_refuses_strided_ones():
    torch.manual_seed(2)
    conv = torch.nn.Conv2d(5, 3, 9)
    x = torch.randn(1, 5, 16, 20)
    with torch.no_grad():
        expected = conv(torch.nn.functional.pad(x, (4,) * 4, mode="reflect"))
        got = PhaseConv(conv, 4, tanh=False)(x)
    assert float((got - expected).abs().max()) < 1e-5
    with pytest.raises(ValueError):
        PhaseConv(torch.nn.Conv2d(5, 3, 3, stride=2), 1, tanh=False)


def _old_style_folder(folder: Path, net: StyleNet, width: int) -> Path:
    """A model folder as the shipped ones were exported: StyleNet itself, a card with a forced tile."""
    folder.mkdir(parents=True)
    axes = {0: "batch", 2: "height", 3: "width"}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(net, (torch.zeros(1, 3, 64, 64),), str(folder / "stylizer.onnx"), input_names=["content"],
                          output_names=["stylized"], dynamic_axes={"content": axes, "stylized": axes},
                          opset_version=17, dynamo=False)
    card = {"format": "genart-model-card/1", "id": "old-style", "family": "style",
            "files": {"stylizer": {"path": "stylizer.onnx", "sha256": sha256_file(folder / "stylizer.onnx")}},
            "metrics": {"parity_max_abs_diff": {"stylizer": 1e-6}}, "provenance": {},
            "config": {"size_multiple": 4, "tile": 768, "network": {"width": width, "residual_blocks": 1}}}
    (folder / "model.json").write_text(json.dumps(card), encoding="utf-8")
    return folder


def test_reexport_keeps_the_function_updates_the_card_and_drops_the_forced_tile(tmp_path):
    net = _net()
    folder = _old_style_folder(tmp_path / "old-style", net, 8)
    photos = sorted(make_image_folder(tmp_path / "photos", count=2).iterdir())
    batch = np.random.default_rng(0).uniform(-1, 1, (1, 3, 40, 56)).astype(np.float32)
    before = onnx_session(folder / "stylizer.onnx").run(None, {"content": batch})[0]
    card = reexport_style_folder(folder, photos)
    after = onnx_session(folder / "stylizer.onnx").run(None, {"content": batch})[0]
    assert np.abs(after - before).max() <= 1e-4
    saved = json.loads((folder / "model.json").read_text(encoding="utf-8"))
    assert saved == card
    assert card["files"]["stylizer"]["sha256"] == sha256_file(folder / "stylizer.onnx")
    assert "tile" not in card["config"] and card["config"]["activation_bytes_per_pixel"] > 0
    assert card["metrics"]["reexport_max_abs_diff_vs_previous_graph"] <= 1e-4
    assert sorted(p.name for p in folder.iterdir()) == ["model.json", "stylizer.onnx"]


def test_reexport_refuses_weights_of_another_network_and_changes_nothing(tmp_path):
    folder = _old_style_folder(tmp_path / "old-style", _net(width=8), 16)  # the card claims width 16
    photos = sorted(make_image_folder(tmp_path / "photos", count=1).iterdir())
    files = {p.name: p.read_bytes() for p in folder.iterdir()}
    with pytest.raises(ModelError, match="does not hold the weights"):
        reexport_style_folder(folder, photos)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == files


def test_run_memory_is_measured_per_pixel(tmp_path):
    net = _net()
    folder = _old_style_folder(tmp_path / "m", net, 8)
    per_pixel = activation_bytes_per_pixel(folder / "stylizer.onnx", side=128)
    if per_pixel is None:
        pytest.skip("peak memory cannot be read on this system")
    assert 12 * 2 <= per_pixel <= 8 * 1024  # more than the input and output, far less than a kilobyte per channel
