"""GAN training step, checkpoint state and evaluation (samples + diversity monitor)."""

from __future__ import annotations

from typing import Any

import torch
from tqdm import tqdm

from genart_desktop.training.checkpoint import (load_module_tensors, load_optimizer_tensors, module_tensors,
                                                optimizer_tensors)
from genart_desktop.training.data.cached import ImageDataset
from genart_desktop.training.device import Runtime
from genart_desktop.training.ema import EMA
from genart_desktop.training.gan.config import GanConfig
from genart_desktop.training.gan.diffaugment import diff_augment, parse_policy
from genart_desktop.training.gan.losses import d_loss_ns, d_loss_wgan, g_loss_ns, g_loss_wgan, gradient_penalty
from genart_desktop.training.gan.models import Discriminator, Generator, SkipGenerator
from genart_desktop.training.gan.monitor import DiversityMonitor
from genart_desktop.training.grid import save_grid
from genart_desktop.training.init_weights import InitTargets, OnnxTarget
from genart_desktop.training.metrics import nearest_distance
from genart_desktop.training.runs import RunFolder
from genart_desktop.training.trainer import Trainer

REAL_REFERENCE = 256  # real images for the diversity reference score


def build_generator(cfg: GanConfig) -> Generator | SkipGenerator:
    kind = SkipGenerator if cfg.g_arch == "skip" else Generator
    return kind(cfg.latent_dim, cfg.resolution, cfg.g_channels, cfg.max_channels, cfg.upsample_mode())


def build_discriminator(cfg: GanConfig) -> Discriminator:
    return Discriminator(cfg.resolution, cfg.d_channels, cfg.max_channels, cfg.spectral_norm)


def fixed_latents(cfg: GanConfig) -> torch.Tensor:
    return torch.randn(cfg.monitor_samples, cfg.latent_dim, generator=torch.Generator().manual_seed(cfg.seed + 7))


def reference_images(dataset: ImageDataset, count: int, seed: int) -> torch.Tensor:
    order = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(seed + 11))
    return dataset.batch(order[: min(count, len(dataset))])


