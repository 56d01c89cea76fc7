"""Any picture as a style: one arbitrary-style network (AdaIN), style statistics, blending, and its render path.

The model folder (family ``style-arbitrary``, docs/model-card.md) holds ``encoder.onnx`` (an image -> the mean and
std of its features: a style is just these two vectors) and ``transfer.onnx`` (content + content statistics +
style statistics + strength -> the stylized image). Blending is exact in statistics space (weighted sums), and
``strength`` is done by the network in feature space, never by mixing pixels afterwards.

Rendering reuses :class:`~genart_desktop.engine.pipelines.style.StylePipeline` (work resolution for the stroke
scale, memory-driven tiling, colour preservation, alpha kept). The content statistics are measured once per render
on the whole work image (shrunk to ``content_stats_side``) and every tile runs with the same ones, so tiles need no
tone harmonisation and show no seams.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from genart_desktop.core.errors import InputError, ModelError
from genart_desktop.core.images import check_pixel_image, flatten_alpha, resize
from genart_desktop.core.text import shown
from genart_desktop.engine.cards import ID_PATTERN
from genart_desktop.engine.contained import load_contained_json
from genart_desktop.engine.pipelines.style import (
    CancelCheck,
    ProgressCallback,
    StylePipeline,
    StylePreview,
    StyleSettings,
    memory_options,
)
from genart_desktop.engine.value_range import pixels_to_model

FAMILY = "style-arbitrary"
PRESETS_FORMAT = "genart-style-presets/1"
MAX_PRESETS_BYTES = 1 << 20
MAX_PRESETS = 256
MAX_CHANNELS = 4096
MAX_STYLES = 4  # styles one blend may hold
MIN_SIDE = 32  # the encoder's smallest input side
STATS_NAMES = ("content_mean", "content_std", "style_mean", "style_std")
NEUTRAL = StyleSettings()
_PAINTING = re.compile(r"style image\s+(\S+)")


@dataclass(frozen=True, eq=False)
class StyleStats:
    """A style as the network sees it: the per-channel ``mean`` and ``std`` of its features, each ``(C,)``."""

    mean: np.ndarray
    std: np.ndarray

    def __post_init__(self) -> None:
        values = []
        for name in ("mean", "std"):
            array = np.array(getattr(self, name), dtype=np.float32)
            if array.ndim == 2 and array.shape[0] == 1:
                array = array[0]
            if array.ndim != 1 or not 1 <= array.size <= MAX_CHANNELS:
                raise ModelError(f"Style statistics must be vectors of 1 to {MAX_CHANNELS} values; the {name} has "
                                 f"shape {tuple(array.shape)}.")
            if not np.isfinite(array).all():
                raise ModelError(f"Style statistics must be finite numbers; the {name} holds NaN or infinity.")
            array.flags.writeable = False
            values.append(array)
        if values[0].shape != values[1].shape:
            raise ModelError(f"Style statistics disagree: {values[0].size} means but {values[1].size} deviations.")
        if (values[1] < 0).any():
            raise ModelError("Style statistics must have deviations of at least 0.")
        object.__setattr__(self, "mean", values[0])
        object.__setattr__(self, "std", values[1])

    @property
    def channels(self) -> int:
        return int(self.mean.size)

    def same_as(self, other: StyleStats) -> bool:
        return np.array_equal(self.mean, other.mean) and np.array_equal(self.std, other.std)


def blend_stats(pairs: Sequence[tuple[StyleStats, float]]) -> StyleStats:
    """One style from 1 to 4 ``(stats, weight)`` pairs: weights (>= 0, not all 0) are normalised to sum to 1, and
    the means and deviations are mixed with them (exact for AdaIN: it only ever uses these two vectors)."""
    if not 1 <= len(pairs) <= MAX_STYLES:
        raise InputError(f"A blend holds 1 to {MAX_STYLES} styles, not {len(pairs)}.")
    weights = []
    for _stats, weight in pairs:
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not math.isfinite(weight) \
                or weight < 0:
            raise InputError(f"Style weights must be numbers of at least 0, got {weight!r}.")
        weights.append(float(weight))
    total = sum(weights)
    if total <= 0:
        raise InputError("At least one style needs a weight above 0.")
    channels = {stats.channels for stats, _weight in pairs}
    if len(channels) != 1:
        raise InputError("These styles were measured by different models; measure them again with this one.")
    mean = sum(stats.mean.astype(np.float64) * (w / total) for (stats, _), w in zip(pairs, weights))
    std = sum(stats.std.astype(np.float64) * (w / total) for (stats, _), w in zip(pairs, weights))
    return StyleStats(mean, std)


@dataclass(frozen=True, eq=False)
class Preset:
    """A painting the model ships the statistics of (the picture itself is not shipped)."""

    id: str
    name: str
    source: str
    stats: StyleStats
    held_out: bool = False


@dataclass(frozen=True)
class ArbitraryConfig:
    """The card's ``config``: sizes the model works at and where its presets are."""

    channels: int
    size_multiple: int = 8
    style_side: int = 512
    content_stats_side: int = 1024
    overlap: int = 64
    presets: str | None = None

    @classmethod
    def from_card(cls, card: Any) -> ArbitraryConfig:
        config, where = card.config, f"{card.folder.name}/model.json"
        channels = config.get("channels")
        if isinstance(channels, bool) or not isinstance(channels, int) or not 1 <= channels <= MAX_CHANNELS:
            raise ModelError(f"{where}: config.channels must be the number of feature channels (1 to "
                             f"{MAX_CHANNELS}), got {channels!r}.")
        presets = config.get("presets")
        if presets is not None and (not isinstance(presets, str) or not presets):
            raise ModelError(f"{where}: config.presets must name the presets file.")
        sizes = [_int(config, where, *limits) for limits in (("size_multiple", 8, 1, 64),
                                                             ("style_side", 512, MIN_SIDE, 4096),
                                                             ("content_stats_side", 1024, MIN_SIDE, 8192),
                                                             ("overlap", 64, 0, 1024))]
        return cls(channels, *sizes, presets)


