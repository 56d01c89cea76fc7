"""Stable Diffusion from an Optimum ONNX folder, run by onnxruntime alone through the generic diffusion pipeline.

    sd = StableDiffusionOnnx.load("models/sd-turbo-onnx")
    output = sd.render(Recipe("sd", prompt="a red fox, oil on canvas", negative_prompt="blurry", steps=20,
                              guidance=7.5, seed=1, width=512, height=512))
    output.pixels  # (H, W, 3) uint8; sd.generate("a red fox", steps=20, ...) is the keyword form

txt2img, img2img (``init_image`` + ``strength``) and inpaint (``mask``) share one sampling loop with our own models.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import numpy as np

from genart_desktop.core.errors import InputError, ModelError
from genart_desktop.engine.pipelines.diffusion import DiffusionPipeline, DiffusionResult
from genart_desktop.engine.pipelines.generator import RecipeGenerator, StepControl
from genart_desktop.engine.pipelines.recipe import Recipe
from genart_desktop.engine.sd.components import TextEncoder, UNetDenoiser, VaeCodec, load_graph
from genart_desktop.engine.sd.folder import SDFolder
from genart_desktop.engine.sd.tokenizer import CLIPTokenizer

DEFAULT_GUIDANCE = 7.5
DEFAULT_STEPS = 25
PROMPT_CACHE_SIZE = 8  # prompt pairs whose hidden states are kept (a few hundred KiB each)


class StableDiffusionOnnx(RecipeGenerator):
    """A loaded Stable Diffusion export: tokenizer, text encoder, U-Net, VAE, and the schedule from its config."""

    default_steps = DEFAULT_STEPS
    default_guidance = DEFAULT_GUIDANCE

    def __init__(self, folder: SDFolder, settings: Mapping[str, Any] | None = None) -> None:
        self.folder = folder
        name = folder.name
        self.tokenizer = CLIPTokenizer.from_folder(folder.path / "tokenizer")
        text_session, _ = load_graph(folder.graph("text_encoder"), settings, f"{name} text encoder")
        self.text_encoder = TextEncoder(text_session, self.tokenizer)
        unet_session, unet_raw = load_graph(folder.graph("unet"), settings, f"{name} U-Net")
        self.unet = UNetDenoiser(unet_session, unet_raw)
        decoder, _ = load_graph(folder.graph("vae_decoder"), settings, f"{name} VAE decoder")
        encoder = load_graph(folder.graph("vae_encoder"), settings, f"{name} VAE encoder")[0] \
            if folder.has("vae_encoder") else None
        channels = self.unet.channels or int(folder.unet_config.get("in_channels", 4))
        if channels == 9:
            raise ModelError(f"{name} is a dedicated inpainting U-Net (9 input channels); load the standard model "
                             "of the same family instead - it inpaints through mask blending.")
        self.codec = VaeCodec(decoder, encoder, channels=channels, factor=folder.vae_factor,
                              scaling_factor=folder.scaling_factor)
        self.pipeline = DiffusionPipeline(self.unet, folder.schedule, channels=channels, codec=self.codec)
        self._fingerprint: str | None = None
        self._prompts: OrderedDict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._prompts_lock = threading.Lock()

    @classmethod
    def load(cls, path: str | os.PathLike[str], settings: Mapping[str, Any] | None = None) -> StableDiffusionOnnx:
        return cls(SDFolder.open(path), settings)

    # -- facts for the UI and recipes -----------------------------------------------------------------------------

    @property
    def schedule(self):
        return self.folder.schedule

    @property
    def native_size(self) -> int:
        return self.folder.native_size

    @property
    def provider(self) -> str:
        return self.unet.session.provider

    @property
    def fingerprint(self) -> str:
        if self._fingerprint is None:
            self._fingerprint = self.folder.fingerprint()
        return self._fingerprint

    @property
    def can_start_from_image(self) -> bool:
        return self.codec.encoder is not None

    # -- generation ----------------------------------------------------------------------------------------------

    def encode_prompts(self, prompt: str, negative_prompt: str = "",
                       run_options: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """(cond, uncond) hidden states, one row each, from one batched text-encoder call. The last few prompt
        pairs are kept (read-only), so live frames of an unchanged prompt skip the text encoder."""
        if not isinstance(prompt, str) or not isinstance(negative_prompt, str):
            raise InputError("The prompt and negative prompt must be text.")
        key = (prompt, negative_prompt)
        with self._prompts_lock:
            if key in self._prompts:
                self._prompts.move_to_end(key)
                return self._prompts[key]
        hidden = self.text_encoder([prompt, negative_prompt], run_options)
        hidden.setflags(write=False)
        pair = (hidden[:1], hidden[1:])
        with self._prompts_lock:
            self._prompts[key] = pair
            while len(self._prompts) > PROMPT_CACHE_SIZE:
                self._prompts.popitem(last=False)
        return pair

    def default_size(self) -> tuple[int, int]:
        return self.native_size, self.native_size

    def conditions(self, recipe: Recipe, starts_from_image: bool, run_options: Any = None) -> tuple[
            np.ndarray, np.ndarray]:
        if starts_from_image and not self.can_start_from_image:  # raises the explanatory ModelError
            self.codec.encode(np.zeros((1, 3, recipe.height, recipe.width), np.float32))
        return self.encode_prompts(recipe.prompt, recipe.negative_prompt, run_options)

    def sample(self, recipe: Recipe, init_image: np.ndarray | None, mask: np.ndarray | None, batch: int,
               control: StepControl) -> DiffusionResult:
        """As :meth:`RecipeGenerator.sample`; the U-Net's cached buffers are released afterwards. ``run_options``
        lets a cancel stop the text encoder, U-Net or VAE run in progress."""
        try:
            return super().sample(recipe, init_image, mask, batch, control)
        finally:
            self.unet.release()
