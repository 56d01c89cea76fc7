"""Training step, checkpoint state and sample grids of the arbitrary-style decoder (the loop is training/loop.py).

Only the decoder learns; the SqueezeNet encoder is frozen and doubles as the loss network. Losses: the decoded
picture's AdaIN-layer features against the AdaIN target (content), the mean and standard deviation of its features
on four layers against the style picture's (style), and total variation; each relative to its target's size.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from genart_desktop.core.errors import InputError
from genart_desktop.training.checkpoint import (load_module_tensors, load_optimizer_tensors, module_tensors,
                                                optimizer_tensors)
from genart_desktop.training.data.cached import BatchSampler, ImageDataset
from genart_desktop.training.device import Runtime
from genart_desktop.training.grid import save_grid
from genart_desktop.training.init_weights import InitTargets, OnnxTarget
from genart_desktop.training.runs import RunFolder
from genart_desktop.training.style.losses import total_variation
from genart_desktop.training.style.perceptual import find_squeezenet_weights
from genart_desktop.training.style.squeezenet import load_squeezenet
from genart_desktop.training.style_arbitrary.config import ArbitraryStyleConfig
from genart_desktop.training.style_arbitrary.network import (ADAIN_LAYER, STYLE_LAYERS, Decoder, DecoderConfig,
                                                             Encoder, StatsEncoder, Transfer, adain, feature_stats)
from genart_desktop.training.style_arbitrary.styles import StyleCrops, style_files
from genart_desktop.training.upscale.patches import split_photos
from genart_desktop.training.trainer import Trainer

SPLIT_FILE = "split.json"
PREVIEW_COUNT = 4
EPS = 1e-8


def load_encoder(cfg: ArbitraryStyleConfig) -> Encoder:
    return Encoder(load_squeezenet(find_squeezenet_weights(cfg.loss_weights or None))).eval().requires_grad_(False)


def stats_loss(output: dict[str, torch.Tensor], style: dict[str, torch.Tensor]) -> torch.Tensor:
    """Mean over ``STYLE_LAYERS`` of the squared mean/std differences, each relative to the style's magnitude."""
    terms = []
    for name in STYLE_LAYERS:
        o_mean, o_std = feature_stats(output[name])
        s_mean, s_std = feature_stats(style[name])
        scale = (s_mean.pow(2) + s_std.pow(2)).mean() + EPS
        terms.append((F.mse_loss(o_mean, s_mean) + F.mse_loss(o_std, s_std)) / scale)
    return torch.stack(terms).mean()


def load_decoder(transfer: Transfer, path: Path) -> None:
    """The decoder's weights from an exported transfer graph, by name (``decoder.*``), shapes checked."""
    import onnx
    from onnx import numpy_helper

    arrays = {t.name: numpy_helper.to_array(t) for t in onnx.load(str(path)).graph.initializer}
    state = transfer.decoder.state_dict()
    wrong = [n for n in state if getattr(arrays.get(f"decoder.{n}"), "shape", None) != tuple(state[n].shape)]
    if wrong:
        raise InputError(f"{path.name} holds no decoder weights for {wrong[0]} {list(state[wrong[0]].shape)}; "
                         "its --width differs.")
    transfer.decoder.load_state_dict({n: torch.from_numpy(arrays[f"decoder.{n}"].astype("float32")) for n in state})


