"""A latent space to explore: a GAN generator, or a VAE decoder with an optional encoder.

The shape and dtype of the latent, the batch limit and the image size are read from the ONNX sessions themselves
(never from the card alone), so a card that lies produces a clear error instead of a wrong picture. Tensors are
found by the graph's own names (the card maps ``z``/``latent``/``image``/``mean``/``logvar`` to them), images are
read and fed in the card's value range, and a card latent of the same size as the graph's (``[100]`` for a
generator taking ``[batch, 100, 1, 1]``) is reshaped on the way in.
Sessions are the engine's checked :class:`ModelSession`; onnxruntime's ``run`` is thread-safe, so renders can happen
on a worker thread.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from genart_desktop.core.errors import InputError, ModelError
from genart_desktop.core.images import check_pixel_image, flatten_alpha, resize
from genart_desktop.engine.alpha import premultiply
from genart_desktop.engine.latent.prior import LatentPrior
from genart_desktop.engine.session import ModelSession, TensorSpec
from genart_desktop.engine.value_range import UNIT, ValueRange, convert, model_to_levels, pixels_to_model

GAN = "gan"
VAE = "vae"

_FLOATS = (np.dtype(np.float32), np.dtype(np.float16), np.dtype(np.float64))


def _port(session: ModelSession, wanted: str, inputs: bool, role: str) -> TensorSpec:
    spec = session.input(wanted) if inputs else session.output(wanted)
    if spec.dtype not in _FLOATS:
        kind = "input" if inputs else "output"
        raise ModelError(f"The {role} {kind} '{wanted}' has type {spec.type_name}; a float tensor was expected.")
    return spec


def _fixed(dim: Any) -> int | None:
    return dim if isinstance(dim, int) and dim > 0 else None


def images_from_tensor(batch: np.ndarray, value_range: ValueRange = UNIT) -> np.ndarray:
    """(N, 3|1, H, W) float in ``value_range`` -> (N, H, W, 3) uint8 (clipped to the range); NaN becomes mid-grey
    rather than garbage. A 4-channel image (premultiplied RGBA, a VAE trained with alpha) is shown over white."""
    x = np.asarray(batch, dtype=np.float32)
    if x.ndim != 4 or x.shape[1] not in (1, 3, 4):
        raise ModelError(f"The model returned an image tensor of shape {tuple(x.shape)}; (N, 3, H, W) was expected.")
    if x.shape[1] == 1:
        x = np.repeat(x, 3, axis=1)
    levels = model_to_levels(x, value_range)
    if levels.shape[1] == 4:
        levels = np.clip(levels[:, :3] + 255.0 - levels[:, 3:], 0.0, 255.0)
    levels += 0.5
    out = np.clip(levels, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(out.transpose(0, 2, 3, 1))


def _rgba(pixels: np.ndarray) -> np.ndarray:
    """RGB or RGBA uint8 as straight RGBA (RGB counts as opaque)."""
    if pixels.shape[2] == 4:
        return pixels
    return np.dstack([pixels, np.full(pixels.shape[:2], 255, np.uint8)])


def latent_feed_shape(role: str, name: str, dims: Sequence[Any], card_shape: Sequence[int] | None
                      ) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(latent shape, shape fed to the graph) from the graph's latent axes and the card's ``latent.shape``: a fixed
    graph shape with the card's element count keeps the card's shape and is reshaped on the way in."""
    if all(_fixed(d) for d in dims):
        graph = tuple(int(d) for d in dims)
        if card_shape is None or tuple(card_shape) == graph:
            return graph, graph
        if math.prod(card_shape) == math.prod(graph):
            return tuple(int(d) for d in card_shape), graph
        raise ModelError(f"The card says the latent is {list(card_shape)} but the {role} takes {list(graph)}.")
    if card_shape is not None and len(card_shape) == len(dims):
        shape = tuple(int(d) for d in card_shape)
        return shape, shape
    raise ModelError(f"The {role} input '{name}' has dynamic latent dimensions {list(dims)} and the card "
                     "does not give the latent shape.")


