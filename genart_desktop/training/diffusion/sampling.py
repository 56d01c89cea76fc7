"""Sample grids through the app's own numpy samplers and pipeline, from the torch U-Net or the exported ONNX one.

Using :class:`genart_desktop.engine.pipelines.diffusion.DiffusionPipeline` for the grids means every sample grid in a
run folder and the card's thumbnail show what the app will draw with the same schedule, sampler and guidance.
"""

from __future__ import annotations

import numpy as np
import torch

from genart_desktop.engine.pipelines.diffusion import (
    DiffusionPipeline,
    DiffusionRequest,
    LatentCodec,
)
from genart_desktop.engine.schedules import ScheduleConfig
from genart_desktop.engine.session import ModelSession


class TorchDenoiser:
    """``denoiser(sample, timesteps, cond)`` over a torch U-Net (float32, no grad) for the engine pipeline; with
    ``control`` and ``control_strength`` keywords when the U-Net has a control encoder."""

    def __init__(self, model: torch.nn.Module, device: torch.device, batch: int = 64):
        self.model, self.device, self.batch = model, device, batch
        self.takes_control = getattr(model, "control_encoder", None) is not None

    @torch.no_grad()
    def __call__(self, sample: np.ndarray, steps: np.ndarray, cond: np.ndarray | None,
                 control: np.ndarray | None = None, control_strength: np.ndarray | None = None) -> np.ndarray:
        outputs = []

        def part(array: np.ndarray | None, start: int, dtype: type) -> torch.Tensor | None:
            if array is None:
                return None
            return torch.from_numpy(np.ascontiguousarray(array[start:start + self.batch], dtype=dtype)).to(self.device)

        for start in range(0, sample.shape[0], self.batch):
            outputs.append(self.model(part(sample, start, np.float32), part(steps, start, np.float32),
                                      part(cond, start, np.int64), part(control, start, np.float32),
                                      part(control_strength, start, np.float32)).float().cpu().numpy())
        return np.concatenate(outputs)


class OnnxDenoiser:
    """The same over an exported U-Net session; the timestep is fed as float32 per the card contract."""

    def __init__(self, session: ModelSession):
        self.session = session
        self.has_cond = "cond" in session.input_names

    def __call__(self, sample: np.ndarray, steps: np.ndarray, cond: np.ndarray | None) -> np.ndarray:
        feeds = {"sample": sample.astype(np.float32), "timestep": steps.astype(np.float32)}
        if self.has_cond:
            feeds["cond"] = np.asarray(cond, dtype=np.int64)
        return self.session.run(feeds, outputs=["prediction"])["prediction"]


def sample_images(denoiser, schedule: ScheduleConfig, channels: int, size: int, conds: np.ndarray | None,
                          null: np.ndarray | None, count: int, guidance: float, steps: int, sampler: str, seed: int,
                          codec: LatentCodec | None = None, controls: np.ndarray | None = None,
                          control_strength: float = 1.0) -> np.ndarray:
    """``count`` images (N, 3, size, size) in [-1, 1] (premultiplied RGBA (N, 4, ...) from a VAE with alpha); image
    i uses ``conds[i]`` (when conditioned), ``controls[i]`` (a control picture in [-1, 1], when given) and seed
    ``seed + i``. Consecutive images with the same condition run as one batch; the pipeline's seed rule (image i of a
    batch uses ``seed + i``) makes that identical to one run per image."""
    pipeline = DiffusionPipeline(denoiser, schedule, channels=channels, codec=codec)
    use_guidance = conds is not None and null is not None and guidance != 1.0
    if controls is not None:  # each image its own control: one run per image
        out = []
        for i in range(count):
            guided = use_guidance and conds is not None
            request = DiffusionRequest(width=size, height=size, steps=steps, sampler=sampler, seed=seed + i,
                                       guidance=guidance if guided else 1.0,
                                       cond=None if conds is None else np.asarray(conds[i:i + 1], np.int64),
                                       uncond=null if guided else None, control=controls[i:i + 1],
                                       control_strength=control_strength)
            out.append(pipeline.run(request).images)
        return np.concatenate(out)
    if conds is None:
        out = []
        for start in range(0, count, 64):
            n = min(64, count - start)
            request = DiffusionRequest(width=size, height=size, steps=steps, sampler=sampler, seed=seed + start,
                                       batch=n)
            out.append(pipeline.run(request).images)
        return np.concatenate(out)
    images: np.ndarray | None = None  # (count, 3|4, size, size): 4 from a VAE that decodes alpha
    rows = [tuple(row.tolist()) for row in conds[:count]]
    for key in dict.fromkeys(rows):
        members = [i for i, row in enumerate(rows) if row == key]
        # consecutive runs of the same condition can share one batch; others run alone
        groups: list[list[int]] = []
        for index in members:
            if groups and groups[-1][-1] == index - 1 and len(groups[-1]) < 64:
                groups[-1].append(index)
            else:
                groups.append([index])
        for group in groups:
            request = DiffusionRequest(width=size, height=size, steps=steps, sampler=sampler, seed=seed + group[0],
                                       batch=len(group), guidance=guidance if use_guidance else 1.0,
                                       cond=np.asarray([key], dtype=np.int64), uncond=null if use_guidance else None)
            made = pipeline.run(request).images
            if images is None:
                images = np.zeros((count, *made.shape[1:]), np.float32)
            images[group] = made
    assert images is not None
    return images