def _int(config: dict[str, Any], where: str, key: str, default: int, low: int, high: int) -> int:
    value = config.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ModelError(f"{where}: config.{key} must be a whole number from {low} to {high}, got {value!r}.")
    return value


def load_presets(card: Any) -> tuple[Preset, ...]:
    """The presets of an arbitrary-style card (bounded JSON inside its folder; none when the card names no file).
    A wrong format, a wrong number of channels or a broken entry refuses the whole file with one line."""
    config = ArbitraryConfig.from_card(card)
    if config.presets is None:
        return ()
    where = f"{card.folder.name}/{config.presets}"
    data = load_contained_json(card.folder, config.presets, MAX_PRESETS_BYTES, where)
    if not isinstance(data, dict) or data.get("format") != PRESETS_FORMAT or not isinstance(data.get("presets"), list):
        raise ModelError(f"{shown(where)} is not a presets file (format \"{PRESETS_FORMAT}\" with a 'presets' list).")
    entries = data["presets"]
    if len(entries) > MAX_PRESETS:
        raise ModelError(f"{shown(where)} lists {len(entries)} presets, more than {MAX_PRESETS}.")
    presets, seen = [], set()
    for index, entry in enumerate(entries):
        preset = _preset(entry, config.channels, f"{shown(where)}: preset {index + 1}")
        if preset.id in seen:
            raise ModelError(f"{shown(where)}: the preset id {preset.id!r} appears twice.")
        seen.add(preset.id)
        presets.append(preset)
    return tuple(presets)


