"""Diffusion training step, checkpoint state and evaluation (sample grids through the engine's samplers)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from genart_desktop.core.errors import InputError
from genart_desktop.training.checkpoint import (
    load_module_tensors,
    load_optimizer_tensors,
    module_tensors,
    optimizer_tensors,
)
from genart_desktop.training.data.cached import ImageDataset
from genart_desktop.training.device import Runtime
from genart_desktop.training.diffusion.config import DiffusionConfig
from genart_desktop.training.diffusion.control import (
    control_input,
    control_keep,
    control_maps,
    load_without_control,
)
from genart_desktop.training.diffusion.latents import (
    PairedVAE,
    ScaledCodec,
    cached_latents,
    check_image_channels,
    dataset_fingerprint,
)
from genart_desktop.training.diffusion.objective import (
    DiffusionObjective,
    make_schedule,
)
from genart_desktop.training.diffusion.sampling import TorchDenoiser, sample_images
from genart_desktop.training.diffusion.text import Conditioning, drop_conditions
from genart_desktop.training.diffusion.unet import UNet, parameter_count
from genart_desktop.training.diffusion.varied_captions import varied_conditioning
from genart_desktop.training.ema import EMA
from genart_desktop.training.grid import save_grid
from genart_desktop.training.init_weights import InitTargets, OnnxTarget
from genart_desktop.training.metrics import diversity_score, nearest_distance
from genart_desktop.training.runs import RunFolder
from genart_desktop.training.trainer import Trainer

REAL_REFERENCE = 256


def build_unet(cfg: DiffusionConfig, in_channels: int, sample_size: int, conditioning: Conditioning) -> UNet:
    """The U-Net of ``cfg`` (with a control encoder from pixel size to ``sample_size`` when ``cfg.control``)."""
    channels = cfg.channel_list
    if sample_size % 2 ** (len(channels) - 1):
        raise InputError(f"A {sample_size}x{sample_size} sample cannot be halved {len(channels) - 1} times; use "
                         "fewer --channels levels.")
    encoder, context_dim = conditioning.build_encoder(4 * channels[0], cfg.text_dim, cfg.text_layers, cfg.heads)
    factor = cfg.resolution // sample_size if cfg.control != "none" else 0
    return UNet(in_channels, channels, cfg.res_blocks, sample_size, cfg.attention_res, cfg.heads, cfg.dropout,
                encoder, context_dim, factor)


def grid_conditions(conditioning: Conditioning, dataset: ImageDataset, count: int, seed: int
                    ) -> tuple[np.ndarray | None, list[str]]:
    """One condition per grid row (each repeated along its row) and the row labels, chosen once per seed."""
    columns = max(1, math.ceil(math.sqrt(count)))
    rows = math.ceil(count / columns)
    if conditioning.kind == "none":
        return None, []
    if conditioning.kind == "class":
        labels = [conditioning.classes[i % len(conditioning.classes)] for i in range(rows)]
    else:
        assert conditioning.vocabulary is not None
        captions = sorted({c for c in dataset.captions if c}) or list(conditioning.vocabulary.words)
        order = torch.randperm(len(captions), generator=torch.Generator().manual_seed(seed + 5)).tolist()
        labels = [captions[order[i % len(captions)]] for i in range(rows)]
    conds = torch.cat([conditioning.encode_prompt(label) for label in labels])  # type: ignore[misc]
    repeated = conds.repeat_interleave(columns, dim=0)[:count]
    return repeated.numpy(), labels


class DiffusionTrainer(Trainer):
    family = "diffusion"
    image_channels = (3, 4)
    plots = {
        "loss.png": ("Diffusion loss", ["loss"]),
        "diversity.png": ("Sample diversity vs real data", ["diversity"]),
    }

    def __init__(self, cfg: DiffusionConfig, runtime: Runtime, run: RunFolder | None, dataset: ImageDataset):
        super().__init__(cfg, runtime, run, dataset)
        self.cfg: DiffusionConfig = cfg
        device = runtime.device
        items = dataset.meta.get("items") or [{} for _ in range(len(dataset))]
        self.conditioning, self.varied = varied_conditioning(
            cfg.caption_variants, items, Conditioning.from_dataset(cfg.condition, dataset.meta, dataset.captions,
                                                                   cfg.tokens), cfg.seed, cfg.caption_name)
        self.conds = self.conditioning.encode_items(items)
        if self.conds is not None and self.conds.shape[0] != len(dataset):
            raise InputError("The dataset's items and images differ in number; rebuild the dataset.")
        self.null = self.conditioning.null(1)

        self.vae: PairedVAE | None = None
        self.scale = 1.0
        if cfg.latent_vae:
            self.vae = PairedVAE.load(cfg.latent_vae, cfg.resolution, run.path if run is not None else None)
            check_image_channels(self.vae, dataset.channels)
            images = dataset.batch(torch.arange(len(dataset)))
            key = dataset_fingerprint(dataset.images)
            if run is not None:
                self.mean, self.logvar, self.scale = cached_latents(run.path, self.vae, images, cfg.flip, key)
                run.log(f"latent diffusion in {self.vae.card.id}'s {list(self.vae.latent_shape)} latent space; "
                        f"latent scale {self.scale:.5f}")
            else:  # a non-main process under torchrun: encode in memory
                from genart_desktop.training.diffusion.latents import (
                    encode_dataset,
                    latent_scale,
                )
                views = [images] + ([images.flip(-1)] if cfg.flip else [])
                pairs = [encode_dataset(self.vae, view) for view in views]
                self.mean = torch.stack([m for m, _ in pairs])
                self.logvar = torch.stack([v for _, v in pairs])
                self.scale = latent_scale(self.mean[0], self.logvar[0])
            self.in_channels, self.sample_size = self.vae.channels, self.vae.latent_shape[1]
        else:
            check_image_channels(None, dataset.channels)
            self.in_channels, self.sample_size = 3, cfg.resolution

        self.controls: torch.Tensor | None = None  # (N, 3, R, R) uint8, each training picture's control
        if cfg.control != "none":
            self.controls = control_maps(dataset.batch(torch.arange(len(dataset))), cfg.control, cfg.control_colours)
            if run is not None:
                run.log(f"control: {cfg.control} maps of {len(dataset)} pictures, dropped for {cfg.control_drop:.0%}"
                        " of the rows")
        self.schedule = make_schedule(cfg.schedule, cfg.timesteps, cfg.prediction_type, clip_sample=self.vae is None)
        self.objective = DiffusionObjective(self.schedule, cfg.min_snr, device)
        self.model = build_unet(cfg, self.in_channels, self.sample_size, self.conditioning).to(device)
        self.ema = EMA(self.model, cfg.ema_decay)
        self.train_model = runtime.wrap(self.model)
        self.opt = torch.optim.AdamW(self.model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        self.scaler = runtime.grad_scaler()
        self.real_reference: torch.Tensor | None = None
        self.real_diversity = 0.0
        if runtime.is_main and run is not None:
            order = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(cfg.seed + 11))
            self.real_reference = dataset.batch(order[:REAL_REFERENCE])
            self.real_diversity = diversity_score(self.real_reference) if len(self.real_reference) > 1 else 0.0
            run.log(f"U-Net: {parameter_count(self.model) / 1e6:.2f}M parameters, {self.in_channels}x"
                    f"{self.sample_size}x{self.sample_size} samples, condition {cfg.condition}")

    # -- training ----------------------------------------------------------------------------------------------------
    def clean_batch(self, indices: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x0 for these dataset rows (images in [-1, 1], or scaled latents drawn from the VAE posterior) and which
        rows are the flipped view."""
        if self.vae is None:
            x = self.dataset.batch(indices)
            flips = torch.rand(x.shape[0]) < 0.5 if self.cfg.flip else torch.zeros(x.shape[0], dtype=torch.bool)
            x[flips] = x[flips].flip(-1)
            return x.to(self.runtime.device), flips
        views = torch.randint(0, self.mean.shape[0], (indices.shape[0],))
        mean, logvar = self.mean[views, indices], self.logvar[views, indices]
        z = mean + torch.exp(0.5 * logvar) * torch.randn_like(mean)
        return (z * self.scale).to(self.runtime.device), views == 1  # the cached second view is the flipped one

    def control_batch(self, indices: torch.Tensor, flips: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor] | None:
        """(control pictures in [-1, 1], strengths with the dropped rows at 0) of these rows; None without."""
        if self.controls is None:
            return None
        maps = self.controls[indices].clone()
        maps[flips] = maps[flips].flip(-1)
        device = self.runtime.device
        return control_input(maps).to(device), control_keep(len(indices), self.cfg.control_drop).to(device)

    def train_step(self, step: int) -> dict[str, float]:
        cfg, runtime = self.cfg, self.runtime
        indices = self.sampler.indices(step)
        x0, flips = self.clean_batch(indices)
        control = self.control_batch(indices, flips)
        cond = None
        if self.conds is not None:
            rows = self.conds[indices] if self.varied is None else self.varied.rows(step, indices)
            cond = drop_conditions(rows, self.null, cfg.cond_drop).to(runtime.device)
        t = self.objective.sample_timesteps(x0.shape[0], runtime.device)
        noise = torch.randn_like(x0)
        xt = self.objective.add_noise(x0, noise, t)
        for group in self.opt.param_groups:
            group["lr"] = cfg.lr * min(1.0, (step + 1) / cfg.warmup) if cfg.warmup else cfg.lr
        with runtime.autocast():
            prediction = self.train_model(xt, t.float(), cond, *(control or ()))
        loss = self.objective.loss(prediction, self.objective.target(x0, noise, t), t)
        self.opt.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        if cfg.grad_clip:
            self.scaler.unscale_(self.opt)
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.grad_clip)
        self.scaler.step(self.opt)
        self.scaler.update()
        self.ema.update(self.model, step)
        return {"loss": float(loss.detach())}

    # -- checkpoint -------------------------------------------------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        """What export needs besides the weights: conditioning, schedule, sample space and the paired VAE."""
        return {"conditioning": self.conditioning.to_json(), "schedule": self.schedule.to_dict(),
                "in_channels": self.in_channels, "sample_size": self.sample_size,
                "latent": None if self.vae is None else {"scale": self.scale, "vae": self.vae.describe(),
                                                         "vae_folder": str(self.vae.folder.resolve())},
                "real_diversity": self.real_diversity}

    def init_targets(self) -> InitTargets:
        """The U-Net graph (as exported, with its ``cond`` input when conditioned) fills the U-Net and its EMA.

        The conditioning (classes, or the caption vocabulary) comes from this run's data: a source whose own
        differs does not fit, and its tensors' shapes say so."""
        from genart_desktop.training.diffusion.export import (
            PARITY_TOLERANCE,
            ExportedUNet,
            parity_inputs,
        )

        inputs = parity_inputs(self.model, self.in_channels, self.sample_size, self.conditioning)[0]
        exported = ExportedUNet(self.model, self.conditioning.width > 0)
        load = load_without_control if self.model.control_encoder is not None else None
        return InitTargets({"unet": self.model, "unet_ema": self.ema.module},
                           [OnnxTarget("unet", ("unet", "unet_ema"), inputs, ["prediction"], exported, load,
                                       tolerance=PARITY_TOLERANCE)])

    def state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        tensors = {**module_tensors("unet", self.model), **module_tensors("unet_ema", self.ema.module)}
        opt_t, opt_info = optimizer_tensors("optim.unet", self.opt)
        tensors.update(opt_t)
        return tensors, {"optim.unet": opt_info, "scaler": self.scaler.state_dict(), "model": self.describe()}

    def load_state(self, tensors: dict[str, torch.Tensor], extra: dict[str, Any]) -> None:
        load_module_tensors("unet", self.model, tensors)
        load_module_tensors("unet_ema", self.ema.module, tensors)
        load_optimizer_tensors("optim.unet", self.opt, tensors, extra["optim.unet"])
        if extra.get("scaler"):
            self.scaler.load_state_dict(extra["scaler"])

    # -- evaluation ---------------------------------------------------------------------------------------------------
    def codec(self) -> ScaledCodec | None:
        return None if self.vae is None else ScaledCodec(self.vae, self.scale)

    def sample(self, count: int, seed: int) -> tuple[torch.Tensor, list[str]]:
        conds, labels = grid_conditions(self.conditioning, self.dataset, count, seed)
        null = None if self.null is None else self.null.numpy()
        controls = None if self.controls is None else control_input(self.controls[torch.arange(count) % len(self.controls)]).numpy()
        images = sample_images(TorchDenoiser(self.ema.module, self.runtime.device), self.schedule, self.in_channels,
                               self.cfg.resolution, conds, null, count, self.cfg.guidance, self.cfg.sample_steps,
                               self.cfg.sampler, seed, self.codec(), controls)
        return torch.from_numpy(images), labels

    def evaluate(self, step: int) -> dict[str, float]:
        assert self.run is not None and self.real_reference is not None
        images, labels = self.sample(self.cfg.sample_count, self.cfg.seed)
        columns = max(1, math.ceil(math.sqrt(self.cfg.sample_count)))
        save_grid(self.run.samples_dir / f"step-{step:07d}.png", images, columns)
        if labels and not (self.run.samples_dir / "rows.txt").exists():
            (self.run.samples_dir / "rows.txt").write_text("\n".join(labels) + "\n", encoding="utf-8")
        score = diversity_score(images)
        return {"diversity": score,
                "diversity_ratio": score / self.real_diversity if self.real_diversity > 0 else 0.0,
                "nearest_train_distance": nearest_distance(images, self.real_reference)}

    def plot_references(self) -> dict[str, dict[str, float]]:
        return {"diversity.png": {"real data": self.real_diversity}} if self.real_diversity else {}
