"""Training step, checkpoint state and held-out samples of the upscaler (the loop is training/loop.py)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from genart_desktop.training.checkpoint import (load_module_tensors, load_optimizer_tensors, module_tensors,
                                                optimizer_tensors)
from genart_desktop.training.data.cached import ImageDataset
from genart_desktop.training.device import Runtime
from genart_desktop.training.ema import EMA
from genart_desktop.training.gan.losses import d_loss_ns, g_loss_ns
from genart_desktop.training.grid import save_grid
from genart_desktop.training.init_weights import InitTargets, OnnxTarget
from genart_desktop.training.runs import RunFolder
from genart_desktop.training.style.perceptual import load_loss_network
from genart_desktop.training.trainer import Trainer
from genart_desktop.training.upscale.config import UpscaleConfig
from genart_desktop.training.upscale.degrade import bicubic_downscale, degrade
from genart_desktop.training.upscale.losses import FeatureLoss, PatchDiscriminator
from genart_desktop.training.upscale.network import UpscaleNet
from genart_desktop.training.upscale.patches import build_source, load_extra_sets, split_photos
from genart_desktop.training.upscale.quality import psnr

PREVIEW_COUNT = 6
PREVIEW_SIDE = 192
SPLIT_FILE = "split.json"


def _to_uint8(images: torch.Tensor) -> np.ndarray:
    return (images.detach().float().clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()


class UpscaleTrainer(Trainer):
    family = "upscale"
    plots = {"loss.png": ("Upscaler losses", ["loss", "l1", "perceptual", "adversarial", "d_loss"]),
             "psnr.png": ("Held-out PSNR (Y, dB): ours vs bicubic", ["psnr", "psnr_bicubic"])}

    def __init__(self, cfg: UpscaleConfig, runtime: Runtime, run: RunFolder | None, dataset: ImageDataset):
        super().__init__(cfg, runtime, run, dataset)
        self.cfg: UpscaleConfig = cfg
        device = runtime.device
        train, self.held_out = split_photos(dataset, cfg.holdout, cfg.seed)
        extras = load_extra_sets(cfg.extra_folders(), cfg.resolution, run)
        self.source = build_source(train, extras, cfg.extra_fraction, cfg.patch)
        if run is not None:
            run.write_json(SPLIT_FILE, {"held_out_files": self.held_out, "train_files": len(train),
                                        "extra_sets": [len(e) for e in extras]})
        self.net = UpscaleNet(cfg.network()).to(device)
        self.net_train = runtime.wrap(self.net)
        self.ema = EMA(self.net, cfg.ema_decay)
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=cfg.lr)
        self.scaler = runtime.grad_scaler()
        self.features = None
        if cfg.perceptual_weight > 0:
            self.features = FeatureLoss(load_loss_network("squeezenet", cfg.loss_weights or None)).to(device)
        self.D = self.opt_d = None
        if cfg.adversarial_weight > 0:
            self.D = PatchDiscriminator().to(device)
            self.D_train = runtime.wrap(self.D)
            self.opt_d = torch.optim.Adam(self.D.parameters(), lr=cfg.lr, betas=(0.5, 0.999))
        self.preview = self._preview_patches(dataset)

    def _preview_patches(self, dataset: ImageDataset) -> torch.Tensor:
        """Centre crops of the held-out photos (of the training photos when nothing is held out)."""
        _, held = dataset.split(self.cfg.holdout, self.cfg.seed)
        pictures = (held or dataset).images[:PREVIEW_COUNT]
        side = min(PREVIEW_SIDE, pictures.shape[1]) // self.cfg.scale * self.cfg.scale
        top = (pictures.shape[1] - side) // 2
        crops = pictures[:, top:top + side, top:top + side].permute(0, 3, 1, 2).float() / 255.0
        return crops.to(self.runtime.device)

    def batch(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(low, high) for ``step``: the same on every resume, different on every rank."""
        cfg = self.cfg
        gen = torch.Generator().manual_seed(cfg.seed * 1_000_003 + step * 101 + self.runtime.rank)
        high = self.source.sample(gen, cfg.batch_size, cfg.patch, cfg.flip)
        low = degrade(high, cfg.scale, gen, cfg.degradation, cfg.degraded_fraction, cfg.second_order)
        device = self.runtime.device
        return low.to(device, non_blocking=True), high.to(device, non_blocking=True)

    def train_step(self, step: int) -> dict[str, float]:
        cfg, runtime = self.cfg, self.runtime
        low, high = self.batch(step)
        self.net.train()
        logs: dict[str, float] = {}
        with runtime.autocast():
            out = self.net_train(low).float()
        l1 = F.l1_loss(out, high)
        total = l1
        logs["l1"] = float(l1.detach())
        if self.features is not None:
            with runtime.autocast():
                perceptual = self.features(out, high)
            total = total + cfg.perceptual_weight * perceptual
            logs["perceptual"] = cfg.perceptual_weight * float(perceptual.detach())
        if self.D is not None:
            self.D.requires_grad_(False)
            with runtime.autocast():
                adversarial = g_loss_ns(self.D(out).float())
            total = total + cfg.adversarial_weight * adversarial
            logs["adversarial"] = cfg.adversarial_weight * float(adversarial.detach())
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(total).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.ema.update(self.net, step)
        if self.D is not None:
            logs["d_loss"] = self._discriminator_step(high, out.detach())
        logs["loss"] = float(total.detach())
        return logs

    def _discriminator_step(self, high: torch.Tensor, fake: torch.Tensor) -> float:
        assert self.D is not None and self.opt_d is not None
        self.D.requires_grad_(True)
        with self.runtime.autocast():
            scores = self.D_train(torch.cat([high, fake])).float()
        loss = d_loss_ns(scores[:len(high)], scores[len(high):])
        self.opt_d.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(self.opt_d)
        self.scaler.update()
        return float(loss.detach())

    @torch.no_grad()
    def upscale(self, low: torch.Tensor) -> torch.Tensor:
        return self.ema.module(low.float()).float().clamp(0, 1)

    def evaluate(self, step: int) -> dict[str, float]:
        """Rows of held-out crops: bicubic enlargement | ours | original; PSNR of both against the original."""
        high = self.preview
        low = bicubic_downscale(high, self.cfg.scale)
        ours = self.upscale(low)
        bicubic = F.interpolate(low, scale_factor=self.cfg.scale, mode="bicubic", align_corners=False).clamp(0, 1)
        if self.run is not None:
            rows = torch.stack([bicubic, ours, high], 1).flatten(0, 1)
            save_grid(self.run.samples_dir / f"step-{step:07d}.png", rows * 2 - 1, columns=3)
        border = self.cfg.scale
        pairs = list(zip(_to_uint8(ours), _to_uint8(bicubic), _to_uint8(high)))
        ours_db = float(np.mean([psnr(o, h, border) for o, _, h in pairs]))
        bicubic_db = float(np.mean([psnr(b, h, border) for _, b, h in pairs]))
        return {"psnr": ours_db, "psnr_bicubic": bicubic_db}

    def init_targets(self) -> InitTargets:
        """The upscaler graph fills the network and its EMA copy; a discriminator only comes from a run."""
        low = torch.rand(1, 3, 24, 20, generator=torch.Generator().manual_seed(4))
        networks = {"net": self.net, "net_ema": self.ema.module, **({"D": self.D} if self.D is not None else {})}
        return InitTargets(networks, [OnnxTarget("upscaler", ("net", "net_ema"), {"low": low}, ["high"])])

    def state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        tensors = {**module_tensors("net", self.net), **module_tensors("net_ema", self.ema.module)}
        optim, info = optimizer_tensors("optim", self.optimizer)
        tensors.update(optim)
        extra: dict[str, Any] = {"optim": info, "network": self.net.config.to_dict(),
                                 "held_out_files": self.held_out,
                                 "scaler": self.scaler.state_dict() if self.scaler.is_enabled() else None}
        if self.D is not None and self.opt_d is not None:
            tensors.update(module_tensors("D", self.D))
            d_optim, d_info = optimizer_tensors("optim.D", self.opt_d)
            tensors.update(d_optim)
            extra["optim.D"] = d_info
        return tensors, extra

    def load_state(self, tensors: dict[str, torch.Tensor], extra: dict[str, Any]) -> None:
        load_module_tensors("net", self.net, tensors)
        load_module_tensors("net_ema", self.ema.module, tensors)
        load_optimizer_tensors("optim", self.optimizer, tensors, extra["optim"], lr=self.cfg.lr)
        if self.D is not None and self.opt_d is not None:
            load_module_tensors("D", self.D, tensors)
            load_optimizer_tensors("optim.D", self.opt_d, tensors, extra["optim.D"], lr=self.cfg.lr)
        if extra.get("scaler") and self.scaler.is_enabled():
            self.scaler.load_state_dict(extra["scaler"])