class GanTrainer(Trainer):
    family = "gan"
    plots = {
        "loss.png": ("GAN losses", ["d_loss", "g_loss", "gp"]),
        "diversity.png": ("Sample diversity (fixed latents) vs real data", ["diversity"]),
    }

    def __init__(self, cfg: GanConfig, runtime: Runtime, run: RunFolder | None, dataset: ImageDataset):
        super().__init__(cfg, runtime, run, dataset)
        self.cfg: GanConfig = cfg
        device = runtime.device
        self.G = build_generator(cfg).to(device)
        self.D = build_discriminator(cfg).to(device)
        self.ema = EMA(self.G, cfg.ema_decay)
        self.G_train = runtime.wrap(self.G)
        self.D_train = runtime.wrap(self.D)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=cfg.lr, betas=(cfg.beta1, cfg.beta2))
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=cfg.lr_d or cfg.lr, betas=(cfg.beta1, cfg.beta2))
        self.scaler = runtime.grad_scaler()
        self.policy = parse_policy(cfg.diffaugment)
        self.monitor: DiversityMonitor | None = None
        if runtime.is_main:
            self.real_reference = reference_images(dataset, REAL_REFERENCE, cfg.seed)
            self.monitor = DiversityMonitor.from_real(self.real_reference, cfg.collapse_drop)
        self.latents = fixed_latents(cfg)

    # -- training ----------------------------------------------------------------------------------------------------
    def _augment(self, x: torch.Tensor) -> torch.Tensor:
        return diff_augment(x, self.policy) if self.policy else x

    def train_step(self, step: int) -> dict[str, float]:
        cfg, runtime = self.cfg, self.runtime
        wgan = cfg.loss == "wgan-gp"
        logs: dict[str, float] = {}
        self.D.requires_grad_(True)
        for inner in range(cfg.d_steps):
            real = self.real_batch(step * cfg.d_steps + inner)
            n = real.shape[0]
            z = torch.randn(n, cfg.latent_dim, device=runtime.device)
            with torch.no_grad(), runtime.autocast():
                fake = self.G(z)
            batch = [self._augment(real), self._augment(fake.float())]
            if wgan:
                eps = torch.rand(n, 1, 1, 1, device=runtime.device)
                batch.append((eps * batch[0] + (1 - eps) * batch[1]).requires_grad_(True))
            inputs = torch.cat(batch)
            with runtime.autocast():
                scores = self.D_train(inputs).float()
            real_s, fake_s = scores[:n], scores[n:2 * n]
            if wgan:
                scale = self.scaler.get_scale() if self.scaler.is_enabled() else 1.0
                gp = gradient_penalty(scores[2 * n:], inputs, scale)
                d_loss = d_loss_wgan(real_s, fake_s) + cfg.gp_weight * gp
                logs["gp"] = float(gp.detach())
            else:
                d_loss = d_loss_ns(real_s, fake_s)
            self.opt_d.zero_grad(set_to_none=True)
            self.scaler.scale(d_loss).backward()
            self.scaler.step(self.opt_d)
            self.scaler.update()
        logs["d_loss"] = float(d_loss.detach())

        self.D.requires_grad_(False)
        z = torch.randn(cfg.batch_size, cfg.latent_dim, device=runtime.device)
        with runtime.autocast():
            fake = self.G_train(z)
            scores = self.D(self._augment(fake)).float()  # the bare D: its weights take no part in this update
        g_loss = g_loss_wgan(scores) if wgan else g_loss_ns(scores)
        self.opt_g.zero_grad(set_to_none=True)
        self.scaler.scale(g_loss).backward()
        self.scaler.step(self.opt_g)
        self.scaler.update()
        self.ema.update(self.G, step)
        logs["g_loss"] = float(g_loss.detach())
        return logs

    # -- checkpoint -------------------------------------------------------------------------------------------------
    def init_targets(self) -> InitTargets:
        """A model folder holds the EMA generator only: both generators start from it, the discriminator fresh."""
        z = torch.randn(2, self.cfg.latent_dim, generator=torch.Generator().manual_seed(4))
        return InitTargets({"G": self.G, "G_ema": self.ema.module, "D": self.D},
                           [OnnxTarget("generator", ("G", "G_ema"), {"z": z}, ["image"])])

    def state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        tensors = {**module_tensors("G", self.G), **module_tensors("D", self.D),
                   **module_tensors("G_ema", self.ema.module)}
        g_t, g_info = optimizer_tensors("optim.G", self.opt_g)
        d_t, d_info = optimizer_tensors("optim.D", self.opt_d)
        tensors.update(g_t)
        tensors.update(d_t)
        extra = {"optim.G": g_info, "optim.D": d_info, "scaler": self.scaler.state_dict(),
                 "monitor": self.monitor.to_json() if self.monitor else None}
        return tensors, extra

    def load_state(self, tensors: dict[str, torch.Tensor], extra: dict[str, Any]) -> None:
        load_module_tensors("G", self.G, tensors)
        load_module_tensors("D", self.D, tensors)
        load_module_tensors("G_ema", self.ema.module, tensors)
        load_optimizer_tensors("optim.G", self.opt_g, tensors, extra["optim.G"])
        load_optimizer_tensors("optim.D", self.opt_d, tensors, extra["optim.D"])
        if extra.get("scaler"):
            self.scaler.load_state_dict(extra["scaler"])
        if self.monitor and extra.get("monitor"):
            self.monitor.load_json(extra["monitor"])

    # -- evaluation ---------------------------------------------------------------------------------------------------
    @torch.no_grad()
    def generate(self, z: torch.Tensor) -> torch.Tensor:
        images = [self.ema.module(chunk.to(self.runtime.device)).float().cpu() for chunk in z.split(64)]
        return torch.cat(images)

    def evaluate(self, step: int) -> dict[str, float]:
        fake = self.generate(self.latents)
        assert self.run is not None and self.monitor is not None
        save_grid(self.run.samples_dir / f"step-{step:07d}.png", fake[:64])
        score, ratio, warning = self.monitor.check(step, fake)
        if warning:
            self.run.log("WARNING " + warning)
            tqdm.write("warning: " + warning)
        return {"diversity": score, "diversity_ratio": ratio,
                "nearest_train_distance": nearest_distance(fake, self.real_reference)}

    def plot_references(self) -> dict[str, dict[str, float]]:
        return {"diversity.png": {"real data": self.monitor.real_score}} if self.monitor else {}
