"""Diffusion options (the single source of truth for flags, options.json, checkpoints and the card's command)."""

from __future__ import annotations

from dataclasses import dataclass

from genart_desktop.core.errors import InputError
from genart_desktop.training.config import TrainConfig, option
from genart_desktop.training.data.caption_variants import KEEP_NAME

CONDITIONS = ("none", "class", "text")
CONTROLS = ("none", "edges", "colour-blocks")
PREDICTIONS = {"eps": "epsilon", "v": "v_prediction"}
SCHEDULES = ("linear", "cosine")


def parse_channels(text: str) -> tuple[int, ...]:
    """``64,128,128`` -> (64, 128, 128); raises ValueError for anything else."""
    try:
        values = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise ValueError(f"channels must be comma-separated whole numbers, not {text!r}") from None
    if not values or any(v <= 0 or v % 8 for v in values):
        raise ValueError(f"channels must be positive multiples of 8 (group norm), not {text!r}")
    return values


@dataclass
class DiffusionConfig(TrainConfig):
    FAMILY = "diffusion"
    ARCHITECTURE = ("resolution", "condition", "prediction", "schedule", "timesteps", "channels", "res_blocks",
                    "attention_res", "heads", "latent_vae", "tokens", "text_dim", "text_layers", "control")

    resolution: int = option(32, "image size in pixels (square)", (16, 32, 64, 128))
    lr: float = option(2e-4, "learning rate (AdamW, linear warm-up)")
    condition: str = option("none", "what the model is conditioned on: nothing, the dataset's label or its caption",
                            CONDITIONS)
    prediction: str = option("eps", "what the U-Net predicts: the noise (eps) or the velocity v", tuple(PREDICTIONS))
    schedule: str = option("linear", "noise schedule (shared with the app's samplers)", SCHEDULES)
    timesteps: int = option(1000, "training timesteps of the forward process")
    channels: str = option("32,64,128", "U-Net width per resolution level, comma-separated (each halves the size)")
    res_blocks: int = option(2, "residual blocks per level")
    attention_res: int = option(8, "self-attention (and text cross-attention) at feature maps this size or smaller")
    heads: int = option(4, "attention heads")
    dropout: float = option(0.0, "dropout inside the residual blocks")
    latent_vae: str = option("", "exported VAE model folder: train in its latent space (latent diffusion)")
    tokens: int = option(8, "caption length in word tokens (longer captions are cut, shorter ones padded)")
    text_dim: int = option(128, "width of the learned text encoder")
    text_layers: int = option(2, "transformer layers in the text encoder")
    control: str = option("none", "a control picture computed from each training picture (a line sketch, or flat "
                          "colour blocks) that the model learns to follow, through a small control encoder", CONTROLS)
    control_drop: float = option(0.15, "probability of training a step's picture without its control")
    control_colours: int = option(6, "colour-blocks: colours of each picture's flat segmentation")
    caption_variants: str = option("off", "on: each step shows a caption as a variant (word subsets, shuffled "
                                   "words, synonyms, the category words several pictures share), so a prompt "
                                   "stands for many pictures", ("off", "on"))
    caption_name: float = option(KEEP_NAME, "with --caption-variants on: share of steps that show a picture's "
                                 "caption exactly as written (the rest show variants)")
    cond_drop: float = option(0.1, "probability of dropping the condition (trains the unconditional mode for CFG)")
    guidance: float = option(3.0, "classifier-free guidance scale for sample grids and the card's default")
    min_snr: float = option(5.0, "min-SNR-gamma loss weighting (Hang et al. 2023); 0 turns it off")
    warmup: int = option(500, "learning-rate warm-up steps")
    weight_decay: float = option(0.0, "AdamW weight decay")
    grad_clip: float = option(1.0, "clip the gradient norm to this (0: off)")
    ema_decay: float = option(0.999, "EMA decay of the weights (the EMA copy is what gets exported)")
    sample_count: int = option(36, "images in each sample grid (also used for the diversity measurement)")
    sample_steps: int = option(25, "sampler steps for sample grids")
    sampler: str = option("dpmpp_2m", "engine sampler for sample grids", ("ddim", "ddpm", "dpmpp_2m", "euler_a"))

    @property
    def prediction_type(self) -> str:
        return PREDICTIONS[self.prediction]

    @property
    def channel_list(self) -> tuple[int, ...]:
        return parse_channels(self.channels)

    def validate(self) -> None:
        super().validate()
        try:
            channels = self.channel_list
        except ValueError as exc:
            raise InputError(f"--channels: {exc}.") from exc
        for name in ("res_blocks", "attention_res", "heads", "tokens", "text_dim", "text_layers", "sample_steps"):
            if getattr(self, name) <= 0:
                raise InputError(f"--{name.replace('_', '-')} must be positive.")
        if self.tokens > 1024:
            raise InputError("--tokens must be at most 1024 (the app reads at most 1024 word tokens).")
        if self.timesteps < 2:
            raise InputError("--timesteps must be at least 2.")
        if self.sample_steps > self.timesteps:
            raise InputError("--sample-steps cannot exceed --timesteps.")
        if self.text_dim % self.heads:
            raise InputError(f"--text-dim {self.text_dim} must be divisible by --heads {self.heads}.")
        if any(c % self.heads for c in channels):
            raise InputError(f"Every --channels width must be divisible by --heads {self.heads}.")
        if not 0.0 <= self.cond_drop < 1.0:
            raise InputError("--cond-drop must be in [0, 1).")
        if not 0.0 <= self.caption_name <= 1.0:
            raise InputError("--caption-name must be in [0, 1].")
        if self.caption_variants == "on" and self.condition != "text":
            raise InputError("--caption-variants on needs --condition text.")
        if self.condition != "none" and self.cond_drop == 0.0 and self.guidance != 1.0:
            raise InputError("Guidance needs an unconditional mode: give --cond-drop above 0 or --guidance 1.")
        if not 0.0 <= self.control_drop < 1.0:
            raise InputError("--control-drop must be in [0, 1).")
        if not 2 <= self.control_colours <= 32:
            raise InputError("--control-colours must be between 2 and 32.")
        if not 0.0 <= self.dropout < 1.0:
            raise InputError("--dropout must be in [0, 1).")
        if not 0.0 <= self.ema_decay < 1.0:
            raise InputError("--ema-decay must be in [0, 1).")
        if self.min_snr < 0 or self.warmup < 0 or self.weight_decay < 0 or self.grad_clip < 0:
            raise InputError("--min-snr, --warmup, --weight-decay and --grad-clip cannot be negative.")
        if not 0.0 <= self.guidance <= 50.0:
            raise InputError("--guidance must be between 0 and 50.")
        if self.sample_count < 2:
            raise InputError("--sample-count must be at least 2.")