class ArbitraryStyleTrainer(Trainer):
    family = "style-arbitrary"
    plots = {"loss.png": ("Arbitrary style decoder losses (weighted parts)", ["loss", "content", "style", "tv"])}

    def __init__(self, cfg: ArbitraryStyleConfig, runtime: Runtime, run: RunFolder | None, dataset: ImageDataset):
        train, self.held_out = split_photos(dataset, cfg.holdout, cfg.seed)
        super().__init__(cfg, runtime, run, train)
        self.sampler = BatchSampler(len(train), cfg.batch_size, cfg.seed, runtime.rank, runtime.world_size)
        self.cfg: ArbitraryStyleConfig = cfg
        device = runtime.device
        self.encoder = load_encoder(cfg).to(device)
        self.decoder = Decoder(DecoderConfig(cfg.width)).to(device)
        self.decoder_train = runtime.wrap(self.decoder)
        self.optimizer = torch.optim.Adam(self.decoder.parameters(), lr=cfg.lr)
        self.scaler = runtime.grad_scaler()
        train_styles, held_styles = style_files(cfg.styles, cfg.held_out_names())
        self.style_names = [p.name for p in train_styles]
        self.crops = StyleCrops(train_styles, cfg.resolution)
        if run is not None:
            run.write_json(SPLIT_FILE, {"held_out_files": self.held_out, "train_files": len(train),
                                        "train_styles": self.style_names,
                                        "held_out_styles": [p.name for p in held_styles]})
        held_set = dataset.split(cfg.holdout, cfg.seed)[1]
        source = held_set if held_set is not None else train
        count = min(PREVIEW_COUNT, len(source))
        preview_photos = source.batch(torch.arange(count))
        generator = torch.Generator().manual_seed(cfg.seed + 17)
        preview_styles = [self.crops.sample(2, generator)]
        if held_styles:
            preview_styles.append(StyleCrops(held_styles, cfg.resolution).sample(2, generator))
        self.preview = preview_photos.to(device)
        self.preview_styles = torch.cat(preview_styles)[:count].to(device)

    def style_batch(self, step: int, count: int) -> torch.Tensor:
        """Style pictures for ``step``: painting crops, some replaced by other photos; depends only on the step."""
        generator = torch.Generator().manual_seed(self.cfg.seed * 1_000_003 + step)
        styles = self.crops.sample(count, generator)
        photos = torch.rand(count, generator=generator) < self.cfg.photo_style_fraction
        if bool(photos.any()):
            picks = torch.randint(len(self.dataset), (int(photos.sum()),), generator=generator)
            styles[photos] = self.dataset.batch(picks)
        return styles.to(self.runtime.device)

    def losses(self, content: torch.Tensor, style: torch.Tensor) -> dict[str, torch.Tensor]:
        taps = tuple(dict.fromkeys((*STYLE_LAYERS, ADAIN_LAYER)))
        with torch.no_grad():
            content_features = self.encoder.adain_features(content)
            style_features = self.encoder(style, taps)
            c_mean, c_std = feature_stats(content_features)
            s_mean, s_std = feature_stats(style_features[ADAIN_LAYER])
            target = adain(content_features, c_mean, c_std, s_mean, s_std)
        with self.runtime.autocast():
            output = self.decoder_train(target)
        output_features = self.encoder(output.float(), taps)
        c_loss = F.mse_loss(output_features[ADAIN_LAYER], target) / (target.pow(2).mean() + EPS)
        s_loss = stats_loss(output_features, style_features)
        tv = total_variation(output)
        cfg = self.cfg
        total = cfg.content_weight * c_loss + cfg.style_weight * s_loss + cfg.tv_weight * tv
        return {"total": total, "content": c_loss.detach(), "style": s_loss.detach(), "tv": tv.detach(),
                "output": output.detach()}

    def train_step(self, step: int) -> dict[str, float]:
        self.decoder.train()
        content = self.real_batch(step)
        values = self.losses(content, self.style_batch(step, content.shape[0]))
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(values["total"]).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        cfg = self.cfg
        return {"loss": float(values["total"].detach()), "content": cfg.content_weight * float(values["content"]),
                "style": cfg.style_weight * float(values["style"]), "tv": cfg.tv_weight * float(values["tv"])}

    @torch.no_grad()
    def evaluate(self, step: int) -> dict[str, float]:
        """Held-out photos (top), style pictures (two trained paintings, two held-out ones), and the results."""
        self.decoder.eval()
        values = self.losses(self.preview, self.preview_styles)
        if self.run is not None:
            grid = torch.cat([self.preview, self.preview_styles, values["output"].clamp(-1, 1)])
            save_grid(self.run.samples_dir / f"step-{step:07d}.png", grid, columns=len(self.preview))
        return {"eval_content": float(values["content"]), "eval_style": float(values["style"])}

    def init_targets(self) -> InitTargets:
        """``--init-from``: the decoder read back from a model's transfer graph (the encoder is SqueezeNet's)."""
        from genart_desktop.training.style_arbitrary.export import PARITY_TOLERANCE, transfer_inputs

        inputs = transfer_inputs(StatsEncoder(self.encoder))[0]
        return InitTargets({"decoder": self.decoder},
                           [OnnxTarget("transfer", ("decoder",), inputs, ["stylized"],
                                       Transfer(self.encoder, self.decoder), load=load_decoder,
                                       tolerance=PARITY_TOLERANCE)])

    def state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        tensors = module_tensors("decoder", self.decoder)
        optim, info = optimizer_tensors("optim", self.optimizer)
        tensors.update(optim)
        extra = {"optim": info, "network": self.decoder.config.to_dict(), "held_out_files": self.held_out,
                 "train_styles": self.style_names,
                 "scaler": self.scaler.state_dict() if self.scaler.is_enabled() else None}
        return tensors, extra

    def load_state(self, tensors: dict[str, torch.Tensor], extra: dict[str, Any]) -> None:
        load_module_tensors("decoder", self.decoder, tensors)
        load_optimizer_tensors("optim", self.optimizer, tensors, extra["optim"])
        if extra.get("scaler") and self.scaler.is_enabled():
            self.scaler.load_state_dict(extra["scaler"])
