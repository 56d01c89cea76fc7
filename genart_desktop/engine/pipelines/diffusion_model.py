"""Our own diffusion models (card family ``diffusion``): the same :class:`RecipeGenerator` as Stable Diffusion.

The card's ``config`` says how to drive the U-Net (written by the training module's exporter):

    "config": {
      "schedule": {...ScheduleConfig.to_dict()...},
      "conditioning": {"type": "none" | "class" | "text",
                       "classes": ["cat", "dog", ...],            # class: label i, null label = len(classes)
                       "vocabulary": ["sky", "sea", ...],         # text: word i has id i + 2; 0 = pad/null, 1 = unknown
                       "max_tokens": 16},
      "latent": {"scaling_factor": 1.0, "vae": "<vae model id>"},  # latent diffusion: decoder role, paired VAE
      "control": {"type": "edges" | "colour-blocks", "colours": 6},  # a control-conditioned U-Net (optional)
      "default_steps": 50, "default_guidance": 3.0
    }

The ``unet`` graph takes ``sample`` [batch, C, H, W], ``timestep`` [batch] float32 and, when conditioned, ``cond``
[batch, tokens] int64, and, when it follows a control picture, ``control`` [batch, 3, H * factor, W * factor] float32
in [-1, 1] with ``control_strength`` [batch] float32 (0: the control is ignored, as the model learned with control
dropout; a run without a control feeds a blank one at strength 0), and returns ``prediction``. A latent model has a ``vae_decoder`` role (``latent -> image``);
image-to-image and inpainting in latent space use the encoder of the VAE model named by ``latent.vae``. A decoder
whose image has 4 channels (a VAE trained on pictures with transparency) gives premultiplied RGBA, and the results
are cut-outs (straight RGBA pixels); 3-channel decoders give opaque RGB as ever.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from genart_desktop.core.errors import InputError, ModelError
from genart_desktop.engine.alpha import with_alpha
from genart_desktop.engine.pipelines.diffusion import DiffusionPipeline
from genart_desktop.engine.pipelines.generator import RecipeGenerator
from genart_desktop.engine.pipelines.recipe import Recipe
from genart_desktop.engine.schedules import ScheduleConfig
from genart_desktop.engine.session import ModelSession
from genart_desktop.engine.value_range import UNIT, ValueRange, convert

CONDITIONING_TYPES = ("none", "class", "text")
PAD_ID, UNKNOWN_ID, FIRST_WORD_ID = 0, 1, 2
_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class Conditioning:
    kind: str = "none"
    classes: tuple[str, ...] = ()
    vocabulary: tuple[str, ...] = ()
    max_tokens: int = 16

    @classmethod
    def from_config(cls, data: Any) -> Conditioning:
        if data is None:
            return cls()
        if not isinstance(data, dict) or data.get("type", "none") not in CONDITIONING_TYPES:
            raise ModelError(f"config.conditioning.type must be one of {', '.join(CONDITIONING_TYPES)}.")
        kind = data.get("type", "none")
        classes = data.get("classes", [])
        vocabulary = data.get("vocabulary", [])
        max_tokens = data.get("max_tokens", 16)
        if not isinstance(classes, list) or not all(isinstance(c, str) for c in classes):
            raise ModelError("config.conditioning.classes must be a list of class names.")
        if not isinstance(vocabulary, list) or not all(isinstance(w, str) for w in vocabulary):
            raise ModelError("config.conditioning.vocabulary must be a list of words.")
        if not isinstance(max_tokens, int) or not 1 <= max_tokens <= 1024:
            raise ModelError("config.conditioning.max_tokens must be a whole number between 1 and 1024.")
        if kind == "class" and not classes:
            raise ModelError("A class-conditioned model must list its classes in config.conditioning.classes.")
        if kind == "text" and not vocabulary:
            raise ModelError("A text-conditioned model must list its words in config.conditioning.vocabulary.")
        return cls(kind, tuple(classes), tuple(vocabulary), max_tokens)

    def encode(self, prompt: str) -> np.ndarray | None:
        """The ``cond`` row for a prompt (a class name or a short text); None for unconditional models."""
        if self.kind == "none":
            return None
        if self.kind == "class":
            key = prompt.strip().lower()
            names = [c.lower() for c in self.classes]
            if key.isdigit() and int(key) < len(names):
                return np.array([[int(key)]], np.int64)
            if key not in names:
                raise InputError(f"Unknown class {prompt!r}; this model knows {', '.join(self.classes)}.")
            return np.array([[names.index(key)]], np.int64)
        ids = self.word_ids
        words = _WORD.findall(prompt.lower())[: self.max_tokens]
        row = np.full((1, self.max_tokens), PAD_ID, np.int64)
        row[0, : len(words)] = [ids.get(w, UNKNOWN_ID) for w in words]
        return row

    @cached_property
    def word_ids(self) -> dict[str, int]:
        """Lower-cased word -> token id, built once (a live preview encodes its prompt every frame)."""
        return {w.lower(): i + FIRST_WORD_ID for i, w in enumerate(self.vocabulary)}

    def unknown_words(self, prompt: str) -> list[str]:
        """Words of a text prompt outside the vocabulary (the model reads each as one "unknown" token), in order,
        without repeats; also the words past ``max_tokens``, which it never sees."""
        if self.kind != "text":
            return []
        known = self.word_ids
        words = _WORD.findall(prompt.lower())
        unknown = [w for w in words[: self.max_tokens] if w not in known] + words[self.max_tokens:]
        return list(dict.fromkeys(unknown))

    def null(self) -> np.ndarray | None:
        """The unconditional row used for classifier-free guidance (null class / empty text)."""
        if self.kind == "none":
            return None
        if self.kind == "class":
            return np.array([[len(self.classes)]], np.int64)
        return np.full((1, self.max_tokens), PAD_ID, np.int64)


class OnnxUNet:
    """Adapter: the pipeline's denoiser call onto a card U-Net session."""

    def __init__(self, session: ModelSession, names: dict[str, str] | None = None, factor: int = 1) -> None:
        self.session = session
        self.names = {std: (names or {}).get(std, std)
                      for std in ("sample", "timestep", "cond", "prediction", "control", "control_strength")}
        self.has_cond = self.names["cond"] in session.input_names
        self.takes_control = self.names["control"] in session.input_names
        self.factor = factor  # pixels per sample cell: the control is a picture at pixel size
        self.timestep_dtype = session.input(self.names["timestep"]).dtype
        self.sample_dtype = session.input(self.names["sample"]).dtype
        self.cond_dtype = session.input(self.names["cond"]).dtype if self.has_cond else None

    def __call__(self, sample: np.ndarray, timesteps: np.ndarray, cond: np.ndarray | None,
                 run_options: Any = None, control: np.ndarray | None = None,
                 control_strength: np.ndarray | None = None) -> np.ndarray:
        """One U-Net run; ``run_options.terminate`` stops it half way (raising JobCancelled)."""
        names = self.names
        feeds = {names["sample"]: sample.astype(self.sample_dtype, copy=False),
                 names["timestep"]: np.asarray(timesteps).astype(self.timestep_dtype, copy=False)}
        if self.has_cond:
            if cond is None:
                raise ModelError(f"{self.session.name} needs a condition.")
            feeds[names["cond"]] = cond.astype(self.cond_dtype, copy=False)
        if self.takes_control:
            rows, _, h, w = sample.shape
            if control is None:  # no control: a blank one that counts for nothing
                control = np.zeros((rows, 3, h * self.factor, w * self.factor), np.float32)
                control_strength = np.zeros((rows,), np.float32)
            feeds[names["control"]] = np.asarray(control, np.float32)
            feeds[names["control_strength"]] = np.asarray(control_strength, np.float32).reshape(rows)
        out = self.session.run(feeds, run_options, outputs=[names["prediction"]])[names["prediction"]]
        return out.astype(np.float32, copy=False)