def _preset(entry: Any, channels: int, where: str) -> Preset:
    if not isinstance(entry, dict):
        raise ModelError(f"{where} is not an object.")
    texts = {key: entry.get(key) for key in ("id", "name", "source")}
    for key, value in texts.items():
        if not isinstance(value, str) or not value.strip() or len(value) > 200:
            raise ModelError(f"{where}: '{key}' is missing or not a short text.")
    if not ID_PATTERN.fullmatch(texts["id"]):
        raise ModelError(f"{where}: id {shown(texts['id'])} must be lower-case letters, digits, '.', '_' or '-'.")
    vectors = []
    for key in ("mean", "std"):
        value = entry.get(key)
        if not isinstance(value, list) or len(value) != channels or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
            count = len(value) if isinstance(value, list) else "no"
            raise ModelError(f"{where}: '{key}' must hold {channels} numbers (the model's channels), not {count}.")
        vectors.append(value)
    try:
        stats = StyleStats(*vectors)
    except ModelError as exc:
        raise ModelError(f"{where}: {exc}") from None
    return Preset(texts["id"], texts["name"], texts["source"], stats, entry.get("held_out") is True)


def painting_of(card: Any) -> str | None:
    """The file name of the painting a fixed style network was trained on, as its card's ``provenance.data``
    names it ("... style image ../shared/data/styles/<file>"); None when it names none."""
    data = card.provenance.get("data") if card is not None else None
    match = _PAINTING.search(data) if isinstance(data, str) else None
    if match is None:
        return None
    return match[1].replace("\\", "/").rstrip(".,;").rsplit("/", 1)[-1] or None


def fit_long_side(pixels: np.ndarray, side: int, enlarge: bool = True) -> np.ndarray:
    """``pixels`` resized so the long side is ``side`` (only ever shrunk when ``enlarge`` is false)."""
    height, width = pixels.shape[:2]
    factor = side / max(width, height)
    if factor == 1.0 or (factor > 1.0 and not enlarge):
        return pixels
    return resize(pixels, max(1, round(width * factor)), max(1, round(height * factor)))


def snap(pixels: np.ndarray, multiple: int, minimum: int = MIN_SIDE) -> np.ndarray:
    """``pixels`` resized to sides that are multiples of ``multiple`` and at least ``minimum``."""
    height, width = pixels.shape[:2]
    floor = math.ceil(minimum / multiple) * multiple
    size = [max(floor, round(side / multiple) * multiple) for side in (width, height)]
    return pixels if size == [width, height] else resize(pixels, size[0], size[1])


