"""diffusers' UNet2DConditionModel: down blocks, a cross-attention mid block, up blocks with skip connections.

The block layout comes from the config: SD 1.x/2.x's (3 CrossAttnDownBlock2D + DownBlock2D, 2 layers per block)
or the embedded models' (2 CrossAttnDownBlock2D, 1 layer per block, self-attention only at 8x8, a 2x2
space-to-depth stem in pixel space).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from prompt_lens_py.sd.unet_blocks import (Downsample2D, ResnetBlock2D, TimestepEmbedding, Timesteps, Transformer2DModel,
                                           Upsample2D, lean_timestep_embedding)

SD_DOWN_BLOCK_TYPES = ("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D")
SD_UP_BLOCK_TYPES = ("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D")


@dataclass
class UNetConfig:
    """Defaults: the SD 1.x test fixture's sizes and SD's layout."""

    in_channels: int = 4
    out_channels: int = 4
    sample_size: int = 8
    block_out_channels: tuple = (16, 16, 32, 32)
    layers_per_block: int = 2
    # diffusers' naming quirk (SD 1.x and 2.x): this is the number of heads, one for all blocks (SD 1.x: 8) or one
    # per down block (SD 2.x: [5, 10, 20, 20], i.e. a head dim of 64 everywhere); up blocks take the reversed list.
    attention_head_dim: object = 2
    cross_attention_dim: int = 64
    norm_num_groups: int = 8
    norm_eps: float = 1e-5
    flip_sin_to_cos: bool = True
    freq_shift: int = 0
    # SD 2.x: Transformer2DModel's proj_in/proj_out are Linear layers on [B, HW, C] instead of 1x1 convolutions.
    use_linear_projection: bool = False
    # SD 2.1: q and k cast to float32 before the scores (a no-op in an fp32 graph; torch may still trace a Cast).
    upcast_attention: bool = False
    # Attention form: "baddbmm" (diffusers AttnProcessor), "bmm" (bmm(q, k^T) * scale), "sdpa" (AttnProcessor2_0).
    attention_form: str = "baddbmm"
    down_block_types: tuple = SD_DOWN_BLOCK_TYPES
    up_block_types: tuple = SD_UP_BLOCK_TYPES
    # Per down block, as the heads: whether its transformers have self-attention (attn1); None: all do.
    self_attention: tuple | None = None
    ff_mult: int = 4
    # Pixel space: sample [B, C, H, W] -> 2x2 space-to-depth [B, 4C, H/2, W/2] before conv_in, back after conv_out.
    space_to_depth: bool = False
    lean_graph: bool = False

    def heads(self, down_block: int) -> int:
        """Number of heads of the attentions of down block `down_block` (the mid block: the last; up block i:
        down block len - 1 - i)."""
        h = self.attention_head_dim
        return h[down_block] if isinstance(h, (list, tuple)) else h

    def has_self_attention(self, down_block: int) -> bool:
        return self.self_attention is None or self.self_attention[down_block]


def transformer_2d(cfg: UNetConfig, block: int, channels: int) -> Transformer2DModel:
    """The transformer of (down-block-indexed) block `block`: its heads of channels // heads channels."""
    heads = cfg.heads(block)
    return Transformer2DModel(heads, channels // heads, channels, cfg.cross_attention_dim, cfg.norm_num_groups,
                              cfg.attention_form, cfg.use_linear_projection, cfg.upcast_attention,
                              cfg.has_self_attention(block), cfg.ff_mult, cfg.lean_graph)


def resnet(cfg: UNetConfig, in_channels: int, out_channels: int, temb_channels: int) -> ResnetBlock2D:
    return ResnetBlock2D(in_channels, out_channels, temb_channels, cfg.norm_num_groups, cfg.norm_eps, lean_graph=cfg.lean_graph)


class CrossAttnDownBlock2D(nn.Module):
    def __init__(self, num_layers, in_channels, out_channels, temb_channels, add_downsample, cfg: UNetConfig, block: int):
        super().__init__()
        self.resnets = nn.ModuleList()
        self.attentions = nn.ModuleList()
        for i in range(num_layers):
            self.resnets.append(resnet(cfg, in_channels if i == 0 else out_channels, out_channels, temb_channels))
            self.attentions.append(transformer_2d(cfg, block, out_channels))
        self.downsamplers = nn.ModuleList([Downsample2D(out_channels)]) if add_downsample else None

    def forward(self, hidden_states, temb, encoder_hidden_states):
        output_states = ()
        for res, attn in zip(self.resnets, self.attentions):
            hidden_states = res(hidden_states, temb)
            hidden_states = attn(hidden_states, encoder_hidden_states)
            output_states = output_states + (hidden_states,)
        if self.downsamplers is not None:
            for d in self.downsamplers:
                hidden_states = d(hidden_states)
            output_states = output_states + (hidden_states,)
        return hidden_states, output_states