class CardCodec:
    """Latent codec from the card's decoder and, optionally, the paired VAE's encoder (its mean)."""

    def __init__(self, decoder: ModelSession, encoder: ModelSession | None, channels: int, factor: int,
                 scaling_factor: float, names: dict[str, str] | None = None,
                 image_range: ValueRange = UNIT) -> None:
        self.decoder, self.encoder = decoder, encoder
        self.channels, self.factor, self.scaling_factor = channels, factor, scaling_factor
        self.latent_name = (names or {}).get("latent", "latent")
        self.image_name = (names or {}).get("image", "image")
        self.image_range = image_range  # the decoder's output range; the pipeline works in [-1, 1]

    def encode(self, images: np.ndarray, run_options: Any = None) -> np.ndarray:
        """(B, 3|4, H, W) images in [-1, 1] -> scaled latents; an RGB picture is fed as opaque RGBA to a VAE that
        takes 4 channels (premultiplied alpha, see ``engine/alpha.py``)."""
        if self.encoder is None:
            raise ModelError("This latent diffusion model's paired VAE (config.latent.vae) is not installed or has "
                             "no encoder, so it cannot start from an image; install that VAE model beside it.")
        wanted = self.encoder.input("image").shape
        channels = wanted[1] if len(wanted) == 4 and isinstance(wanted[1], int) else images.shape[1]
        feed = with_alpha(images, channels).astype(np.float32)
        mean = self.encoder.run({"image": feed}, run_options, outputs=["mean"])["mean"]
        return mean.astype(np.float32) * self.scaling_factor

    def decode(self, latents: np.ndarray, run_options: Any = None) -> np.ndarray:
        image = self.decoder.run({self.latent_name: (latents / self.scaling_factor).astype(np.float32)},
                                 run_options, outputs=[self.image_name])[self.image_name]
        return convert(image, self.image_range, UNIT)


