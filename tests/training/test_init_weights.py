"""ONNX weights read back into PyTorch: by name, through the exporter's renames, and refused when they disagree."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

from genart_desktop.core.errors import InputError  # noqa: E402
from genart_desktop.training.export.onnx_file import export_onnx, store_weights_as_fp16  # noqa: E402
from genart_desktop.training.export.parity import max_abs_diff  # noqa: E402
from genart_desktop.training.init_weights import (  # noqa: E402
    OnnxTarget,
    check_against_onnx,
    load_onnx_initialisers,
)

MODELS = Path(__file__).resolve().parents[2] / "models"


class Mixer(torch.nn.Module):
    """What makes torch.onnx.export rename weights: GroupNorm affines (Mul/Add constants), a Linear on a 3-D
    tensor (a transposed MatMul weight, square so only the consumer tells) and equal norms shared by Identity."""

    def __init__(self, channels: int = 8) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(3, channels, 3, padding=1)
        self.norm1 = torch.nn.GroupNorm(2, channels)
        self.norm2 = torch.nn.GroupNorm(2, channels)
        self.mix = torch.nn.Linear(channels, channels)
        self.out = torch.nn.Conv2d(channels, 3, 1)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        x = self.norm2(torch.relu(self.norm1(self.conv(image))))
        b, c, h, w = x.shape
        x = self.mix(x.flatten(2).transpose(1, 2)).transpose(1, 2).reshape(b, c, h, w)
        return self.out(x)


def _trained_like(seed: int) -> Mixer:
    torch.manual_seed(seed)
    net = Mixer()
    with torch.no_grad():
        net.norm1.weight.uniform_(0.5, 1.5)
        net.norm1.bias.normal_()  # norm2 keeps its ones and zeros: equal constants the exporter shares
    return net.eval()


def _exported(tmp_path: Path, net: torch.nn.Module, fp16: bool = False) -> Path:
    path = export_onnx(net, {"image": torch.rand(1, 3, 8, 8)}, ["out"], tmp_path / "mixer.onnx")
    if fp16:
        store_weights_as_fp16(path, min_elements=16)
    return path


@pytest.mark.parametrize("fp16", [False, True])
def test_renamed_weights_are_read_back_exactly(tmp_path, fp16):
    source = _trained_like(1)
    path = _exported(tmp_path, source, fp16)
    fresh = _trained_like(2)
    load_onnx_initialisers(fresh, path)
    feeds = {"image": torch.rand(2, 3, 8, 8)}
    assert max_abs_diff(path, fresh, feeds, ["out"])["out"] < 1e-5
    if not fp16:
        assert all(torch.equal(a, b) for a, b in zip(fresh.state_dict().values(), source.state_dict().values()))


def test_a_network_of_another_shape_is_refused_in_one_line(tmp_path):
    path = _exported(tmp_path, _trained_like(1))
    with pytest.raises(InputError, match="holds no weights for .*the network the options describe"):
        load_onnx_initialisers(torch.nn.Sequential(torch.nn.Conv2d(3, 5, 7)), path)


def test_the_forward_check_names_the_largest_difference(tmp_path):
    path = _exported(tmp_path, _trained_like(1))
    target = OnnxTarget("mixer", ("net",), {"image": torch.rand(1, 3, 8, 8)}, ["out"])
    other = _trained_like(3)
    with pytest.raises(InputError, match=r"^--init-from src: the PyTorch network read from mixer.onnx disagrees "
                                         r"with onnxruntime by [0-9.e+-]+ \(tolerance 0.0001\)") as caught:
        check_against_onnx(target, other, path, "src")
    assert "\n" not in str(caught.value)
    load_onnx_initialisers(other, path)
    assert check_against_onnx(target, other, path, "src") < 1e-5


def _card_network(model: str, config_type, build):
    from genart_desktop.training.init_source import command_options

    card = json.loads((MODELS / model / "model.json").read_text())
    return build(config_type(**command_options(card["provenance"]["command"], config_type))), MODELS / model


def test_the_shipped_vae_reads_back_through_the_renamed_norms():
    from genart_desktop.training.vae.config import VaeConfig
    from genart_desktop.training.vae.trainer import VaeNet

    net, folder = _card_network("emoji-vae-64", VaeConfig, VaeNet)
    image = torch.rand(2, 3, 64, 64) * 2 - 1
    load_onnx_initialisers(net.encoder, folder / "encoder.onnx")
    load_onnx_initialisers(net.decoder, folder / "decoder.onnx")
    encoder = OnnxTarget("encoder", ("encoder",), {"image": image}, ["mean", "logvar"])
    assert check_against_onnx(encoder, net.encoder, folder / "encoder.onnx", "emoji-vae-64") < 1e-4
    decoder = OnnxTarget("decoder", ("decoder",), {"latent": torch.randn(2, 4, 8, 8)}, ["image"])
    assert check_against_onnx(decoder, net.decoder, folder / "decoder.onnx", "emoji-vae-64") < 1e-4


def test_the_shipped_upscaler_reads_back_by_name():
    from genart_desktop.training.upscale.config import UpscaleConfig
    from genart_desktop.training.upscale.network import UpscaleNet

    net, folder = _card_network("upscale-x4", UpscaleConfig, lambda cfg: UpscaleNet(cfg.network()))
    load_onnx_initialisers(net, folder / "upscaler.onnx")
    target = OnnxTarget("upscaler", ("net",), {"low": torch.rand(1, 3, 20, 24)}, ["high"])
    assert check_against_onnx(target, net, folder / "upscaler.onnx", "upscale-x4") < 1e-4


class _Interleaved(torch.nn.Module):
    """Registers all its first norms before its second ones but runs them interleaved (first 0, second 0, first 1,
    second 1), like a U-Net level's blocks and attentions: same-size weights in another order than the graph's."""

    def __init__(self) -> None:
        super().__init__()
        self.first = torch.nn.ModuleList([torch.nn.GroupNorm(2, 8), torch.nn.GroupNorm(2, 8)])
        self.mixers = torch.nn.ModuleList([torch.nn.Linear(8, 8, bias=False), torch.nn.Linear(8, 8, bias=False)])
        self.second = torch.nn.ModuleList([torch.nn.GroupNorm(2, 8), torch.nn.GroupNorm(2, 8)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for first, mixer, second in zip(self.first, self.mixers, self.second):
            x = second(mixer(first(x).transpose(1, 2)).transpose(1, 2))
        return x


def test_unnamed_weights_are_matched_in_the_order_the_forward_pass_uses_them(tmp_path):
    from genart_desktop.training.export.onnx_file import export_onnx
    from genart_desktop.training.init_weights import load_onnx_initialisers

    torch.manual_seed(0)
    source = _Interleaved()
    with torch.no_grad():
        for parameter in source.parameters():
            parameter.copy_(torch.randn_like(parameter))
    inputs = {"x": torch.randn(2, 8, 5)}
    path = export_onnx(source, inputs, ["y"], tmp_path / "interleaved.onnx")
    ordered, unordered = _Interleaved(), _Interleaved()
    load_onnx_initialisers(ordered, path, inputs)
    load_onnx_initialisers(unordered, path)
    for name, value in source.state_dict().items():
        assert torch.equal(ordered.state_dict()[name], value), name
    with torch.no_grad():
        assert torch.allclose(ordered(inputs["x"]), source(inputs["x"]), atol=1e-5)
        assert not torch.allclose(unordered(inputs["x"]), source(inputs["x"]), atol=1e-3)
