"""The denoising U-Net: residual blocks with group norm, self-attention (plus text cross-attention) at low
resolutions and a sinusoidal timestep embedding (Ho et al. 2020; Nichol & Dhariwal 2021; Rombach et al. 2022).

``UNet(sample, timestep, cond, control, control_strength) -> prediction``: sample (B, C, H, W), timestep (B,) float
training timesteps, cond (B, tokens) int64 word ids or (B, 1) class ids (None when unconditional); a U-Net built
with a :class:`ControlEncoder` also takes a control picture (B, 3, H * factor, W * factor) in [-1, 1] whose encoding,
scaled per row by control_strength (B,), is added to the first feature map (None: no control). H and W must be divisible by
2 ** (levels - 1). Upsampling is nearest-then-convolve (transposed convolutions are slow in bf16 on CPU).
Only exportable operations are used, so the same module goes to ONNX with dynamic batch, height and width.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def groups_for(channels: int) -> int:
    """The largest group count <= 32 that divides ``channels``."""
    return next(g for g in (32, 16, 8, 4, 2, 1) if channels % g == 0)


def norm(channels: int) -> nn.GroupNorm:
    return nn.GroupNorm(groups_for(channels), channels, eps=1e-6)


class TimestepEmbedding(nn.Module):
    """Sinusoidal features of the (float) timestep followed by a two-layer MLP (Vaswani et al. 2017, sec. 3.5)."""

    def __init__(self, base: int, dim: int, max_period: float = 10000.0):
        super().__init__()
        half = base // 2
        freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32) / half)
        self.register_buffer("freqs", freqs, persistent=False)
        self.mlp = nn.Sequential(nn.Linear(2 * half, dim), nn.SiLU(), nn.Linear(dim, dim))

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        args = t.float()[:, None] * self.freqs[None, :]
        return self.mlp(torch.cat([torch.cos(args), torch.sin(args)], dim=1))


class ResBlock(nn.Module):
    """GN-SiLU-conv, FiLM by the embedding (scale and shift after the second norm), GN-SiLU-dropout-conv, skip."""

    def __init__(self, cin: int, cout: int, emb_dim: int, dropout: float):
        super().__init__()
        self.norm1 = norm(cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.emb = nn.Linear(emb_dim, 2 * cout)
        self.norm2 = norm(cout)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        nn.init.zeros_(self.conv2.weight)
        nn.init.zeros_(self.conv2.bias)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        scale, shift = self.emb(F.silu(emb))[:, :, None, None].chunk(2, dim=1)
        h = self.norm2(h) * (1 + scale) + shift
        h = self.conv2(self.dropout(F.silu(h)))
        return self.skip(x) + h


def attend(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, heads: int,
           mask: torch.Tensor | None = None) -> torch.Tensor:
    """Multi-head attention of (B, N, C) queries over (B, M, C) keys/values; ``mask`` (B, M) True = may attend."""
    b, _, c = q.shape
    q, k, v = (x.reshape(b, -1, heads, c // heads).transpose(1, 2) for x in (q, k, v))
    attn_mask = None if mask is None else mask[:, None, None, :]
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask)
    return out.transpose(1, 2).reshape(b, -1, c)


class AttentionBlock(nn.Module):
    """Self-attention over the feature map, then (when a context is given) cross-attention to the text tokens."""

    def __init__(self, channels: int, heads: int, context_dim: int = 0):
        super().__init__()
        self.heads = heads
        self.norm = norm(channels)
        self.qkv = nn.Linear(channels, 3 * channels)
        self.out = nn.Linear(channels, channels)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)
        self.cross = context_dim > 0
        if self.cross:
            self.norm_cross = nn.LayerNorm(channels)
            self.q = nn.Linear(channels, channels)
            self.kv = nn.Linear(context_dim, 2 * channels)
            self.out_cross = nn.Linear(channels, channels)
            nn.init.zeros_(self.out_cross.weight)
            nn.init.zeros_(self.out_cross.bias)

    def forward(self, x: torch.Tensor, context: torch.Tensor | None = None,
                context_mask: torch.Tensor | None = None) -> torch.Tensor:
        b, c, h, w = x.shape
        tokens = self.norm(x).flatten(2).transpose(1, 2)  # (B, HW, C)
        q, k, v = self.qkv(tokens).chunk(3, dim=2)
        y = x.flatten(2).transpose(1, 2) + self.out(attend(q, k, v, self.heads))
        if self.cross and context is not None:
            k, v = self.kv(context).chunk(2, dim=2)
            y = y + self.out_cross(attend(self.q(self.norm_cross(y)), k, v, self.heads, context_mask))
        return y.transpose(1, 2).reshape(b, c, h, w)


class Downsample(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, stride=2, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


class Upsample(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class ControlEncoder(nn.Module):
    """A control picture at pixel size -> features at the sample's size (Zhang et al. 2023, ControlNet's hint
    encoder): a convolution, then one stride-2 convolution per halving, and a zero-initialised last convolution so
    a new encoder starts by changing nothing."""

    def __init__(self, factor: int, out_channels: int, width: int = 16):
        super().__init__()
        if factor < 1 or factor & (factor - 1):
            raise ValueError(f"The control encoder needs a power-of-two factor, got {factor}.")
        self.factor = factor
        layers: list[nn.Module] = [nn.Conv2d(3, width, 3, padding=1), nn.SiLU()]
        current = width
        for _ in range(factor.bit_length() - 1):
            nxt = min(current * 2, 64)
            layers += [nn.Conv2d(current, nxt, 3, stride=2, padding=1), nn.SiLU(),
                       nn.Conv2d(nxt, nxt, 3, padding=1), nn.SiLU()]
            current = nxt
        self.body = nn.Sequential(*layers)
        self.out = nn.Conv2d(current, out_channels, 3, padding=1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, control: torch.Tensor, strength: torch.Tensor) -> torch.Tensor:
        return self.out(self.body(control)) * strength.float()[:, None, None, None]


class Level(nn.Module):
    """The residual (and optional attention) blocks of one resolution level on one side of the U."""

    def __init__(self, cins: list[int], cout: int, emb_dim: int, dropout: float, attention: bool, heads: int,
                 context_dim: int):
        super().__init__()
        self.blocks = nn.ModuleList(ResBlock(cin, cout, emb_dim, dropout) for cin in cins)
        self.attns = nn.ModuleList(AttentionBlock(cout, heads, context_dim) for _ in cins) if attention else None


class UNet(nn.Module):
    """See the module docstring. ``conditioner`` maps ``cond`` to (embedding, context tokens, context mask)."""

    def __init__(self, in_channels: int, channels: tuple[int, ...], res_blocks: int, resolution: int,
                 attention_res: int, heads: int, dropout: float = 0.0, conditioner: nn.Module | None = None,
                 context_dim: int = 0, control_factor: int = 0):
        super().__init__()
        self.in_channels = in_channels
        self.levels = len(channels)
        emb_dim = 4 * channels[0]
        self.time = TimestepEmbedding(channels[0], emb_dim)
        self.conditioner = conditioner
        self.conv_in = nn.Conv2d(in_channels, channels[0], 3, padding=1)
        self.control_encoder = ControlEncoder(control_factor, channels[0]) if control_factor else None
        attention = [resolution // 2**i <= attention_res for i in range(self.levels)]

        self.down = nn.ModuleList()
        self.downsamples = nn.ModuleList()
        skips = [channels[0]]
        current = channels[0]
        for i, width in enumerate(channels):
            cins = [current] + [width] * (res_blocks - 1)
            self.down.append(Level(cins, width, emb_dim, dropout, attention[i], heads, context_dim))
            current = width
            skips += [width] * res_blocks
            if i < self.levels - 1:
                self.downsamples.append(Downsample(width))
                skips.append(width)
        self.mid1 = ResBlock(current, current, emb_dim, dropout)
        self.mid_attn = AttentionBlock(current, heads, context_dim)
        self.mid2 = ResBlock(current, current, emb_dim, dropout)

        self.up = nn.ModuleList()
        self.upsamples = nn.ModuleList()
        for i in reversed(range(self.levels)):
            width = channels[i]
            cins = []
            for _ in range(res_blocks + 1):
                cins.append(current + skips.pop())
                current = width
            self.up.append(Level(cins, width, emb_dim, dropout, attention[i], heads, context_dim))
            if i > 0:
                self.upsamples.append(Upsample(width))
        self.norm_out = norm(current)
        self.conv_out = nn.Conv2d(current, in_channels, 3, padding=1)
        nn.init.zeros_(self.conv_out.weight)
        nn.init.zeros_(self.conv_out.bias)

    @staticmethod
    def _run_level(level: Level, index: int, h: torch.Tensor, emb: torch.Tensor, context, mask) -> torch.Tensor:
        h = level.blocks[index](h, emb)
        if level.attns is not None:
            h = level.attns[index](h, context, mask)
        return h

    def forward(self, sample: torch.Tensor, timestep: torch.Tensor, cond: torch.Tensor | None = None,
                control: torch.Tensor | None = None, control_strength: torch.Tensor | None = None) -> torch.Tensor:
        emb = self.time(timestep)
        context = mask = None
        if self.conditioner is not None:
            if cond is None:
                raise ValueError("This U-Net is conditioned: pass cond (use the null condition for unconditional).")
            vector, context, mask = self.conditioner(cond)
            emb = emb + vector
        h = self.conv_in(sample)
        if self.control_encoder is not None and control is not None:
            strength = control_strength if control_strength is not None else torch.ones(sample.shape[0])
            h = h + self.control_encoder(control, strength.to(h.device)).to(h.dtype)
        skips = [h]
        for i, level in enumerate(self.down):
            for j in range(len(level.blocks)):
                h = self._run_level(level, j, h, emb, context, mask)
                skips.append(h)
            if i < self.levels - 1:
                h = self.downsamples[i](h)
                skips.append(h)
        h = self.mid2(self.mid_attn(self.mid1(h, emb), context, mask), emb)
        for i, level in enumerate(self.up):
            for j in range(len(level.blocks)):
                h = self._run_level(level, j, torch.cat([h, skips.pop()], dim=1), emb, context, mask)
            if i < self.levels - 1:
                h = self.upsamples[i](h)
        return self.conv_out(F.silu(self.norm_out(h)))


def parameter_count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