class CardDiffusionModel(RecipeGenerator):
    """A ``diffusion`` family model from the registry, ready to generate (see :class:`RecipeGenerator`)."""

    def __init__(self, model_id: str, config: dict[str, Any], unet: ModelSession, resolution: tuple[int, int],
                 decoder: ModelSession | None = None, encoder: ModelSession | None = None,
                 fingerprint: str = "", card: Any = None) -> None:
        """``card`` (optional) gives the graphs' own tensor names and the decoder's image range."""
        self.model_id = model_id
        self.fingerprint = fingerprint
        try:
            self.schedule = ScheduleConfig.from_dict(config.get("schedule", {}))
        except ValueError as exc:
            raise ModelError(f"{model_id}: config.schedule: {exc}") from exc
        self.conditioning = Conditioning.from_config(config.get("conditioning"))
        if self.conditioning.kind != "none" and "cond" not in unet.input_names:
            raise ModelError(f"{model_id}: the card says {self.conditioning.kind}-conditioned but the U-Net has no "
                             "'cond' input.")
        self.default_steps = int(config.get("default_steps", 50))
        self.default_guidance = float(config.get("default_guidance", 3.0 if self.conditioning.kind != "none" else 1))
        self.resolution = resolution
        unet_names = dict(card.io["unet"].names) if card is not None and "unet" in card.io else {}
        spec = unet.input(unet_names.get("sample", "sample"))
        channels = spec.shape[1] if spec.rank == 4 and isinstance(spec.shape[1], int) else 3
        codec = None
        factor = 1
        if decoder is not None:
            latent = config.get("latent") or {}
            scaling = float(latent.get("scaling_factor", 1.0)) if isinstance(latent, dict) else 1.0
            lat_h = spec.shape[2]
            factor = resolution[1] // lat_h if isinstance(lat_h, int) and lat_h > 0 else int(
                latent.get("factor", 1) if isinstance(latent, dict) else 1)
            has_decoder_card = card is not None and "vae_decoder" in card.io
            codec = CardCodec(decoder, encoder, channels, max(1, factor), scaling,
                              dict(card.io["vae_decoder"].names) if has_decoder_card else None,
                              card.value_range("vae_decoder", "image") if has_decoder_card else UNIT)
        self.codec = codec
        self.control = config.get("control") if isinstance(config.get("control"), dict) else None
        self.pipeline = DiffusionPipeline(OnnxUNet(unet, unet_names, max(1, factor)), self.schedule,
                                          channels=channels, codec=codec)

    @classmethod
    def from_registry(cls, registry: Any, model_id: str) -> CardDiffusionModel:
        entry = registry.get(model_id)
        card = entry.card
        if card is None or entry.family != "diffusion":
            raise ModelError(f"Model '{model_id}' is a {entry.family} model, not a diffusion model.")
        decoder = registry.session(model_id, "vae_decoder") if "vae_decoder" in entry.files else None
        encoder = None
        latent = card.config.get("latent") if isinstance(card.config, dict) else None
        if decoder is not None and isinstance(latent, dict) and latent.get("vae"):
            try:
                encoder = registry.session(str(latent["vae"]), "encoder")
            except ModelError:
                encoder = None  # text-to-image still works; image-to-image says the paired VAE is missing
        fingerprint = card.files["unet"].sha256[:16] if "unet" in card.files else ""
        return cls(model_id, card.config if isinstance(card.config, dict) else {}, registry.session(model_id, "unet"),
                   card.resolution or (64, 64), decoder, encoder, fingerprint, card)

    @property
    def native_size(self) -> int:
        return self.resolution[0]

    def default_size(self) -> tuple[int, int]:
        return int(self.resolution[0]), int(self.resolution[1])

    def conditions(self, recipe: Recipe, starts_from_image: bool, run_options: Any = None) -> tuple[
            np.ndarray | None, np.ndarray | None]:
        """The prompt is a class name (or index) or a short text; the negative prompt replaces the null condition
        for text models and is ignored otherwise."""
        cond = self.conditioning.encode(recipe.class_label if recipe.class_label is not None else recipe.prompt)
        uncond = self.conditioning.null()
        if recipe.negative_prompt and self.conditioning.kind == "text":
            uncond = self.conditioning.encode(recipe.negative_prompt)
        return cond, uncond