class DownBlock2D(nn.Module):
    def __init__(self, num_layers, in_channels, out_channels, temb_channels, add_downsample, cfg: UNetConfig, block: int):
        super().__init__()
        self.resnets = nn.ModuleList(
            [resnet(cfg, in_channels if i == 0 else out_channels, out_channels, temb_channels) for i in range(num_layers)]
        )
        self.downsamplers = nn.ModuleList([Downsample2D(out_channels)]) if add_downsample else None

    def forward(self, hidden_states, temb, encoder_hidden_states=None):
        output_states = ()
        for res in self.resnets:
            hidden_states = res(hidden_states, temb)
            output_states = output_states + (hidden_states,)
        if self.downsamplers is not None:
            for d in self.downsamplers:
                hidden_states = d(hidden_states)
            output_states = output_states + (hidden_states,)
        return hidden_states, output_states


class CrossAttnUpBlock2D(nn.Module):
    def __init__(self, num_layers, in_channels, out_channels, prev_output_channel, temb_channels, add_upsample, cfg: UNetConfig,
                 block: int):
        super().__init__()
        self.resnets = nn.ModuleList()
        self.attentions = nn.ModuleList()
        for i in range(num_layers):
            res_skip_channels = in_channels if (i == num_layers - 1) else out_channels
            resnet_in_channels = prev_output_channel if i == 0 else out_channels
            self.resnets.append(resnet(cfg, resnet_in_channels + res_skip_channels, out_channels, temb_channels))
            self.attentions.append(transformer_2d(cfg, block, out_channels))
        self.upsamplers = nn.ModuleList([Upsample2D(out_channels)]) if add_upsample else None

    def forward(self, hidden_states, res_hidden_states_tuple, temb, encoder_hidden_states):
        for res, attn in zip(self.resnets, self.attentions):
            res_hidden_states = res_hidden_states_tuple[-1]
            res_hidden_states_tuple = res_hidden_states_tuple[:-1]
            hidden_states = torch.cat([hidden_states, res_hidden_states], dim=1)
            hidden_states = res(hidden_states, temb)
            hidden_states = attn(hidden_states, encoder_hidden_states)
        if self.upsamplers is not None:
            for u in self.upsamplers:
                hidden_states = u(hidden_states)
        return hidden_states


class UpBlock2D(nn.Module):
    def __init__(self, num_layers, in_channels, out_channels, prev_output_channel, temb_channels, add_upsample, cfg: UNetConfig,
                 block: int):
        super().__init__()
        self.resnets = nn.ModuleList()
        for i in range(num_layers):
            res_skip_channels = in_channels if (i == num_layers - 1) else out_channels
            resnet_in_channels = prev_output_channel if i == 0 else out_channels
            self.resnets.append(resnet(cfg, resnet_in_channels + res_skip_channels, out_channels, temb_channels))
        self.upsamplers = nn.ModuleList([Upsample2D(out_channels)]) if add_upsample else None

    def forward(self, hidden_states, res_hidden_states_tuple, temb, encoder_hidden_states=None):
        for res in self.resnets:
            res_hidden_states = res_hidden_states_tuple[-1]
            res_hidden_states_tuple = res_hidden_states_tuple[:-1]
            hidden_states = torch.cat([hidden_states, res_hidden_states], dim=1)
            hidden_states = res(hidden_states, temb)
        if self.upsamplers is not None:
            for u in self.upsamplers:
                hidden_states = u(hidden_states)
        return hidden_states


class UNetMidBlock2DCrossAttn(nn.Module):
    def __init__(self, in_channels, temb_channels, cfg: UNetConfig, block: int):
        super().__init__()

        def make_resnets():
            return nn.ModuleList([resnet(cfg, in_channels, in_channels, temb_channels) for _ in range(2)])

        def make_attentions():
            return nn.ModuleList([transformer_2d(cfg, block, in_channels)])

        if cfg.lean_graph:  # creation order = seeded initialisation and initializer order: each form keeps its own
            self.resnets = make_resnets()
            self.attentions = make_attentions()
        else:
            self.attentions = make_attentions()
            self.resnets = make_resnets()

    def forward(self, hidden_states, temb, encoder_hidden_states):
        hidden_states = self.resnets[0](hidden_states, temb)
        for attn, res in zip(self.attentions, self.resnets[1:]):
            hidden_states = attn(hidden_states, encoder_hidden_states)
            hidden_states = res(hidden_states, temb)
        return hidden_states


