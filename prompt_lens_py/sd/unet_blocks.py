"""diffusers' UNet and VAE blocks: timestep embedding, ResnetBlock2D, Attention (classic AttnProcessor, or
AttnProcessor2_0 as torch >= 2.1 exports it), the transformer, down/up samplers, down/up/mid blocks.

`lean_graph` (see the package docstring): activations called as functions, no Div by an output scale of 1, no
Cast of the attention probabilities to their own dtype, residual Adds as `x + f(x)`, the transformer's channel
count read before its GroupNorm, the timestep embedding computed as cat(cos, sin) directly.
"""
from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn


def get_timestep_embedding(timesteps, embedding_dim, flip_sin_to_cos=False, downscale_freq_shift=1.0, scale=1.0, max_period=10000):
    half_dim = embedding_dim // 2
    exponent = -math.log(max_period) * torch.arange(start=0, end=half_dim, dtype=torch.float32, device=timesteps.device)
    exponent = exponent / (half_dim - downscale_freq_shift)
    emb = torch.exp(exponent)
    emb = timesteps[:, None].float() * emb[None, :]
    emb = scale * emb
    emb = torch.cat([torch.sin(emb), torch.cos(emb)], dim=-1)
    if flip_sin_to_cos:
        emb = torch.cat([emb[:, half_dim:], emb[:, :half_dim]], dim=-1)
    return emb


def lean_timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """get_timestep_embedding(t, dim, flip_sin_to_cos=True, downscale_freq_shift=0), the same values."""
    half = dim // 2
    exponent = -math.log(10000) * torch.arange(half, dtype=torch.float32, device=t.device) / half
    freqs = torch.exp(exponent)
    args = t.float()[:, None] * freqs[None, :]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


class Timesteps(nn.Module):
    def __init__(self, num_channels, flip_sin_to_cos, downscale_freq_shift):
        super().__init__()
        self.num_channels = num_channels
        self.flip_sin_to_cos = flip_sin_to_cos
        self.downscale_freq_shift = downscale_freq_shift

    def forward(self, timesteps):
        return get_timestep_embedding(timesteps, self.num_channels, self.flip_sin_to_cos, self.downscale_freq_shift)


class TimestepEmbedding(nn.Module):
    def __init__(self, in_channels, time_embed_dim, lean_graph=False):
        super().__init__()
        self.lean_graph = lean_graph
        self.linear_1 = nn.Linear(in_channels, time_embed_dim)
        self.act = nn.SiLU()
        self.linear_2 = nn.Linear(time_embed_dim, time_embed_dim)

    def forward(self, sample):
        hidden = self.linear_1(sample)
        return self.linear_2(F.silu(hidden) if self.lean_graph else self.act(hidden))


class ResnetBlock2D(nn.Module):
    def __init__(self, in_channels, out_channels, temb_channels, groups, eps, output_scale_factor=1.0, lean_graph=False):
        super().__init__()
        self.lean_graph = lean_graph
        self.norm1 = nn.GroupNorm(groups, in_channels, eps=eps, affine=True)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=1, padding=1)
        self.time_emb_proj = nn.Linear(temb_channels, out_channels) if temb_channels is not None else None
        self.norm2 = nn.GroupNorm(groups, out_channels, eps=eps, affine=True)
        self.dropout = nn.Dropout(0.0)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, stride=1, padding=1)
        self.nonlinearity = nn.SiLU()
        self.output_scale_factor = output_scale_factor
        self.conv_shortcut = nn.Conv2d(in_channels, out_channels, 1) if in_channels != out_channels else None

    def act(self, x):
        return F.silu(x) if self.lean_graph else self.nonlinearity(x)

    def forward(self, input_tensor, temb):
        hidden_states = self.conv1(self.act(self.norm1(input_tensor)))
        if self.time_emb_proj is not None:
            hidden_states = hidden_states + self.time_emb_proj(self.act(temb))[:, :, None, None]
        hidden_states = self.conv2(self.dropout(self.act(self.norm2(hidden_states))))
        if self.conv_shortcut is not None:
            input_tensor = self.conv_shortcut(input_tensor)
        output = input_tensor + hidden_states
        return output if self.lean_graph else output / self.output_scale_factor


