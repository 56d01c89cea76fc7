"""Training step, checkpoint state and sample grids of the fast style network (the loop is training/loop.py)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import torch

from genart_desktop.core.errors import InputError
from genart_desktop.training.checkpoint import (load_module_tensors, load_optimizer_tensors, module_tensors,
                                                optimizer_tensors)
from genart_desktop.training.data.cached import ImageDataset
from genart_desktop.training.device import Runtime
from genart_desktop.training.grid import save_grid
from genart_desktop.training.init_weights import InitTargets, OnnxTarget
from genart_desktop.training.runs import RunFolder
from genart_desktop.training.style.config import StyleConfig
from genart_desktop.training.style.images import fit_long_side, load_rgb, to_tensor
from genart_desktop.training.style.losses import LossWeights, PerceptualLoss
from genart_desktop.training.style.network import StyleNet, StyleNetConfig
from genart_desktop.training.style.perceptual import LossNetwork, load_loss_network
from genart_desktop.training.style.reexport import load_onnx_weights
from genart_desktop.training.trainer import Trainer

STYLE_COPY = "style_image"  # the run keeps its own copy, so --resume does not depend on the original file
PREVIEW_COUNT = 4


def build_network(cfg: StyleConfig) -> StyleNet:
    return StyleNet(StyleNetConfig(cfg.width, cfg.residual_blocks))


def style_image_path(cfg: StyleConfig, run: RunFolder | None) -> Path:
    """The run's copy of the style image when there is one, else ``--style`` (copied into the run now)."""
    if run is not None:
        copies = sorted(run.path.glob(f"{STYLE_COPY}.*"))
        if copies:
            return copies[0]
    source = Path(cfg.style)
    if not source.is_file():
        raise InputError(f"The style image {source} does not exist.")
    if run is None:
        return source
    copy = run.path / f"{STYLE_COPY}{source.suffix.lower()}"
    shutil.copyfile(source, copy)
    return copy


class StyleTrainer(Trainer):
    family = "style"
    plots = {"loss.png": ("Style network losses (weighted parts)", ["loss", "content", "style", "tv"])}

    def __init__(self, cfg: StyleConfig, runtime: Runtime, run: RunFolder | None, dataset: ImageDataset,
                 loss_network: LossNetwork | None = None):
        super().__init__(cfg, runtime, run, dataset)
        self.cfg: StyleConfig = cfg
        device = runtime.device
        self.net = build_network(cfg).to(device)
        self.net_train = runtime.wrap(self.net)
        network = loss_network or load_loss_network(cfg.loss_net, cfg.loss_weights or None)
        weights = LossWeights(cfg.content_weight, cfg.style_weight, cfg.tv_weight)
        self.loss = PerceptualLoss(network, weights).to(device)
        style = load_rgb(style_image_path(cfg, run))
        self.style_rgb = style
        self.style_targets = self.loss.style_targets(to_tensor(fit_long_side(style, cfg.style_size)).to(device))
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=cfg.lr)
        self.scaler = runtime.grad_scaler()
        order = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(cfg.seed + 5))
        self.preview = dataset.batch(order[:PREVIEW_COUNT]).to(device)

    def losses(self, content: torch.Tensor) -> dict[str, torch.Tensor]:
        with self.runtime.autocast():
            stylized = self.net_train(content)
            targets = self.loss.content_targets(content)
            return self.loss(stylized, targets, self.style_targets)

    def train_step(self, step: int) -> dict[str, float]:
        self.net.train()
        values = self.losses(self.real_batch(step))
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(values["total"]).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        w = self.loss.weights
        return {"loss": float(values["total"].detach()), "content": w.content * float(values["content"]),
                "style": w.style * float(values["style"]), "tv": w.tv * float(values["tv"])}

    @torch.no_grad()
    def stylize(self, content: torch.Tensor) -> torch.Tensor:
        self.net.eval()
        return self.net(content.float()).float()

    def evaluate(self, step: int) -> dict[str, float]:
        """A grid of the preview photos (top) and their stylized versions (bottom), plus their losses."""
        stylized = self.stylize(self.preview)
        if self.run is not None:
            save_grid(self.run.samples_dir / f"step-{step:07d}.png", torch.cat([self.preview, stylized]),
                      columns=len(self.preview))
        with torch.no_grad():
            values = self.loss(stylized, self.loss.content_targets(self.preview), self.style_targets)
        return {"eval_content": float(values["content"]), "eval_style": float(values["style"])}

    def init_targets(self) -> InitTargets:
        """The stylizer graph (either export form) read back by the re-exporter's reader."""
        content = torch.rand(1, 3, 64, 96, generator=torch.Generator().manual_seed(4)) * 2 - 1
        return InitTargets({"net": self.net},
                           [OnnxTarget("stylizer", ("net",), {"content": content}, ["stylized"], load=load_onnx_weights)])

    def state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        tensors = module_tensors("net", self.net)
        optim, info = optimizer_tensors("optim", self.optimizer)
        tensors.update(optim)
        extra = {"optim": info, "network": self.net.config.to_dict(), "loss_net": self.loss.network.name,
                 "scaler": self.scaler.state_dict() if self.scaler.is_enabled() else None}
        return tensors, extra

    def load_state(self, tensors: dict[str, torch.Tensor], extra: dict[str, Any]) -> None:
        load_module_tensors("net", self.net, tensors)
        load_optimizer_tensors("optim", self.optimizer, tensors, extra["optim"])
        if extra.get("loss_net") and extra["loss_net"] != self.loss.network.name:
            raise InputError(f"The run was trained with the {extra['loss_net']} loss network but "
                             f"{self.loss.network.name} was loaded; give the same --loss-weights.")
        if extra.get("scaler") and self.scaler.is_enabled():
            self.scaler.load_state_dict(extra["scaler"])
