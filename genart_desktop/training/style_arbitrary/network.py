"""The arbitrary-style network: a frozen SqueezeNet encoder, adaptive instance normalisation, a trained decoder.

Huang and Belongie's AdaIN (2017) re-scales the content's features so their per-channel mean and standard deviation
are the style's, and a decoder turns the result back into a picture. Because the style enters only as those
statistics, any picture works as a style, several styles blend exactly (a weighted mean of their statistics), and
tiles of a large canvas stay seamless when they share the whole picture's content statistics.

The encoder is ImageNet SqueezeNet 1.1 up to ``fire5`` (256 channels at 1/8 of the size), with "same" padding on
the first convolution and the two pools so that a side that is a multiple of 8 maps to exactly 1/8 of it (the
original's valid padding would lose a few pixels, which the decoder cannot put back).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from genart_desktop.training.style.squeezenet import SqueezeNetFeatures

ADAIN_LAYER = "fire5"
STYLE_LAYERS = ("conv1", "fire3", "fire5", "fire7")
SIZE_MULTIPLE = 8
EPS = 1e-5


def feature_stats(features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(N, C, H, W)`` -> per-channel spatial mean and standard deviation, each ``(N, C)``."""
    flat = features.float().flatten(2)
    mean = flat.mean(2)
    std = (flat.var(2, unbiased=False) + EPS).sqrt()
    return mean, std


def adain(content: torch.Tensor, content_mean: torch.Tensor, content_std: torch.Tensor,
          style_mean: torch.Tensor, style_std: torch.Tensor) -> torch.Tensor:
    """Content features normalised with the given content statistics and re-coloured with the style's."""
    normalised = (content - content_mean[..., None, None]) / content_std[..., None, None]
    return normalised * style_std[..., None, None] + style_mean[..., None, None]


class Encoder(nn.Module):
    """SqueezeNet 1.1 features with "same" padding, tapped at any of its layers up to ``fire9``."""

    def __init__(self, squeezenet: SqueezeNetFeatures) -> None:
        super().__init__()
        self.net = squeezenet
        self.net.conv1.padding = (1, 1)
        self.pool = nn.MaxPool2d(3, stride=2, padding=1)

    def forward(self, images: torch.Tensor, taps: tuple[str, ...]) -> dict[str, torch.Tensor]:
        out: dict[str, torch.Tensor] = {}
        x = torch.relu(self.net.conv1(self.net.preprocess(images)))
        for name in ("conv1", *self.net.fires):
            if name != "conv1":
                x = self.net.fires[name](x)
            if name in taps:
                out[name] = x
                if len(out) == len(taps):
                    break
            if name in ("conv1", "fire3", "fire5"):
                x = self.pool(x)
        return out

    def adain_features(self, images: torch.Tensor) -> torch.Tensor:
        return self(images, (ADAIN_LAYER,))[ADAIN_LAYER]


@dataclass(frozen=True)
class DecoderConfig:
    width: int = 128  # channels right after the 1/8-size features; halved at each of the three upsamplings

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


class Decoder(nn.Module):
    """1/8-size features -> RGB: a convolution, then three (nearest x2, two 3x3 convolutions) stages."""

    def __init__(self, config: DecoderConfig = DecoderConfig(), in_channels: int = 256) -> None:
        super().__init__()
        self.config = config
        w = config.width
        layers: list[nn.Module] = [_conv(in_channels, w), nn.ReLU(inplace=True)]
        channels = w
        for stage in range(3):
            out = max(16, w >> (stage + 1))
            layers += [nn.Upsample(scale_factor=2, mode="nearest"), _conv(channels, out), nn.ReLU(inplace=True)]
            if stage < 2:
                layers += [_conv(out, out), nn.ReLU(inplace=True)]
            channels = out
        layers.append(_conv(channels, 3))
        self.body = nn.Sequential(*layers)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.body(features)


def _conv(cin: int, cout: int) -> nn.Conv2d:
    # Reflection padding: zero padding darkens the picture's border, which every tile of a large canvas would show.
    return nn.Conv2d(cin, cout, 3, padding=1, padding_mode="reflect")


class StatsEncoder(nn.Module):
    """Export form of the encoder: image ``[-1, 1]`` -> mean and std of its AdaIN-layer features."""

    def __init__(self, encoder: Encoder) -> None:
        super().__init__()
        self.encoder = encoder

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return feature_stats(self.encoder.adain_features(image))


class Transfer(nn.Module):
    """Export form of the whole transfer, with the statistics as inputs (so tiles share the whole picture's) and
    ``strength`` interpolating in feature space: 0 decodes the content's own features, 1 the full style."""

    def __init__(self, encoder: Encoder, decoder: Decoder) -> None:
        super().__init__()
        self.encoder, self.decoder = encoder, decoder

    def forward(self, content: torch.Tensor, content_mean: torch.Tensor, content_std: torch.Tensor,
                style_mean: torch.Tensor, style_std: torch.Tensor, strength: torch.Tensor) -> torch.Tensor:
        features = self.encoder.adain_features(content)
        target = adain(features, content_mean, content_std, style_mean, style_std)
        s = strength.reshape(-1, 1, 1, 1)
        mixed = s * target + (1.0 - s) * features
        return self.decoder(mixed).clamp(-1.0, 1.0)


def stylize(encoder: Encoder, decoder: Decoder, content: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
    """Training/preview form: each content picture with the style picture of the same index (or a shared one)."""
    features = encoder.adain_features(content)
    c_mean, c_std = feature_stats(features)
    s_mean, s_std = feature_stats(encoder.adain_features(style))
    if s_mean.shape[0] != c_mean.shape[0]:
        s_mean, s_std = s_mean.expand_as(c_mean), s_std.expand_as(c_std)
    return decoder(adain(features, c_mean, c_std, s_mean, s_std))


def pad_to_multiple(images: torch.Tensor, multiple: int = SIZE_MULTIPLE) -> torch.Tensor:
    h, w = images.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    return F.pad(images, (0, pw, 0, ph), mode="reflect") if ph or pw else images
