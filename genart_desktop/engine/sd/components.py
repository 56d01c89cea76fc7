"""Adapters from Stable Diffusion's ONNX graphs to the generic diffusion pipeline.

Everything about a graph's tensors is read from its session: the id dtype of the text encoder (int32 in Optimum
exports, int64 in others), the U-Net's float dtype (float16 exports are fine), and the timestep's dtype and rank
(a scalar, ``[1]`` or ``[batch]``). On CUDA the U-Net runs through IO binding: the text embeddings are uploaded once
per generation and stay on the device; the output is written on the device and copied back once per step.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np
import onnxruntime as ort

from genart_desktop.core.errors import JobCancelled, ModelError
from genart_desktop.engine.onnx_wire import check_model
from genart_desktop.engine.providers import CUDA, create_session
from genart_desktop.engine.sd.tokenizer import CLIPTokenizer
from genart_desktop.engine.session import ModelSession, TensorSpec


def load_graph(path: str | os.PathLike[str], settings: Mapping[str, Any] | None,
               name: str) -> tuple[ModelSession, ort.InferenceSession]:
    """A checked session on the best provider (external data must stay inside the graph's folder), and the raw
    onnxruntime session behind it (for IO binding)."""
    if not os.path.isfile(path):
        raise ModelError(f"Cannot load {name}: {path} does not exist.")
    check_model(path)
    session, choice = create_session(path, settings, name=name)
    return ModelSession(session, choice, name), session


def _float_input(session: ModelSession, name: str) -> TensorSpec:
    spec = session.input(name)
    if spec.dtype not in (np.dtype(np.float32), np.dtype(np.float16)):
        raise ModelError(f"{session.name}: input '{name}' is {spec.dtype}; expected float32 or float16.")
    return spec


class TextEncoder:
    """Prompts -> CLIP hidden states (batch, tokens, width) as float32."""

    def __init__(self, session: ModelSession, tokenizer: CLIPTokenizer) -> None:
        self.session = session
        self.tokenizer = tokenizer
        names = session.input_names
        if "input_ids" not in names or len(names) != 1:
            raise ModelError(f"{session.name} should take one input 'input_ids', it takes {', '.join(names)}.")
        self.ids = session.input("input_ids")
        if self.ids.dtype not in (np.dtype(np.int32), np.dtype(np.int64)):
            raise ModelError(f"{session.name}: input_ids is {self.ids.dtype}; expected int32 or int64.")
        outputs = session.output_names
        self.output = "last_hidden_state" if "last_hidden_state" in outputs else outputs[0]
        length = self.ids.shape[1] if self.ids.rank == 2 and isinstance(self.ids.shape[1], int) else None
        self.length = length or tokenizer.max_length

    def __call__(self, prompts: list[str], run_options: ort.RunOptions | None = None) -> np.ndarray:
        ids = self.tokenizer(prompts, length=self.length).astype(self.ids.dtype)
        hidden = self.session.run({"input_ids": ids}, run_options, outputs=[self.output])[self.output]
        if hidden.ndim != 3 or hidden.shape[0] != len(prompts):
            raise ModelError(f"{self.session.name} returned shape {hidden.shape}; expected (batch, tokens, width).")
        return hidden.astype(np.float32, copy=False)


class UNetDenoiser:
    """``denoiser(sample, timesteps, hidden_states) -> prediction`` for :class:`DiffusionPipeline`."""

    def __init__(self, session: ModelSession, raw: ort.InferenceSession | None = None) -> None:
        self.session = session
        self.raw = raw
        names = set(session.input_names)
        needed = {"sample", "timestep", "encoder_hidden_states"}
        if not needed <= names:
            raise ModelError(f"{session.name} should take inputs sample, timestep and encoder_hidden_states; "
                             f"it takes {', '.join(session.input_names)}.")
        extra = names - needed
        if extra:
            raise ModelError(f"{session.name} needs extra inputs {', '.join(sorted(extra))} (an SDXL or "
                             "ControlNet U-Net?); only Stable Diffusion 1.x/2.x U-Nets are supported.")
        self.sample = _float_input(session, "sample")
        self.hidden = _float_input(session, "encoder_hidden_states")
        self.timestep = session.input("timestep")
        if self.timestep.rank > 1:
            raise ModelError(f"{session.name}: timestep has {self.timestep.rank} dimensions; expected 0 or 1.")
        self.output = "out_sample" if "out_sample" in session.output_names else session.output_names[0]
        channels = self.sample.shape[1] if self.sample.rank == 4 else None
        if self.sample.rank != 4:
            raise ModelError(f"{session.name}: sample should be (batch, channels, height, width).")
        self.channels = channels if isinstance(channels, int) else None
        self.use_io_binding = raw is not None and session.provider == CUDA
        self._device_hidden: tuple[np.ndarray, Any] | None = None

    def timestep_feed(self, timesteps: np.ndarray) -> np.ndarray:
        """The timestep tensor in the dtype and rank the graph declares (all rows share one timestep)."""
        t = np.asarray(timesteps).reshape(-1)
        dtype = self.timestep.dtype
        if self.timestep.rank == 0:
            return np.asarray(t[0], dtype=dtype)
        if self.timestep.shape[0] == 1:
            return t[:1].astype(dtype)
        return t.astype(dtype)

    def __call__(self, sample: np.ndarray, timesteps: np.ndarray, cond: np.ndarray | None,
                 run_options: ort.RunOptions | None = None) -> np.ndarray:
        """One U-Net run; ``run_options.terminate`` stops it half way (raising JobCancelled)."""
        if cond is None:
            raise ModelError("Stable Diffusion needs text embeddings; encode a (possibly empty) prompt first.")
        feeds = {
            "sample": np.ascontiguousarray(sample, dtype=self.sample.dtype),
            "timestep": self.timestep_feed(timesteps),
            "encoder_hidden_states": np.ascontiguousarray(cond, dtype=self.hidden.dtype),
        }
        if self.use_io_binding:
            return self._run_bound(feeds, run_options)
        out = self.session.run(feeds, run_options, outputs=[self.output])[self.output]
        return out.astype(np.float32, copy=False)

    def _run_bound(self, feeds: dict[str, np.ndarray], run_options: ort.RunOptions | None = None) -> np.ndarray:
        self.session.validate(feeds)
        raw = self.raw
        hidden = feeds["encoder_hidden_states"]
        cached = self._device_hidden
        if cached is None or cached[0].shape != hidden.shape or not np.array_equal(cached[0], hidden):
            cached = (hidden.copy(), ort.OrtValue.ortvalue_from_numpy(hidden, "cuda", 0))
            self._device_hidden = cached
        binding = raw.io_binding()
        binding.bind_cpu_input("sample", feeds["sample"])
        binding.bind_cpu_input("timestep", feeds["timestep"])
        binding.bind_ortvalue_input("encoder_hidden_states", cached[1])
        binding.bind_output(self.output, "cuda", 0)
        try:
            raw.run_with_iobinding(binding, run_options)
        except Exception as exc:  # noqa: BLE001 - onnxruntime raises private exception types
            if run_options is not None and run_options.terminate:
                raise JobCancelled(f"{self.session.name} was stopped.") from exc
            raise ModelError(f"{self.session.name} failed while running: {str(exc).splitlines()[0][:300]}") from exc
        return binding.copy_outputs_to_cpu()[0].astype(np.float32, copy=False)

    def release(self) -> None:
        """Free the device copy of the text embeddings (end of a generation)."""
        self._device_hidden = None


class VaeCodec:
    """The pipeline's :class:`LatentCodec`: images in [-1, 1] <-> latents multiplied by the scaling factor."""

    def __init__(self, decoder: ModelSession, encoder: ModelSession | None, *, channels: int, factor: int,
                 scaling_factor: float) -> None:
        self.decoder, self.encoder = decoder, encoder
        self.channels, self.factor, self.scaling_factor = channels, factor, scaling_factor
        self.decoder_input = decoder.input_names[0] if len(decoder.input_names) == 1 else "latent_sample"
        self.decoder_dtype = _float_input(decoder, self.decoder_input).dtype
        self.encoder_input = None
        if encoder is not None:
            self.encoder_input = encoder.input_names[0] if len(encoder.input_names) == 1 else "sample"
            self.encoder_dtype = _float_input(encoder, self.encoder_input).dtype

    def encode(self, images: np.ndarray, run_options: ort.RunOptions | None = None) -> np.ndarray:
        if self.encoder is None:
            raise ModelError("This Stable Diffusion export has no vae_encoder, so it cannot start from an image "
                             "(image-to-image and inpainting need one).")
        outputs = self.encoder.run({self.encoder_input: np.ascontiguousarray(images, dtype=self.encoder_dtype)},
                                   run_options)
        name = "latent_parameters" if "latent_parameters" in outputs else next(iter(outputs))
        value = outputs[name].astype(np.float32)
        if value.ndim != 4 or value.shape[1] not in (self.channels, 2 * self.channels):
            raise ModelError(f"{self.encoder.name} returned shape {value.shape}; expected {self.channels} latent "
                             f"channels (or {2 * self.channels} for mean and log-variance).")
        mean = value[:, : self.channels]  # the distribution's mean: deterministic, so img2img is repeatable
        return mean * self.scaling_factor

    def decode(self, latents: np.ndarray, run_options: ort.RunOptions | None = None) -> np.ndarray:
        feed = np.ascontiguousarray(latents / self.scaling_factor, dtype=self.decoder_dtype)
        outputs = self.decoder.run({self.decoder_input: feed}, run_options)
        name = "sample" if "sample" in outputs else next(iter(outputs))
        images = outputs[name].astype(np.float32)
        if images.ndim != 4 or images.shape[1] != 3:
            raise ModelError(f"{self.decoder.name} returned shape {images.shape}; expected (batch, 3, H, W).")
        return images


__all__ = ["TextEncoder", "UNetDenoiser", "VaeCodec", "load_graph"]