class _Graphs:
    """The two sessions, checked against the contract from their own specs (never the card alone)."""

    def __init__(self, encoder: Any, transfer: Any, card: Any, channels: int) -> None:
        self.encoder, self.transfer = encoder, transfer
        name = (lambda role, standard: card.tensor_name(role, standard) if card is not None else standard)
        self.image, self.mean, self.std = name("encoder", "image"), name("encoder", "mean"), name("encoder", "std")
        self.inputs = {standard: name("transfer", standard) for standard in ("content", *STATS_NAMES, "strength")}
        self.stylized = name("transfer", "stylized")
        self.dtypes: dict[str, np.dtype] = {}
        self._check(encoder, "encoder", {"image": self.image}, {"mean": self.mean, "std": self.std}, channels)
        self._check(transfer, "transfer", self.inputs, {"stylized": self.stylized}, channels)

    def _check(self, session: Any, role: str, inputs: dict[str, str], outputs: dict[str, str], channels: int) -> None:
        specs = {spec.name: spec for spec in session.inputs}
        out_specs = {spec.name: spec for spec in session.outputs}
        if set(specs) != set(inputs.values()):
            raise ModelError(f"The arbitrary style {role} takes {sorted(specs)}, not {sorted(inputs.values())}.")
        for standard, graph_name in {**inputs, **outputs}.items():
            spec = specs.get(graph_name) or out_specs.get(graph_name)
            if spec is None:
                raise ModelError(f"The arbitrary style {role} has no output '{graph_name}'.")
            rank = {"image": 4, "content": 4, "stylized": 4, "strength": 1}.get(standard, 2)
            if spec.rank != rank or np.dtype(spec.dtype) not in (np.dtype(np.float32), np.dtype(np.float16)):
                raise ModelError(f"The arbitrary style {role} tensor '{graph_name}' must be a float tensor of "
                                 f"rank {rank}, not {spec.describe()}.")
            if rank == 2 and isinstance(spec.shape[1], int) and spec.shape[1] != channels:
                raise ModelError(f"The arbitrary style {role} tensor '{graph_name}' has {spec.shape[1]} channels "
                                 f"but the card says {channels}.")
            self.dtypes[f"{role}.{standard}"] = np.dtype(spec.dtype)

    def encode(self, batch: np.ndarray, channels: int) -> StyleStats:
        result = self.encoder.run({self.image: batch.astype(self.dtypes["encoder.image"], copy=False)})
        mean, std = np.asarray(result[self.mean], np.float32), np.asarray(result[self.std], np.float32)
        if mean.shape != (1, channels) or std.shape != (1, channels):
            raise ModelError(f"The arbitrary style encoder returned statistics of shape {tuple(mean.shape)} and "
                             f"{tuple(std.shape)}, not (1, {channels}).")
        return StyleStats(mean, std)

    def feeds(self, content: StyleStats, style: StyleStats, strength: float) -> dict[str, np.ndarray]:
        values = dict(zip(STATS_NAMES, (content.mean, content.std, style.mean, style.std)))
        feeds = {self.inputs[k]: v[None].astype(self.dtypes[f"transfer.{k}"]) for k, v in values.items()}
        feeds[self.inputs["strength"]] = np.array([strength], self.dtypes["transfer.strength"])
        return feeds


class _Transfer:
    """The transfer session as a one-input network for :class:`StylePipeline`: the statistics and strength are
    fixed for one render, the content tile is the only input that changes."""

    def __init__(self, graphs: _Graphs, style: StyleStats) -> None:
        self._graphs = graphs
        self.style = style
        self.content: StyleStats | None = None
        self.strength = 1.0

    def run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        if self.content is None:
            raise ModelError("The content statistics were not measured before the first tile.")
        graphs = self._graphs
        (batch,) = feeds.values()
        full = graphs.feeds(self.content, self.style, self.strength)
        full[graphs.inputs["content"]] = batch.astype(graphs.dtypes["transfer.content"], copy=False)
        result = graphs.transfer.run(full)
        return {graphs.stylized: np.asarray(result[graphs.stylized], np.float32)}


class ArbitraryStylePipeline(StylePipeline):
    """:class:`StylePipeline` with the transfer network: content statistics once per render (on the whole work
    image), the same statistics for every tile, no tile harmonisation, and ``strength`` given to the network."""

    def __init__(self, model: ArbitraryStyleModel, style: StyleStats, **options: Any) -> None:
        self._model = model
        self._transfer = _Transfer(model.graphs, style)
        super().__init__(self._transfer, input_name=model.graphs.inputs["content"],
                         output_name=model.graphs.stylized, harmonize=False, **options)

    def stylize(self, rgb: np.ndarray, *, progress: ProgressCallback | None = None,
                cancelled: CancelCheck | None = None) -> np.ndarray:
        check_pixel_image(rgb)
        self._transfer.content = self._model.content_stats(rgb[..., :3])
        return super().stylize(rgb, progress=progress, cancelled=cancelled)

    def _network_strength(self, settings: StyleSettings) -> StyleSettings:
        self._transfer.strength = float(settings.strength)
        return settings if settings.strength == 0 else replace(settings, strength=1.0)

    def apply(self, pixels: np.ndarray, settings: StyleSettings = NEUTRAL, *,
              progress: ProgressCallback | None = None, cancelled: CancelCheck | None = None) -> np.ndarray:
        return super().apply(pixels, self._network_strength(settings), progress=progress, cancelled=cancelled)

    def preview(self, pixels: np.ndarray, settings: StyleSettings = NEUTRAL, *, max_side: int = 512,
                cancelled: CancelCheck | None = None) -> StylePreview:
        return super().preview(pixels, self._network_strength(settings), max_side=max_side, cancelled=cancelled)