class TorchSdpa(torch.autograd.Function):
    """F.scaled_dot_product_attention(q, k, v) without mask or dropout, exported exactly as torch >= 2.1's ONNX exporter
    exports it (symbolic_opset14): scale = 1/sqrt(q.shape[-1]) computed from the shape at run time, q and k^T each
    multiplied by sqrt(scale), MatMul, Softmax, MatMul. (torch 1.13 has no SDPA; this reproduces its graph.)"""

    @staticmethod
    def forward(ctx, query, key, value):
        scores = torch.matmul(query, key.transpose(-1, -2)) / math.sqrt(query.shape[-1])
        return torch.matmul(scores.softmax(dim=-1), value)

    @staticmethod
    def symbolic(g, query, key, value):
        float_type = 1  # TensorProto.FLOAT
        shape = g.op("Shape", query)
        last = g.op("Slice", shape, g.op("Constant", value_t=torch.tensor([-1], dtype=torch.int64)),
                    g.op("Constant", value_t=torch.tensor([2**63 - 1], dtype=torch.int64)))
        embedding_size = g.op("Cast", last, to_i=float_type)
        scale = g.op("Div", g.op("Constant", value_t=torch.tensor([1.0])), g.op("Sqrt", embedding_size))
        scale = g.op("Cast", scale, to_i=float_type)
        key_transposed = g.op("Transpose", key, perm_i=[0, 1, 3, 2])
        query_scaled = g.op("Mul", query, g.op("Sqrt", scale))
        key_transposed_scaled = g.op("Mul", key_transposed, g.op("Sqrt", scale))
        attn_weight = g.op("Softmax", g.op("MatMul", query_scaled, key_transposed_scaled), axis_i=-1)
        return g.op("MatMul", attn_weight, value)


ProbsHook = Callable[["Attention", torch.Tensor, torch.Tensor, torch.Tensor], None]