class LatentSpace:
    """Renders flat latent vectors into RGB images, and (VAE with encoder) images back into latents."""

    def __init__(
        self,
        kind: str,
        decoder: ModelSession,
        encoder: ModelSession | None = None,
        *,
        model_id: str = "",
        name: str = "",
        sha256: str = "",
        card_latent_shape: Sequence[int] | None = None,
        prior: LatentPrior | None = None,
        names: dict[str, str] | None = None,
        image_range: ValueRange = UNIT,
        encoder_range: ValueRange = UNIT,
    ) -> None:
        """``names`` maps the standard tensor names (``z``, ``latent``, ``image``, ``encoder_image``, ``mean``,
        ``logvar``) to the graphs' own; the ranges are those of the decoder's output and the encoder's input."""
        if kind not in (GAN, VAE):
            raise ModelError(f"The latent explorer works with GAN and VAE models, not '{kind}'.")
        if kind == GAN and encoder is not None:
            raise ModelError("A GAN has no encoder.")
        self.kind = kind
        self.model_id = model_id
        self.name = name or model_id
        self.sha256 = sha256
        self._decoder = decoder
        self._encoder = encoder
        self._names = dict(names or {})
        self.image_range, self.encoder_range = image_range, encoder_range
        in_name = self._name("z" if kind == GAN else "latent")
        role = "generator" if kind == GAN else "decoder"
        self._in = _port(decoder, in_name, True, role)
        self._out = _port(decoder, self._name("image"), False, role)
        if len(self._in.shape) < 2:
            raise ModelError(f"The {role} input '{in_name}' has rank {len(self._in.shape)}; [batch, latent...] was expected.")
        shape, self._feed_shape = latent_feed_shape(role, in_name, self._in.shape[1:], card_latent_shape)
        self.latent_shape: tuple[int, ...] = shape
        self.latent_dim = int(math.prod(shape))
        if prior is not None and prior.dim != self.latent_dim:
            raise ModelError(f"The card's latent prior has {prior.dim} values but the {role} takes {self.latent_dim}.")
        self.prior = prior
        self.dtype = self._in.dtype
        self.max_batch = _fixed(self._in.shape[0]) or 64
        out_shape = self._out.shape
        self._image_hw: tuple[int, int] | None = None
        if len(out_shape) == 4 and _fixed(out_shape[2]) and _fixed(out_shape[3]):
            self._image_hw = (int(out_shape[2]), int(out_shape[3]))
        self._enc_in: TensorSpec | None = None
        if encoder is not None:
            self._enc_in = _port(encoder, self._name("encoder_image"), True, "encoder")
            _port(encoder, self._name("mean"), False, "encoder")
            _port(encoder, self._name("logvar"), False, "encoder")

    def _name(self, standard: str) -> str:
        if standard == "encoder_image":
            return self._names.get(standard, "image")
        return self._names.get(standard, standard)

    # -- facts -----------------------------------------------------------------------------------------------------
    @property
    def can_encode(self) -> bool:
        return self._encoder is not None

    @property
    def interpolation(self) -> str:
        """Gaussian GAN latents follow great circles (slerp); VAE means are interpolated linearly."""
        return "slerp" if self.kind == GAN else "linear"

    @property
    def image_size(self) -> tuple[int, int]:
        """(width, height) of rendered images; a model with dynamic output size is asked once."""
        if self._image_hw is None:
            probe = self.decode(np.zeros((1, self.latent_dim), np.float32))
            self._image_hw = probe.shape[1:3]
        height, width = self._image_hw
        return int(width), int(height)

    def sample(self, seed: int, count: int = 1) -> np.ndarray:
        """``count`` latents, the same for the same seed on every machine: N(0, 1), or drawn from the card's
        latent prior when it has one (a VAE's real distribution of encodings, see :mod:`.prior`)."""
        rng = np.random.default_rng(int(seed) & 0xFFFFFFFFFFFFFFFF)
        noise = rng.standard_normal((count, self.latent_dim)).astype(np.float32)
        return noise if self.prior is None else self.prior.sample(noise)

    def shape_noise(self, noise: np.ndarray) -> np.ndarray:
        """Isotropic offsets (N, D) shaped like the latent distribution (unchanged without a prior)."""
        return np.asarray(noise, np.float32) if self.prior is None else self.prior.shape_noise(noise)

    def check_latents(self, latents: np.ndarray) -> np.ndarray:
        z = np.asarray(latents, dtype=np.float32)
        if z.ndim == 1:
            z = z[None]
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise InputError(f"This model takes latents of {self.latent_dim} values; got shape {tuple(np.shape(latents))}.")
        if not np.all(np.isfinite(z)):
            raise InputError("The latent contains NaN or infinite values.")
        return z

    # -- rendering -------------------------------------------------------------------------------------------------
    def decode_tensor(self, latents: np.ndarray) -> np.ndarray:
        """(N, D) latents -> (N, 3, H, W) float32 images in [-1, 1] (whatever the model's own range)."""
        return convert(self._decode_raw(latents), self.image_range, UNIT)

    def _decode_raw(self, latents: np.ndarray) -> np.ndarray:
        """(N, D) latents -> the decoder's own output, in batches the model accepts."""
        z = self.check_latents(latents)
        parts = []
        for start in range(0, z.shape[0], self.max_batch):
            chunk = z[start : start + self.max_batch]
            if _fixed(self._in.shape[0]) and chunk.shape[0] < self.max_batch:
                pad = np.zeros((self.max_batch - chunk.shape[0], self.latent_dim), np.float32)
                feed = np.concatenate([chunk, pad])
            else:
                feed = chunk
            feed = feed.reshape((feed.shape[0], *self._feed_shape)).astype(self.dtype, copy=False)
            out = self._decoder.run({self._in.name: feed}, outputs=[self._out.name])[self._out.name]
            parts.append(np.asarray(out, dtype=np.float32)[: chunk.shape[0]])
        return np.concatenate(parts) if parts else np.zeros((0, 3, 1, 1), np.float32)

    @property
    def feature_output(self) -> str | None:
        """An intermediate output the generator exposes besides ``image`` (used for principal directions)."""
        extra = [n for n in self._decoder.output_names if n != self._out.name]
        return extra[0] if extra else None

    def decode_features(self, latents: np.ndarray) -> np.ndarray | None:
        """(N, F) float32 intermediate features for ``latents``, or None when the graph exposes none."""
        name = self.feature_output
        if name is None:
            return None
        z = self.check_latents(latents)
        parts = []
        for start in range(0, z.shape[0], self.max_batch):
            chunk = z[start : start + self.max_batch]
            count = chunk.shape[0]
            if _fixed(self._in.shape[0]) and count < self.max_batch:
                chunk = np.concatenate([chunk, np.zeros((self.max_batch - count, self.latent_dim), np.float32)])
            feed = chunk.reshape((chunk.shape[0], *self._feed_shape)).astype(self.dtype, copy=False)
            out = self._decoder.run({self._in.name: feed}, outputs=[name])[name]
            parts.append(np.asarray(out, np.float32)[:count].reshape(count, -1))
        return np.concatenate(parts)

    def decode(self, latents: np.ndarray) -> np.ndarray:
        """(N, D) or (D,) latents -> (N, H, W, 3) uint8 RGB images."""
        images = images_from_tensor(self._decode_raw(latents), self.image_range)
        if self._image_hw is None and len(images):
            self._image_hw = images.shape[1:3]
        return images

    def encode(self, pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """An RGB/RGBA uint8 image -> (mean, logvar) flat latents; it is resized to the encoder's input size first
        (and fed as premultiplied RGBA to an encoder that takes 4 channels, else flattened on white)."""
        if self._encoder is None or self._enc_in is None:
            raise InputError(f"{self.name} has no encoder, so images cannot be brought into its latent space.")
        check_pixel_image(pixels)
        shape = self._enc_in.shape
        alpha = len(shape) == 4 and shape[1] == 4  # a VAE trained with alpha takes premultiplied RGBA
        picture = _rgba(pixels) if alpha else flatten_alpha(pixels)
        if len(shape) == 4 and _fixed(shape[2]) and _fixed(shape[3]):
            height, width = int(shape[2]), int(shape[3])
        else:
            width, height = self.image_size
        if picture.shape[:2] != (height, width):
            picture = resize(picture, width, height)
        values = premultiply(picture) if alpha else picture
        x = pixels_to_model(values, self.encoder_range).transpose(2, 0, 1)[None]
        if _fixed(shape[0]) and shape[0] > 1:
            x = np.concatenate([x, np.zeros((shape[0] - 1, *x.shape[1:]), np.float32)])
        mean_name, logvar_name = self._name("mean"), self._name("logvar")
        result = self._encoder.run({self._enc_in.name: x.astype(self._enc_in.dtype)}, outputs=[mean_name, logvar_name])
        mean = np.asarray(result[mean_name], np.float32)[:1].reshape(-1)
        logvar = np.asarray(result[logvar_name], np.float32)[:1].reshape(-1)
        if mean.size != self.latent_dim or logvar.size != self.latent_dim:
            raise ModelError(f"The encoder returned {mean.size} latent values but the decoder takes {self.latent_dim}.")
        if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(logvar))):
            raise ModelError("The encoder returned NaN or infinite values for this image.")
        return mean, logvar

    def describe(self) -> dict[str, Any]:
        return {
            "model_id": self.model_id,
            "kind": self.kind,
            "latent_shape": list(self.latent_shape),
            "can_encode": self.can_encode,
        }