class ArbitraryStyleModel:
    """A loaded arbitrary-style model: measures pictures into :class:`StyleStats`, lists its presets and makes
    render pipelines for a style."""

    def __init__(self, encoder: Any, transfer: Any, config: ArbitraryConfig, presets: tuple[Preset, ...] = (),
                 card: Any = None, **pipeline_options: Any) -> None:
        self.config = config
        self.graphs = _Graphs(encoder, transfer, card, config.channels)
        self._presets = presets
        self.input_range = card.value_range("encoder", "image") if card is not None else (-1.0, 1.0)
        options: dict[str, Any] = {"multiple": config.size_multiple, "overlap": config.overlap}
        if card is not None:
            options.update(input_range=card.value_range("transfer", "content"),
                           output_range=card.value_range("transfer", "stylized"))
        options.update(pipeline_options)
        self._pipeline_options = options

    @classmethod
    def from_registry(cls, registry: Any, model_id: str, **overrides: Any) -> ArbitraryStyleModel:
        """The model of a registered ``style-arbitrary`` folder; ``overrides`` go to its pipelines (``tile``)."""
        entry = registry.get(model_id)
        if entry.family != FAMILY or entry.card is None:
            raise ModelError(f"Model '{model_id}' is a {entry.family} model, not an arbitrary style model.")
        card = entry.card
        config = ArbitraryConfig.from_card(card)
        presets = load_presets(card)
        options = {**memory_options(card.config, getattr(registry, "settings", None)), **overrides}
        return cls(registry.session(model_id, "encoder"), registry.session(model_id, "transfer"), config, presets,
                   card, **options)

    # -- styles ------------------------------------------------------------------------------------------------------
    def presets(self) -> tuple[Preset, ...]:
        return self._presets

    def preset(self, preset_id: str) -> Preset:
        for preset in self._presets:
            if preset.id == preset_id:
                return preset
        raise InputError(f"This style model has no preset {shown(preset_id)}.")

    def measure(self, pixels: np.ndarray) -> StyleStats:
        """The statistics of a style picture (RGB or RGBA uint8; transparency counts as white), fitted to the
        model's ``style_side`` first so a style looks the same whatever the picture's size."""
        check_pixel_image(pixels)
        fitted = snap(fit_long_side(pixels, self.config.style_side), self.config.size_multiple)
        return self._encode(flatten_alpha(fitted))

    def content_stats(self, rgb: np.ndarray) -> StyleStats:
        """The statistics of the whole work image, measured at most ``content_stats_side`` large."""
        small = fit_long_side(rgb, self.config.content_stats_side, enlarge=False)
        return self._encode(snap(small, self.config.size_multiple))

    def _encode(self, rgb: np.ndarray) -> StyleStats:
        batch = pixels_to_model(rgb[..., :3], self.input_range).transpose(2, 0, 1)[None]
        return self.graphs.encode(np.ascontiguousarray(batch), self.config.channels)

    # -- rendering ---------------------------------------------------------------------------------------------------
    def pipeline(self, style: StyleStats, **overrides: Any) -> ArbitraryStylePipeline:
        """A render pipeline for ``style`` (same ``apply`` / ``preview`` as a fixed network's)."""
        if style.channels != self.config.channels:
            raise InputError(f"This style has {style.channels} channels but the model uses {self.config.channels}; "
                             "measure it with this model.")
        return ArbitraryStylePipeline(self, style, **{**self._pipeline_options, **overrides})