class Attention(nn.Module):
    """diffusers.models.attention_processor.Attention with the classic AttnProcessor (no SDPA, no fusion);
    form "baddbmm" (diffusers' scores), "bmm" (bmm(q, k^T) * scale) or "sdpa" (AttnProcessor2_0: 4-D heads layout
    + F.scaled_dot_product_attention as torch 2.x exports it).

    `on_probs(module, query, context, probs)`, when set, sees every forward's probabilities [B*heads, Nq, Nk] (heads
    folded into the batch, batch-major), its queries [B*heads, Nq, d] before scaling and its context, with their
    autograd graph: how analysis and training read the attention maps (not with form "sdpa")."""

    def __init__(self, query_dim, cross_attention_dim=None, heads=8, dim_head=64, bias=False, upcast_attention=False,
                 upcast_softmax=False, norm_num_groups=None, eps=1e-5, residual_connection=False, out_bias=True,
                 form="baddbmm", lean_graph=False):
        super().__init__()
        inner_dim = dim_head * heads
        cross_attention_dim = cross_attention_dim if cross_attention_dim is not None else query_dim
        self.scale = dim_head**-0.5
        self.heads = heads
        self.upcast_attention = upcast_attention
        self.upcast_softmax = upcast_softmax
        self.residual_connection = residual_connection
        self.rescale_output_factor = 1.0
        self.form = form
        self.lean_graph = lean_graph
        self.on_probs: ProbsHook | None = None
        self.group_norm = nn.GroupNorm(norm_num_groups, query_dim, eps=eps, affine=True) if norm_num_groups else None
        self.to_q = nn.Linear(query_dim, inner_dim, bias=bias)
        self.to_k = nn.Linear(cross_attention_dim, inner_dim, bias=bias)
        self.to_v = nn.Linear(cross_attention_dim, inner_dim, bias=bias)
        self.to_out = nn.ModuleList([nn.Linear(inner_dim, query_dim, bias=out_bias), nn.Dropout(0.0)])

    def head_to_batch_dim(self, tensor):
        head_size = self.heads
        batch_size, seq_len, dim = tensor.shape
        tensor = tensor.reshape(batch_size, seq_len, head_size, dim // head_size)
        tensor = tensor.permute(0, 2, 1, 3)
        return tensor.reshape(batch_size * head_size, seq_len, dim // head_size)

    def batch_to_head_dim(self, tensor):
        head_size = self.heads
        batch_size, seq_len, dim = tensor.shape
        tensor = tensor.reshape(batch_size // head_size, head_size, seq_len, dim)
        return tensor.permute(0, 2, 1, 3).reshape(batch_size // head_size, seq_len, dim * head_size)

    def get_attention_scores(self, query, key):
        dtype = query.dtype
        if self.upcast_attention:  # SD 2.1 (upcast_attention: true); AttnProcessor2_0 ignores it
            query = query.float()
            key = key.float()
        if self.form == "baddbmm":
            # diffusers: attention_mask is None -> baddbmm_input = torch.empty(...), beta = 0
            baddbmm_input = torch.empty(query.shape[0], query.shape[1], key.shape[1], dtype=query.dtype, device=query.device)
            attention_scores = torch.baddbmm(baddbmm_input, query, key.transpose(-1, -2), beta=0, alpha=self.scale)
            del baddbmm_input
        else:
            attention_scores = torch.bmm(query, key.transpose(-1, -2)) * self.scale
        if self.upcast_softmax:
            attention_scores = attention_scores.float()
        attention_probs = attention_scores.softmax(dim=-1)
        return attention_probs.to(dtype)

    def forward(self, hidden_states, encoder_hidden_states=None):
        if self.lean_graph:
            return self._lean_forward(hidden_states, encoder_hidden_states)
        if self.form == "sdpa" and self.group_norm is None:
            return self.forward_sdpa(hidden_states, encoder_hidden_states)
        # AttnProcessor.__call__
        residual = hidden_states
        input_ndim = hidden_states.ndim
        if input_ndim == 4:
            batch_size, channel, height, width = hidden_states.shape
            hidden_states = hidden_states.view(batch_size, channel, height * width).transpose(1, 2)
        if self.group_norm is not None:
            hidden_states = self.group_norm(hidden_states.transpose(1, 2)).transpose(1, 2)
        query = self.to_q(hidden_states)
        if encoder_hidden_states is None:
            encoder_hidden_states = hidden_states
        key = self.to_k(encoder_hidden_states)
        value = self.to_v(encoder_hidden_states)
        query = self.head_to_batch_dim(query)
        key = self.head_to_batch_dim(key)
        value = self.head_to_batch_dim(value)
        attention_probs = self.get_attention_scores(query, key)
        if self.on_probs is not None:
            self.on_probs(self, query, encoder_hidden_states, attention_probs)
        hidden_states = torch.bmm(attention_probs, value)
        hidden_states = self.batch_to_head_dim(hidden_states)
        hidden_states = self.to_out[0](hidden_states)
        hidden_states = self.to_out[1](hidden_states)
        if input_ndim == 4:
            hidden_states = hidden_states.transpose(-1, -2).reshape(batch_size, channel, height, width)
        if self.residual_connection:
            hidden_states = hidden_states + residual
        return hidden_states / self.rescale_output_factor

    def _lean_forward(self, x, context=None):
        """Forms "bmm" and "baddbmm"; no group norm, residual or upcast (the embedded models have none)."""
        ctx = x if context is None else context
        q = self.head_to_batch_dim(self.to_q(x))
        k = self.head_to_batch_dim(self.to_k(ctx))
        v = self.head_to_batch_dim(self.to_v(ctx))
        if self.form == "baddbmm":
            empty = torch.empty(q.shape[0], q.shape[1], k.shape[1], dtype=q.dtype)
            scores = torch.baddbmm(empty, q, k.transpose(-1, -2), beta=0, alpha=self.scale)
        else:
            scores = torch.bmm(q, k.transpose(1, 2)) * self.scale
        probs = scores.softmax(dim=-1)
        if self.on_probs is not None:
            self.on_probs(self, q, ctx, probs)
        out = torch.bmm(probs, v)
        out = self.batch_to_head_dim(out)
        out = self.to_out[0](out)
        return self.to_out[1](out)

    def forward_sdpa(self, hidden_states, encoder_hidden_states=None):
        # AttnProcessor2_0.__call__ for 3-D inputs without mask (the UNet's attn1/attn2)
        if encoder_hidden_states is None:
            encoder_hidden_states = hidden_states
        batch_size = encoder_hidden_states.shape[0]
        query = self.to_q(hidden_states)
        key = self.to_k(encoder_hidden_states)
        value = self.to_v(encoder_hidden_states)
        inner_dim = key.shape[-1]
        head_dim = inner_dim // self.heads
        query = query.view(batch_size, -1, self.heads, head_dim).transpose(1, 2)
        key = key.view(batch_size, -1, self.heads, head_dim).transpose(1, 2)
        value = value.view(batch_size, -1, self.heads, head_dim).transpose(1, 2)
        hidden_states = TorchSdpa.apply(query, key, value)
        hidden_states = hidden_states.transpose(1, 2).reshape(batch_size, -1, self.heads * head_dim)
        hidden_states = hidden_states.to(query.dtype)
        hidden_states = self.to_out[0](hidden_states)
        hidden_states = self.to_out[1](hidden_states)
        return hidden_states / self.rescale_output_factor


class GEGLU(nn.Module):
    def __init__(self, dim_in, dim_out):
        super().__init__()
        self.proj = nn.Linear(dim_in, dim_out * 2)

    def forward(self, hidden_states):
        hidden_states, gate = self.proj(hidden_states).chunk(2, dim=-1)
        return hidden_states * F.gelu(gate)


class FeedForward(nn.Module):
    def __init__(self, dim, mult=4):
        super().__init__()
        inner_dim = int(dim * mult)
        self.net = nn.ModuleList([GEGLU(dim, inner_dim), nn.Dropout(0.0), nn.Linear(inner_dim, dim)])

    def forward(self, hidden_states):
        for module in self.net:
            hidden_states = module(hidden_states)
        return hidden_states


class BasicTransformerBlock(nn.Module):
    """Self-attention (attn1; a model may leave it out, `self_attention`), cross-attention (attn2), GEGLU MLP."""

    def __init__(self, dim, num_attention_heads, attention_head_dim, cross_attention_dim, form, upcast_attention=False,
                 self_attention=True, ff_mult=4, lean_graph=False):
        super().__init__()
        self.lean_graph = lean_graph
        attention = dict(heads=num_attention_heads, dim_head=attention_head_dim, upcast_attention=upcast_attention, form=form,
                         lean_graph=lean_graph)
        self.norm1 = nn.LayerNorm(dim, elementwise_affine=True, eps=1e-5) if self_attention else None
        self.attn1 = Attention(dim, **attention) if self_attention else None
        self.norm2 = nn.LayerNorm(dim, elementwise_affine=True, eps=1e-5)
        self.attn2 = Attention(dim, cross_attention_dim=cross_attention_dim, **attention)
        self.norm3 = nn.LayerNorm(dim, elementwise_affine=True, eps=1e-5)
        self.ff = FeedForward(dim, ff_mult)

    def residual(self, x, branch):
        return x + branch if self.lean_graph else branch + x  # the Add's operand order is in the graph

    def forward(self, hidden_states, encoder_hidden_states):
        if self.attn1 is not None:
            hidden_states = self.residual(hidden_states, self.attn1(self.norm1(hidden_states)))
        hidden_states = self.residual(hidden_states, self.attn2(self.norm2(hidden_states), encoder_hidden_states))
        return self.residual(hidden_states, self.ff(self.norm3(hidden_states)))


class Transformer2DModel(nn.Module):
    """GroupNorm, proj_in, one BasicTransformerBlock, proj_out. SD 1.x: 1x1-conv proj_in/proj_out on [B, C, H, W]
    (use_linear_projection=False); SD 2.x and the embedded models: Linear proj_in/proj_out on [B, HW, C]."""

    def __init__(self, num_attention_heads, attention_head_dim, in_channels, cross_attention_dim, norm_num_groups, form,
                 use_linear_projection=False, upcast_attention=False, self_attention=True, ff_mult=4, lean_graph=False):
        super().__init__()
        inner_dim = num_attention_heads * attention_head_dim
        self.use_linear_projection = use_linear_projection
        self.lean_graph = lean_graph
        self.norm = nn.GroupNorm(norm_num_groups, in_channels, eps=1e-6, affine=True)
        if use_linear_projection:
            self.proj_in = nn.Linear(in_channels, inner_dim)
        else:
            self.proj_in = nn.Conv2d(in_channels, inner_dim, kernel_size=1, stride=1, padding=0)
        self.transformer_blocks = nn.ModuleList(
            [BasicTransformerBlock(inner_dim, num_attention_heads, attention_head_dim, cross_attention_dim, form,
                                   upcast_attention, self_attention, ff_mult, lean_graph)]
        )
        if use_linear_projection:
            self.proj_out = nn.Linear(inner_dim, in_channels)
        else:
            self.proj_out = nn.Conv2d(inner_dim, in_channels, kernel_size=1, stride=1, padding=0)

    def forward(self, hidden_states, encoder_hidden_states):
        # diffusers 0.21 Transformer2DModel._forward for continuous inputs
        batch, channels, height, width = hidden_states.shape
        residual = hidden_states
        hidden_states = self.norm(hidden_states)
        if not self.use_linear_projection:
            hidden_states = self.proj_in(hidden_states)
            inner_dim = hidden_states.shape[1]
            hidden_states = hidden_states.permute(0, 2, 3, 1).reshape(batch, height * width, inner_dim)
        else:
            inner_dim = channels if self.lean_graph else hidden_states.shape[1]
            hidden_states = hidden_states.permute(0, 2, 3, 1).reshape(batch, height * width, inner_dim)
            hidden_states = self.proj_in(hidden_states)
        for block in self.transformer_blocks:
            hidden_states = block(hidden_states, encoder_hidden_states)
        if not self.use_linear_projection:
            hidden_states = hidden_states.reshape(batch, height, width, inner_dim).permute(0, 3, 1, 2).contiguous()
            hidden_states = self.proj_out(hidden_states)
        else:
            hidden_states = self.proj_out(hidden_states)
            hidden_states = hidden_states.reshape(batch, height, width, inner_dim).permute(0, 3, 1, 2)
            if not self.lean_graph:  # no node in the graph, but eager kernels then sum in another order
                hidden_states = hidden_states.contiguous()
        return hidden_states + residual


class Downsample2D(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, stride=2, padding=1)

    def forward(self, hidden_states):
        return self.conv(hidden_states)


class Upsample2D(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, hidden_states):
        hidden_states = F.interpolate(hidden_states, scale_factor=2.0, mode="nearest")
        return self.conv(hidden_states)
