"""tiny-shapes: a miniature Stable Diffusion (CLIP-like text encoder + pixel-space UNet).

Module names follow diffusers / transformers so that exported ONNX node names
read like SD's, e.g. `/down_blocks.1/attentions.0/transformer_blocks.0/attn2/Softmax`.

UNet layout (pixel space, 32x32 RGB, 2x2 space-to-depth stem):
  sample [B,3,32,32] -> space-to-depth [B,12,16,16] -> conv_in
  down_blocks.0 (16x16): resnets.0, attentions.0 (attn2 only), downsamplers.0 -> 8x8
  down_blocks.1 (8x8):   resnets.0, attentions.0 (attn1 + attn2)
  mid_block (8x8):       resnets.0, attentions.0 (attn1 + attn2), resnets.1
  up_blocks.0 (8x8):     resnets.{0,1}, attentions.{0,1} (attn1 + attn2), upsamplers.0 -> 16x16
  up_blocks.1 (16x16):   resnets.{0,1}, attentions.{0,1} (attn2 only)
  conv_norm_out, conv_out -> [B,12,16,16] -> depth-to-space -> out_sample [B,3,32,32]
Cross-attention (attn2) layers: 16x16: down_blocks.0.attentions.0, up_blocks.1.attentions.{0,1};
8x8: down_blocks.1.attentions.0, mid_block.attentions.0, up_blocks.0.attentions.{0,1}.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class TextConfig:
    vocab_size: int = 585
    max_position_embeddings: int = 16
    hidden_size: int = 128
    num_hidden_layers: int = 3
    num_attention_heads: int = 4
    intermediate_size: int = 256
    eos_token_id: int = 584  # unused: pooler uses argmax(ids) as CLIP


@dataclass
class UNetConfig:
    in_channels: int = 3
    out_channels: int = 3
    sample_size: int = 32
    block_out_channels: tuple = (32, 64)
    attention_head_dim: int = 16  # channels per head: 2 heads at 16x16, 4 at 8x8
    cross_attention_dim: int = 128
    norm_num_groups: int = 8
    ff_mult: int = 2
    self_attn_grids: tuple = (8,)  # grid sizes with attn1 (self-attention)


# ---------------------------------------------------------------- text encoder


class CLIPAttention(nn.Module):
    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads = heads
        self.head_dim = dim // heads
        self.scale = self.head_dim**-0.5
        self.q_proj = nn.Linear(dim, dim)
        self.k_proj = nn.Linear(dim, dim)
        self.v_proj = nn.Linear(dim, dim)
        self.out_proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        b, n, c = x.shape
        h = self.heads
        q = self.q_proj(x).reshape(b, n, h, c // h).permute(0, 2, 1, 3).reshape(b * h, n, c // h)
        k = self.k_proj(x).reshape(b, n, h, c // h).permute(0, 2, 1, 3).reshape(b * h, n, c // h)
        v = self.v_proj(x).reshape(b, n, h, c // h).permute(0, 2, 1, 3).reshape(b * h, n, c // h)
        s = torch.bmm(q, k.transpose(1, 2)) * self.scale + mask
        p = s.softmax(dim=-1)
        o = torch.bmm(p, v).reshape(b, h, n, c // h).permute(0, 2, 1, 3).reshape(b, n, c)
        return self.out_proj(o)


class CLIPMLP(nn.Module):
    def __init__(self, dim: int, inner: int):
        super().__init__()
        self.fc1 = nn.Linear(dim, inner)
        self.fc2 = nn.Linear(inner, dim)

    def forward(self, x):
        x = self.fc1(x)
        x = x * torch.sigmoid(1.702 * x)  # quick_gelu, as CLIP
        return self.fc2(x)


class CLIPEncoderLayer(nn.Module):
    def __init__(self, cfg: TextConfig):
        super().__init__()
        self.layer_norm1 = nn.LayerNorm(cfg.hidden_size)
        self.self_attn = CLIPAttention(cfg.hidden_size, cfg.num_attention_heads)
        self.layer_norm2 = nn.LayerNorm(cfg.hidden_size)
        self.mlp = CLIPMLP(cfg.hidden_size, cfg.intermediate_size)

    def forward(self, x, mask):
        x = x + self.self_attn(self.layer_norm1(x), mask)
        x = x + self.mlp(self.layer_norm2(x))
        return x


class CLIPEmbeddings(nn.Module):
    def __init__(self, cfg: TextConfig):
        super().__init__()
        self.token_embedding = nn.Embedding(cfg.vocab_size, cfg.hidden_size)
        self.position_embedding = nn.Embedding(cfg.max_position_embeddings, cfg.hidden_size)
        self.register_buffer("position_ids", torch.arange(cfg.max_position_embeddings)[None], persistent=False)

    def forward(self, ids):
        n = ids.shape[1]
        return self.token_embedding(ids) + self.position_embedding(self.position_ids[:, :n])


class CLIPEncoder(nn.Module):
    def __init__(self, cfg: TextConfig):
        super().__init__()
        self.layers = nn.ModuleList([CLIPEncoderLayer(cfg) for _ in range(cfg.num_hidden_layers)])


class CLIPTextTransformer(nn.Module):
    def __init__(self, cfg: TextConfig):
        super().__init__()
        self.embeddings = CLIPEmbeddings(cfg)
        self.encoder = CLIPEncoder(cfg)
        self.final_layer_norm = nn.LayerNorm(cfg.hidden_size)
        L = cfg.max_position_embeddings
        causal = torch.full((L, L), -1e9).triu(1)  # finite large negative: safe in fp16/ONNX
        self.register_buffer("causal_mask", causal[None], persistent=False)

    def forward(self, input_ids):
        ids = input_ids.long()
        x = self.embeddings(ids)
        n = ids.shape[1]
        mask = self.causal_mask[:, :n, :n]
        for layer in self.encoder.layers:
            x = layer(x, mask)
        x = self.final_layer_norm(x)
        # CLIP pooler: hidden state at the end token = argmax of ids (end token has the largest id)
        eot = input_ids.argmax(dim=-1)  # on the input dtype (ORT's ArgMax takes int32)
        pooled = x[torch.arange(x.shape[0], device=x.device), eot]
        return x, pooled


class CLIPTextModel(nn.Module):
    def __init__(self, cfg: TextConfig):
        super().__init__()
        self.config = cfg
        self.text_model = CLIPTextTransformer(cfg)

    def forward(self, input_ids):
        return self.text_model(input_ids)


# ---------------------------------------------------------------- UNet


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """diffusers Timesteps(dim, flip_sin_to_cos=True, downscale_freq_shift=0)."""
    half = dim // 2
    exponent = -math.log(10000) * torch.arange(half, dtype=torch.float32, device=t.device) / half
    freqs = torch.exp(exponent)
    args = t.float()[:, None] * freqs[None, :]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


class TimestepEmbedding(nn.Module):
    def __init__(self, cin: int, dim: int):
        super().__init__()
        self.linear_1 = nn.Linear(cin, dim)
        self.linear_2 = nn.Linear(dim, dim)

    def forward(self, x):
        return self.linear_2(F.silu(self.linear_1(x)))


class ResnetBlock2D(nn.Module):
    def __init__(self, cin: int, cout: int, temb: int, groups: int):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, cin, eps=1e-5)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.time_emb_proj = nn.Linear(temb, cout)
        self.norm2 = nn.GroupNorm(groups, cout, eps=1e-5)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.conv_shortcut = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x, temb):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.time_emb_proj(F.silu(temb))[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        if self.conv_shortcut is not None:
            x = self.conv_shortcut(x)
        return x + h


class Attention(nn.Module):
    """diffusers Attention, classic unfused processor (AttnProcessor)."""

    def __init__(self, query_dim: int, heads: int, dim_head: int, cross_attention_dim: int | None = None):
        super().__init__()
        inner = heads * dim_head
        self.heads = heads
        self.scale = dim_head**-0.5
        kv_dim = cross_attention_dim if cross_attention_dim is not None else query_dim
        self.to_q = nn.Linear(query_dim, inner, bias=False)
        self.to_k = nn.Linear(kv_dim, inner, bias=False)
        self.to_v = nn.Linear(kv_dim, inner, bias=False)
        self.to_out = nn.ModuleList([nn.Linear(inner, query_dim), nn.Dropout(0.0)])
        self.store: list | None = None  # set to a list to capture probabilities (analysis, grounding loss)
        self.store_grad = False  # keep the graph of captured probabilities (the grounding loss trains through them)

    def head_to_batch_dim(self, t):
        b, n, c = t.shape
        h = self.heads
        return t.reshape(b, n, h, c // h).permute(0, 2, 1, 3).reshape(b * h, n, c // h)

    def batch_to_head_dim(self, t):
        bh, n, d = t.shape
        h = self.heads
        return t.reshape(bh // h, h, n, d).permute(0, 2, 1, 3).reshape(bh // h, n, d * h)

    def forward(self, x, context=None):
        ctx = x if context is None else context
        q = self.head_to_batch_dim(self.to_q(x))
        k = self.head_to_batch_dim(self.to_k(ctx))
        v = self.head_to_batch_dim(self.to_v(ctx))
        scores = torch.bmm(q, k.transpose(1, 2)) * self.scale
        probs = scores.softmax(dim=-1)
        if self.store is not None:
            self.store.append(probs if self.store_grad else probs.detach())
        out = torch.bmm(probs, v)
        out = self.batch_to_head_dim(out)
        out = self.to_out[0](out)
        return self.to_out[1](out)


class GEGLU(nn.Module):
    def __init__(self, dim: int, inner: int):
        super().__init__()
        self.proj = nn.Linear(dim, inner * 2)

    def forward(self, x):
        h, gate = self.proj(x).chunk(2, dim=-1)
        return h * F.gelu(gate)


class FeedForward(nn.Module):
    def __init__(self, dim: int, mult: int):
        super().__init__()
        inner = dim * mult
        self.net = nn.ModuleList([GEGLU(dim, inner), nn.Dropout(0.0), nn.Linear(inner, dim)])

    def forward(self, x):
        for m in self.net:
            x = m(x)
        return x


class BasicTransformerBlock(nn.Module):
    def __init__(self, dim: int, heads: int, dim_head: int, cross_dim: int, self_attn: bool, ff_mult: int):
        super().__init__()
        if self_attn:
            self.norm1 = nn.LayerNorm(dim)
            self.attn1 = Attention(dim, heads, dim_head)
        else:
            self.norm1 = None
            self.attn1 = None
        self.norm2 = nn.LayerNorm(dim)
        self.attn2 = Attention(dim, heads, dim_head, cross_attention_dim=cross_dim)
        self.norm3 = nn.LayerNorm(dim)
        self.ff = FeedForward(dim, ff_mult)

    def forward(self, x, ctx):
        if self.attn1 is not None:
            x = x + self.attn1(self.norm1(x))
        x = x + self.attn2(self.norm2(x), ctx)
        x = x + self.ff(self.norm3(x))
        return x


class Transformer2DModel(nn.Module):
    def __init__(self, channels: int, cfg: UNetConfig, self_attn: bool):
        super().__init__()
        heads = channels // cfg.attention_head_dim
        self.norm = nn.GroupNorm(cfg.norm_num_groups, channels, eps=1e-6)
        self.proj_in = nn.Linear(channels, channels)
        self.transformer_blocks = nn.ModuleList(
            [BasicTransformerBlock(channels, heads, cfg.attention_head_dim, cfg.cross_attention_dim, self_attn, cfg.ff_mult)]
        )
        self.proj_out = nn.Linear(channels, channels)

    def forward(self, x, ctx):
        b, c, h, w = x.shape
        res = x
        x = self.norm(x)
        x = x.permute(0, 2, 3, 1).reshape(b, h * w, c)
        x = self.proj_in(x)
        for blk in self.transformer_blocks:
            x = blk(x, ctx)
        x = self.proj_out(x)
        x = x.reshape(b, h, w, c).permute(0, 3, 1, 2)
        return x + res


class Downsample2D(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, stride=2, padding=1)

    def forward(self, x):
        return self.conv(x)


class Upsample2D(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class CrossAttnDownBlock2D(nn.Module):
    def __init__(self, cin, cout, temb, cfg: UNetConfig, self_attn: bool, downsample: bool):
        super().__init__()
        self.resnets = nn.ModuleList([ResnetBlock2D(cin, cout, temb, cfg.norm_num_groups)])
        self.attentions = nn.ModuleList([Transformer2DModel(cout, cfg, self_attn)])
        self.downsamplers = nn.ModuleList([Downsample2D(cout)]) if downsample else None

    def forward(self, x, temb, ctx):
        skips = []
        for r, a in zip(self.resnets, self.attentions):
            x = a(r(x, temb), ctx)
            skips.append(x)
        if self.downsamplers is not None:
            x = self.downsamplers[0](x)
            skips.append(x)
        return x, skips


class CrossAttnUpBlock2D(nn.Module):
    def __init__(self, cin, cout, prev, skip_chs, temb, cfg: UNetConfig, self_attn: bool, upsample: bool):
        super().__init__()
        res, att = [], []
        c = prev
        for s in skip_chs:
            res.append(ResnetBlock2D(c + s, cout, temb, cfg.norm_num_groups))
            att.append(Transformer2DModel(cout, cfg, self_attn))
            c = cout
        self.resnets = nn.ModuleList(res)
        self.attentions = nn.ModuleList(att)
        self.upsamplers = nn.ModuleList([Upsample2D(cout)]) if upsample else None

    def forward(self, x, skips, temb, ctx):
        for r, a in zip(self.resnets, self.attentions):
            x = torch.cat([x, skips.pop()], dim=1)
            x = a(r(x, temb), ctx)
        if self.upsamplers is not None:
            x = self.upsamplers[0](x)
        return x


class UNetMidBlock2DCrossAttn(nn.Module):
    def __init__(self, c, temb, cfg: UNetConfig, self_attn: bool):
        super().__init__()
        self.resnets = nn.ModuleList([ResnetBlock2D(c, c, temb, cfg.norm_num_groups), ResnetBlock2D(c, c, temb, cfg.norm_num_groups)])
        self.attentions = nn.ModuleList([Transformer2DModel(c, cfg, self_attn)])

    def forward(self, x, temb, ctx):
        x = self.resnets[0](x, temb)
        x = self.attentions[0](x, ctx)
        return self.resnets[1](x, temb)


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
    def __init__(self, cfg: UNetConfig):
        super().__init__()
        self.config = cfg
        c1, c2 = cfg.block_out_channels
        temb = 4 * c1
        self.time_dim = c1
        self.time_embedding = TimestepEmbedding(c1, temb)
        self.conv_in = nn.Conv2d(cfg.in_channels * 4, c1, 3, padding=1)
        g16 = 16 in cfg.self_attn_grids
        g8 = 8 in cfg.self_attn_grids
        self.down_blocks = nn.ModuleList(
            [
                CrossAttnDownBlock2D(c1, c1, temb, cfg, g16, downsample=True),
                CrossAttnDownBlock2D(c1, c2, temb, cfg, g8, downsample=False),
            ]
        )
        self.mid_block = UNetMidBlock2DCrossAttn(c2, temb, cfg, g8)
        # skips (in push order): conv_in c1, d0.attn c1, d0.down c1, d1.attn c2
        self.up_blocks = nn.ModuleList(
            [
                CrossAttnUpBlock2D(c2, c2, c2, [c2, c1], temb, cfg, g8, upsample=True),
                CrossAttnUpBlock2D(c2, c1, c2, [c1, c1], temb, cfg, g16, upsample=False),
            ]
        )
        self.conv_norm_out = nn.GroupNorm(cfg.norm_num_groups, c1, eps=1e-5)
        self.conv_out = nn.Conv2d(c1, cfg.out_channels * 4, 3, padding=1)

    def forward(self, sample, timestep, encoder_hidden_states):
        temb = self.time_embedding(timestep_embedding(timestep, self.time_dim))
        x = self.conv_in(space_to_depth(sample))
        skips = [x]
        for blk in self.down_blocks:
            x, s = blk(x, temb, encoder_hidden_states)
            skips.extend(s)
        x = self.mid_block(x, temb, encoder_hidden_states)
        for blk in self.up_blocks:
            x = blk(x, skips, temb, encoder_hidden_states)
        x = self.conv_out(F.silu(self.conv_norm_out(x)))
        return depth_to_space(x)


def count_params(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


def build(text_cfg: TextConfig | None = None, unet_cfg: UNetConfig | None = None):
    text_cfg = text_cfg or TextConfig()
    unet_cfg = unet_cfg or UNetConfig()
    return CLIPTextModel(text_cfg), UNet2DConditionModel(unet_cfg)


def configs_to_dict(text_cfg: TextConfig, unet_cfg: UNetConfig) -> dict:
    return {"text": asdict(text_cfg), "unet": asdict(unet_cfg)}


def configs_from_dict(d: dict):
    u = dict(d["unet"])
    for k in ("block_out_channels", "self_attn_grids"):
        u[k] = tuple(u[k])
    return TextConfig(**d["text"]), UNetConfig(**u)


if __name__ == "__main__":
    import sys
    import time

    torch.set_num_threads(1)
    chs = tuple(int(v) for v in sys.argv[1].split(",")) if len(sys.argv) > 1 else (64, 128)
    bs = int(sys.argv[2]) if len(sys.argv) > 2 else 64
    te, un = build(unet_cfg=UNetConfig(block_out_channels=chs))
    print("text params", count_params(te), "unet params", count_params(un))
    ids = torch.randint(0, 585, (bs, 16))
    x = torch.randn(bs, 3, 32, 32)
    t = torch.randint(0, 1000, (bs,))
    opt = torch.optim.AdamW(list(te.parameters()) + list(un.parameters()), 1e-4)
    for i in range(4):
        t0 = time.time()
        h, _ = te(ids)
        out = un(x, t, h)
        loss = out.pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        print(f"step {time.time() - t0:.3f}s")
