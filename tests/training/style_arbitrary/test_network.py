"""The arbitrary-style network's pieces: exact 1/8 features, AdaIN statistics, strength and blending in the graph."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from genart_desktop.training.style.squeezenet import SqueezeNetFeatures  # noqa: E402
from genart_desktop.training.style_arbitrary.network import (Decoder, DecoderConfig, Encoder,  # noqa: E402
                                                             StatsEncoder, Transfer, adain, feature_stats)


def _parts():
    torch.manual_seed(0)
    encoder = Encoder(SqueezeNetFeatures()).eval()
    decoder = Decoder(DecoderConfig(16)).eval()
    return encoder, decoder


@pytest.mark.parametrize("size", [(64, 96), (40, 24), (16, 16)])
def test_a_multiple_of_eight_maps_to_exactly_an_eighth(size):
    encoder, decoder = _parts()
    features = encoder.adain_features(torch.rand(1, 3, *size) * 2 - 1)
    assert features.shape[-2:] == (size[0] // 8, size[1] // 8)
    assert decoder(features).shape[-2:] == size


def test_adain_gives_the_style_statistics():
    content, style = torch.randn(2, 8, 5, 7) * 3 + 1, torch.randn(2, 8, 6, 4) * 0.5 - 2
    c_mean, c_std = feature_stats(content)
    s_mean, s_std = feature_stats(style)
    mean, std = feature_stats(adain(content, c_mean, c_std, s_mean, s_std))
    assert torch.allclose(mean, s_mean, atol=1e-4) and torch.allclose(std, s_std, atol=1e-3)


class _Probe(torch.nn.Module):
    """A stand-in decoder that shows a few feature channels, so differences in the features stay visible."""

    def forward(self, features):
        return features.mean(1, keepdim=True).expand(-1, 3, -1, -1) * 10


def test_strength_zero_decodes_the_content_and_blends_are_linear_in_the_statistics():
    encoder, _ = _parts()
    decoder = _Probe()
    transfer, stats = Transfer(encoder, decoder), StatsEncoder(encoder)
    content = torch.rand(1, 3, 32, 48) * 2 - 1
    c_mean, c_std = stats(content)
    a = stats(torch.rand(1, 3, 32, 32) * 2 - 1)
    b = stats(torch.rand(1, 3, 32, 32) * 0.2)
    with torch.no_grad():
        plain = decoder(encoder.adain_features(content)).clamp(-1, 1)
        zero = transfer(content, c_mean, c_std, a[0], a[1], torch.zeros(1))
        full_a = transfer(content, c_mean, c_std, a[0], a[1], torch.ones(1))
        half = transfer(content, c_mean, c_std, (a[0] + b[0]) / 2, (a[1] + b[1]) / 2, torch.ones(1))
    assert torch.allclose(zero, plain, atol=1e-5)
    assert (full_a - zero).abs().max() > 1e-3
    assert (half - full_a).abs().max() > 1e-3