def space_from_registry(registry: Any, model_id: str) -> LatentSpace:
    """The latent space of a registered GAN or VAE model (sessions come from the registry's cache)."""
    entry = registry.get(model_id)
    if entry.family not in (GAN, VAE):
        raise ModelError(f"{entry.name} is a {entry.family} model; the latent explorer needs a GAN or a VAE.")
    card = entry.card
    card_shape = card.latent_shape if card is not None else None
    if entry.family == GAN:
        decoder = registry.session(model_id, "generator")
        encoder = None
        role = "generator"
    else:
        decoder = registry.session(model_id, "decoder")
        encoder = registry.session(model_id, "encoder") if "encoder" in entry.files else None
        role = "decoder"
    sha = card.files[role].sha256 if card is not None and role in card.files else ""
    prior = None
    if card is not None and card.latent and card.latent.get("prior") is not None and card_shape:
        prior = LatentPrior.from_card(card.latent["prior"], int(math.prod(card_shape)))
    return LatentSpace(entry.family, decoder, encoder, model_id=entry.id, name=entry.name, sha256=sha,
                       card_latent_shape=card_shape, prior=prior, **card_port_options(card, role))


def card_port_options(card: Any, role: str) -> dict[str, Any]:
    """The graph names and value ranges a GAN/VAE card declares (nothing for a card-less model)."""
    if card is None or role not in card.io:
        return {}
    standard = "z" if role == "generator" else "latent"
    names = {standard: card.tensor_name(role, standard), "image": card.tensor_name(role, "image")}
    options: dict[str, Any] = {"image_range": card.value_range(role, "image")}
    if "encoder" in card.io:
        names.update({"encoder_image": card.tensor_name("encoder", "image"),
                      "mean": card.tensor_name("encoder", "mean"), "logvar": card.tensor_name("encoder", "logvar")})
        options["encoder_range"] = card.value_range("encoder", "image")
    return {"names": names, **options}
