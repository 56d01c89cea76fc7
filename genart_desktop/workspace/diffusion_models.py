"""What the diffusion dock and ``genart generate`` know about a model before loading it, and how it is loaded.

:class:`ModelInfo` is read from a card (our own U-Nets) or an Optimum folder (Stable Diffusion): conditioning, sizes
the graph accepts, defaults, what it can do. :func:`load_generator` gives the ready :class:`RecipeGenerator` of
either family.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from genart_desktop.core.errors import InputError, ModelError
from genart_desktop.engine.pipelines.limits import MAX_SIDE, MAX_STEPS
from genart_desktop.engine.registry import ModelRegistry

FAMILIES = ("diffusion", "sd-onnx")


@dataclass(frozen=True)
class ModelInfo:
    """What the panel needs to know about a model before loading it (read from the card or the Optimum folder)."""

    id: str
    name: str
    family: str
    conditioning: str  # "none" | "class" | "text"
    classes: tuple[str, ...] = ()
    native_size: tuple[int, int] = (512, 512)
    size_step: int = 8  # width and height must be multiples of this
    fixed_size: tuple[int, int] | None = None  # the graph only accepts this size
    default_steps: int = 25
    default_guidance: float = 7.5
    can_start_from_image: bool = True
    fingerprint: str = ""
    description: str = ""
    max_steps: int = MAX_STEPS  # a sampler visits distinct training timesteps, so at most this many
    vocabulary: tuple[str, ...] = ()  # our text models read a fixed word list (Stable Diffusion: none, any text)
    max_tokens: int = 16
    examples: tuple[str, ...] = ()  # prompts the card suggests (config.conditioning.examples)
    factor: int = 1  # pixels per U-Net sample cell (the VAE's downscale; 1 for pixel-space models)
    control: str = ""  # the control picture the U-Net follows ("edges", "colour-blocks"); "" when none

    def check_control(self, control: object) -> None:
        """InputError naming the model when a control is given to a model that takes none."""
        if control is not None and not self.control:
            raise InputError(f"{self.name} takes no control picture; clear the control or choose a model trained "
                             "with one.")

    def class_named(self, text: str) -> str:
        """The class ``text`` names (any case, or its index), as the model lists it; InputError otherwise."""
        key = text.strip().lower()
        names = [c.lower() for c in self.classes]
        if key.isdigit() and int(key) < len(names):
            return self.classes[int(key)]
        if key not in names:
            raise InputError(f"Choose one of the classes {', '.join(self.classes)} for {self.name}.")
        return self.classes[names.index(key)]

    def prompt_problems(self, prompt: str) -> str:
        """A short warning when a prompt uses words this model never learned (empty when all is well)."""
        if not self.vocabulary:
            return ""
        from genart_desktop.engine.pipelines.diffusion_model import Conditioning

        unknown = Conditioning("text", (), self.vocabulary, self.max_tokens).unknown_words(prompt)
        if not unknown:
            return ""
        shown = ", ".join(unknown[:8]) + (", \u2026" if len(unknown) > 8 else "")
        return (f"Words this model will not understand (not in its {len(self.vocabulary)}-word vocabulary, or past "
                f"its {self.max_tokens}-word limit): {shown}")

    def size_rule(self) -> str:
        """The sizes this model accepts, in a sentence for the dock and the CLI."""
        if self.fixed_size is not None:
            return f"{self.name} makes {self.fixed_size[0]}\u00d7{self.fixed_size[1]} images only"
        top = MAX_SIDE // self.size_step * self.size_step
        return f"{self.name} makes sizes in multiples of {self.size_step} from {self.size_step} to {top} pixels"

    def snap_size(self, width: float, height: float) -> tuple[int, int]:
        """The nearest size this model can generate: its fixed size, or multiples of ``size_step`` (at least one
        step) with the same shape; a picture wanted at another size is generated here and then scaled."""
        if self.fixed_size is not None:
            return self.fixed_size
        step = self.size_step
        w = int(min(MAX_SIDE // step * step, max(step, round(float(width) / step) * step)))
        h = int(min(MAX_SIDE // step * step, max(step, round(float(height) / step) * step)))
        return w, h


def model_info(entry: Any) -> ModelInfo:
    """:class:`ModelInfo` for a registry entry of family ``diffusion`` or ``sd-onnx``; ModelError otherwise."""
    if entry.family == "sd-onnx":
        from genart_desktop.engine.sd.folder import SDFolder
        from genart_desktop.engine.sd.pipeline import DEFAULT_GUIDANCE, DEFAULT_STEPS

        folder = SDFolder.open(entry.folder)
        native = folder.native_size
        return ModelInfo(entry.id, entry.name, "sd-onnx", "text", (), (native, native), folder.vae_factor * 8, None,
                         DEFAULT_STEPS, DEFAULT_GUIDANCE, folder.has("vae_encoder"), "",
                         "Stable Diffusion (ONNX export)", min(MAX_STEPS, folder.schedule.num_train_timesteps),
                         factor=folder.vae_factor)
    if entry.family != "diffusion" or entry.card is None:
        raise ModelError(f"Model '{entry.id}' is a {entry.family} model, not a diffusion model.")
    from genart_desktop.engine.pipelines.diffusion_model import Conditioning
    from genart_desktop.engine.schedules import ScheduleConfig

    card = entry.card
    config = card.config if isinstance(card.config, dict) else {}
    conditioning = Conditioning.from_config(config.get("conditioning"))
    try:
        schedule = ScheduleConfig.from_dict(config.get("schedule", {}))
    except ValueError as exc:
        raise ModelError(f"{entry.id}: config.schedule: {exc}") from exc
    resolution = tuple(card.resolution or (64, 64))
    latent = "vae_decoder" in card.files
    factor = 1
    sample = card.io.get("unet").inputs.get("sample") if "unet" in card.io else None
    dims = tuple(sample.shape[2:4]) if sample is not None and len(sample.shape) == 4 else ()
    if latent:
        lat_cfg = config.get("latent") if isinstance(config.get("latent"), dict) else {}
        if dims and isinstance(dims[0], int) and dims[0] > 0:
            factor = max(1, resolution[1] // dims[0])
        else:
            factor = max(1, int(lat_cfg.get("factor", 1)))
    fixed = None
    for graph, name in (("unet", "sample"), ("vae_decoder", "latent")):  # either graph may pin the size
        spec = card.io[graph].inputs.get(name) if graph in card.io else None
        shape = tuple(spec.shape[2:4]) if spec is not None and len(spec.shape) == 4 else ()
        if fixed is None and len(shape) == 2 and all(isinstance(d, int) and d > 0 for d in shape):
            fixed = (int(shape[1]) * factor, int(shape[0]) * factor)
    can_start = not latent or bool((config.get("latent") or {}).get("vae"))
    default_guidance = float(config.get("default_guidance", 3.0 if conditioning.kind != "none" else 1.0))
    fingerprint = card.files["unet"].sha256[:16] if "unet" in card.files else ""
    control = config.get("control") if isinstance(config.get("control"), dict) else {}
    takes_control = "unet" in card.io and "control" in card.io["unet"].inputs
    max_steps = min(MAX_STEPS, schedule.num_train_timesteps)
    return ModelInfo(entry.id, entry.name, "diffusion", conditioning.kind, conditioning.classes,
                     (int(resolution[0]), int(resolution[1])), 8 * factor, fixed,
                     min(max_steps, int(config.get("default_steps", 50))), default_guidance, can_start, fingerprint,
                     card.description, max_steps, conditioning.vocabulary, conditioning.max_tokens,
                     _examples(config.get("conditioning")), factor,
                     str(control.get("type") or "sketch") if takes_control else "")


def _examples(conditioning: Any, count: int = 4) -> tuple[str, ...]:
    examples = conditioning.get("examples") if isinstance(conditioning, dict) else None
    if not isinstance(examples, list):
        return ()
    return tuple(str(e) for e in examples if isinstance(e, str) and e.strip())[:count]


def load_generator(registry: Any, model_id: str) -> Any:
    """The ready :class:`~genart_desktop.engine.pipelines.generator.RecipeGenerator` of a registry model of either
    family."""
    entry = registry.get(model_id)
    if entry.family == "sd-onnx":
        from genart_desktop.engine.sd import StableDiffusionOnnx

        return StableDiffusionOnnx.load(entry.folder, registry.settings)
    from genart_desktop.engine.pipelines.diffusion_model import CardDiffusionModel

    return CardDiffusionModel.from_registry(registry, model_id)


def diffusion_registry(spec: str) -> tuple[ModelRegistry, str]:
    """(registry, model id) for a diffusion model named by registry id, or by the path of a Stable Diffusion ONNX
    folder (``genart generate --model``); ModelError when it names no usable diffusion model."""
    from genart_desktop.engine.sd import is_sd_folder

    path = Path(spec).expanduser()
    registry = ModelRegistry()
    if path.is_dir():
        if not is_sd_folder(path):
            raise ModelError(f"{path} is not a Stable Diffusion ONNX folder (model_index.json and unet/model.onnx); "
                             "put your own models in the models folder and pass their id.")
        registry = ModelRegistry.for_folder(path.resolve())
        spec = registry.entries()[0].id
    entry = registry.get(spec)
    if entry.family not in FAMILIES:
        raise ModelError(f"Model '{spec}' is a {entry.family} model, not a diffusion model.")
    return registry, entry.id
