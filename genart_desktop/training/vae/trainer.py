"""VAE training step (reconstruction + beta-KL + optional patch-adversarial term), checkpoint state, evaluation."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from genart_desktop.training.checkpoint import (load_module_tensors, load_optimizer_tensors, module_tensors,
                                                optimizer_tensors)
from genart_desktop.training.data.cached import ImageDataset
from genart_desktop.training.device import Runtime
from genart_desktop.training.grid import save_grid
from genart_desktop.training.init_weights import InitTargets, OnnxTarget
from genart_desktop.training.metrics import psnr
from genart_desktop.training.runs import RunFolder
from genart_desktop.training.trainer import Trainer
from genart_desktop.training.vae.config import VaeConfig
from genart_desktop.training.vae.models import Decoder, Encoder, PatchDiscriminator


class VaeNet(nn.Module):
    """Encoder and decoder; ``image_channels`` follows the dataset (4: premultiplied RGBA, alpha learned too)."""

    def __init__(self, cfg: VaeConfig, image_channels: int = 3):
        super().__init__()
        shape = cfg.latent_shape()
        self.encoder = Encoder(cfg.resolution, shape, cfg.channels, cfg.max_channels, cfg.convs, image_channels)
        self.decoder = Decoder(cfg.resolution, shape, cfg.channels, cfg.max_channels, cfg.convs, image_channels)

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mean, logvar = self.encoder(image)
        latent = mean + torch.randn_like(mean) * (0.5 * logvar.float()).exp().to(mean.dtype)
        return self.decoder(latent), mean, logvar


class VaeTrainer(Trainer):
    family = "vae"
    image_channels = (3, 4)
    plots = {
        "loss.png": ("VAE losses", ["loss", "recon", "kl", "adv_g", "adv_d"]),
        "psnr.png": ("Held-out reconstruction PSNR (dB)", ["psnr_holdout", "psnr_train"]),
    }

    def __init__(self, cfg: VaeConfig, runtime: Runtime, run: RunFolder | None, dataset: ImageDataset):
        train, held = dataset.split(cfg.holdout, cfg.seed)
        super().__init__(cfg, runtime, run, train)
        self.cfg: VaeConfig = cfg
        self.holdout = held
        self.picture_channels = dataset.channels
        self.net = VaeNet(cfg, self.picture_channels).to(runtime.device)
        self.net_train = runtime.wrap(self.net)
        self.opt = torch.optim.Adam(self.net.parameters(), lr=cfg.lr)
        self.scaler = runtime.grad_scaler()
        self.D: PatchDiscriminator | None = None
        if cfg.adv_weight > 0:
            self.D = PatchDiscriminator(cfg.channels, image_channels=self.picture_channels).to(runtime.device)
            self.D_train = runtime.wrap(self.D)
            self.opt_d = torch.optim.Adam(self.D.parameters(), lr=cfg.lr, betas=(0.5, 0.9))
        generator = torch.Generator().manual_seed(cfg.seed + 5)
        probe = held if held is not None else train
        order = torch.randperm(len(probe), generator=generator)[: cfg.monitor_samples // 2]
        self.probe = probe.batch(order)
        self.prior = torch.randn(cfg.monitor_samples // 2, *cfg.latent_shape(), generator=generator)

    def _recon_loss(self, recon: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
        if self.cfg.recon == "l1":
            return F.l1_loss(recon.float(), real)
        return F.mse_loss(recon.float(), real)

    def train_step(self, step: int) -> dict[str, float]:
        cfg, runtime = self.cfg, self.runtime
        real = self.real_batch(step)
        adversarial = self.D is not None and step >= cfg.adv_start
        with runtime.autocast():
            recon, mean, logvar = self.net_train(real)
        mean, logvar = mean.float(), logvar.float()
        recon_loss = self._recon_loss(recon, real)
        # KL per image, spread over the image's elements so --beta does not depend on the resolution.
        kl = 0.5 * (mean.square() + logvar.exp() - 1.0 - logvar).flatten(1).sum(1).mean() / real[0].numel()
        beta = cfg.beta * min(1.0, (step + 1) / cfg.kl_warmup) if cfg.kl_warmup else cfg.beta
        loss = recon_loss + beta * kl
        logs = {"recon": float(recon_loss.detach()), "kl": float(kl.detach())}
        if adversarial:
            assert self.D is not None
            self.D.requires_grad_(False)
            with runtime.autocast():
                adv_g = -self.D(recon).float().mean()
            loss = loss + cfg.adv_weight * adv_g
            logs["adv_g"] = float(adv_g.detach())
        self.opt.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(self.opt)
        self.scaler.update()
        logs["loss"] = float(loss.detach())
        if adversarial:
            assert self.D is not None
            self.D.requires_grad_(True)
            n = real.shape[0]
            with runtime.autocast():
                scores = self.D_train(torch.cat([real, recon.detach().float()])).float()
            d_loss = F.relu(1.0 - scores[:n]).mean() + F.relu(1.0 + scores[n:]).mean()
            self.opt_d.zero_grad(set_to_none=True)
            self.scaler.scale(d_loss).backward()
            self.scaler.step(self.opt_d)
            self.scaler.update()
            logs["adv_d"] = float(d_loss.detach())
        return logs

    def init_targets(self) -> InitTargets:
        """The encoder and decoder graphs; a patch discriminator only comes from a run that had one."""
        generator = torch.Generator().manual_seed(4)
        r = self.cfg.resolution
        image = torch.rand(2, self.picture_channels, r, r, generator=generator) * 2 - 1
        latent = torch.randn(2, *self.cfg.latent_shape(), generator=generator)
        networks = {"encoder": self.net.encoder, "decoder": self.net.decoder, **({"D": self.D} if self.D else {})}
        return InitTargets(networks, [OnnxTarget("encoder", ("encoder",), {"image": image}, ["mean", "logvar"]),
                                      OnnxTarget("decoder", ("decoder",), {"latent": latent}, ["image"])])

    def state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        tensors = {**module_tensors("encoder", self.net.encoder), **module_tensors("decoder", self.net.decoder)}
        opt_t, opt_info = optimizer_tensors("optim.vae", self.opt)
        tensors.update(opt_t)
        extra: dict[str, Any] = {"optim.vae": opt_info, "scaler": self.scaler.state_dict()}
        if self.D is not None:
            tensors.update(module_tensors("D", self.D))
            d_t, d_info = optimizer_tensors("optim.D", self.opt_d)
            tensors.update(d_t)
            extra["optim.D"] = d_info
        return tensors, extra

    def load_state(self, tensors: dict[str, torch.Tensor], extra: dict[str, Any]) -> None:
        load_module_tensors("encoder", self.net.encoder, tensors)
        load_module_tensors("decoder", self.net.decoder, tensors)
        load_optimizer_tensors("optim.vae", self.opt, tensors, extra["optim.vae"])
        if extra.get("scaler"):
            self.scaler.load_state_dict(extra["scaler"])
        if self.D is not None:
            load_module_tensors("D", self.D, tensors)
            load_optimizer_tensors("optim.D", self.opt_d, tensors, extra["optim.D"])

    @torch.no_grad()
    def reconstruct(self, images: torch.Tensor) -> torch.Tensor:
        """Deterministic reconstruction through the latent mean (what the app's encode-decode does)."""
        self.net.eval()
        out = []
        for chunk in images.split(64):
            mean, _ = self.net.encoder(chunk.to(self.runtime.device))
            out.append(self.net.decoder(mean).float().cpu())
        self.net.train()
        return torch.cat(out)

    @torch.no_grad()
    def evaluate(self, step: int) -> dict[str, float]:
        assert self.run is not None
        recon = self.reconstruct(self.probe)
        samples = self.net.decoder(self.prior.to(self.runtime.device)).float().cpu()
        pairs = torch.stack([self.probe, recon], dim=1).flatten(0, 1)
        save_grid(self.run.samples_dir / f"step-{step:07d}.png", torch.cat([pairs, samples]), columns=8)
        train_probe = self.dataset.batch(torch.arange(min(len(self.dataset), 256)))
        measures = {"psnr_train": psnr(train_probe, self.reconstruct(train_probe))}
        if self.holdout is not None:
            held = self.holdout.batch(torch.arange(len(self.holdout)))
            measures["psnr_holdout"] = psnr(held, self.reconstruct(held))
        return measures