def space_to_depth(x):
    b, c, h, w = x.shape
    x = x.reshape(b, c, h // 2, 2, w // 2, 2).permute(0, 1, 3, 5, 2, 4)
    return x.reshape(b, c * 4, h // 2, w // 2)


def depth_to_space(x):
    b, c4, h, w = x.shape
    c = c4 // 4
    x = x.reshape(b, c, 2, 2, h, w).permute(0, 1, 4, 2, 5, 3)
    return x.reshape(b, c, h * 2, w * 2)


class UNet2DConditionModel(nn.Module):
    """sample [B, C, H, W], timestep [B] (or a scalar), encoder_hidden_states [B, T, D] -> predicted noise [B, C, H, W]."""

    def __init__(self, cfg: UNetConfig):
        super().__init__()
        self.config = cfg
        boc = list(cfg.block_out_channels)
        time_embed_dim = boc[0] * 4
        stem = 4 if cfg.space_to_depth else 1
        if cfg.lean_graph:  # the time embedding first: the embedded models' creation order
            self.time_embedding = TimestepEmbedding(boc[0], time_embed_dim, lean_graph=True)
            self.conv_in = nn.Conv2d(cfg.in_channels * stem, boc[0], kernel_size=3, padding=1)
        else:
            self.conv_in = nn.Conv2d(cfg.in_channels * stem, boc[0], kernel_size=3, padding=1)
            self.time_proj = Timesteps(boc[0], cfg.flip_sin_to_cos, cfg.freq_shift)
            self.time_embedding = TimestepEmbedding(boc[0], time_embed_dim)
        n = len(boc)
        self.down_blocks = nn.ModuleList()
        output_channel = boc[0]
        for i, kind in enumerate(cfg.down_block_types):
            input_channel = output_channel
            output_channel = boc[i]
            cls = CrossAttnDownBlock2D if kind == "CrossAttnDownBlock2D" else DownBlock2D
            self.down_blocks.append(cls(cfg.layers_per_block, input_channel, output_channel, time_embed_dim, i != n - 1, cfg, i))
        self.mid_block = UNetMidBlock2DCrossAttn(boc[-1], time_embed_dim, cfg, n - 1)
        self.up_blocks = nn.ModuleList()
        rev = list(reversed(boc))
        output_channel = rev[0]
        for i, kind in enumerate(cfg.up_block_types):
            prev_output_channel = output_channel
            output_channel = rev[i]
            input_channel = rev[min(i + 1, n - 1)]
            cls = CrossAttnUpBlock2D if kind == "CrossAttnUpBlock2D" else UpBlock2D
            self.up_blocks.append(cls(cfg.layers_per_block + 1, input_channel, output_channel, prev_output_channel,
                                      time_embed_dim, i != n - 1, cfg, n - 1 - i))
        self.conv_norm_out = nn.GroupNorm(cfg.norm_num_groups, boc[0], eps=cfg.norm_eps)
        self.conv_act = nn.SiLU()
        self.conv_out = nn.Conv2d(boc[0], cfg.out_channels * stem, kernel_size=3, padding=1)

    def time_embed(self, sample, timestep):
        if self.config.lean_graph:
            return self.time_embedding(lean_timestep_embedding(timestep, self.config.block_out_channels[0]))
        timesteps = timestep
        if len(timesteps.shape) == 0:
            timesteps = timesteps[None]
        timesteps = timesteps.expand(sample.shape[0])
        t_emb = self.time_proj(timesteps).to(dtype=sample.dtype)
        return self.time_embedding(t_emb)

    def forward(self, sample, timestep, encoder_hidden_states):
        emb = self.time_embed(sample, timestep)
        sample = self.conv_in(space_to_depth(sample) if self.config.space_to_depth else sample)
        down_block_res_samples = (sample,)
        for block in self.down_blocks:
            sample, res_samples = block(sample, emb, encoder_hidden_states)
            down_block_res_samples += res_samples
        sample = self.mid_block(sample, emb, encoder_hidden_states)
        for block in self.up_blocks:
            res_samples = down_block_res_samples[-len(block.resnets):]
            down_block_res_samples = down_block_res_samples[: -len(block.resnets)]
            sample = block(sample, res_samples, emb, encoder_hidden_states)
        sample = self.conv_norm_out(sample)
        sample = self.conv_out(F.silu(sample) if self.config.lean_graph else self.conv_act(sample))
        return depth_to_space(sample) if self.config.space_to_depth else sample


def cross_attention_layers(cfg: UNetConfig) -> dict:
    """diffusers names of the attn2 modules -> downsampling factor of their query grid relative to the latent."""
    out = {}
    n = cfg.layers_per_block
    for b, kind in enumerate(cfg.down_block_types):
        if kind.startswith("CrossAttn"):
            for j in range(n):
                out[f"down_blocks.{b}.attentions.{j}.transformer_blocks.0.attn2"] = 2**b
    out["mid_block.attentions.0.transformer_blocks.0.attn2"] = 2 ** (len(cfg.down_block_types) - 1)
    for b, kind in enumerate(cfg.up_block_types):
        if kind.startswith("CrossAttn"):
            for j in range(n + 1):
                out[f"up_blocks.{b}.attentions.{j}.transformer_blocks.0.attn2"] = 2 ** (len(cfg.up_block_types) - 1 - b)
    return out


def cross_attention_heads(cfg: UNetConfig) -> dict:
    """diffusers names of the attn2 modules -> their number of heads."""
    n_blocks = len(cfg.down_block_types)
    out = {}
    for name, divisor in cross_attention_layers(cfg).items():
        out[name] = cfg.heads(int(math.log2(divisor)))  # block b works at latent / 2**b, the mid block at the last
    assert all(h == cfg.heads(n_blocks - 1) for k, h in out.items() if k.startswith("mid_block"))
    return out
