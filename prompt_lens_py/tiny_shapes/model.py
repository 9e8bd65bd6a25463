"""tiny-shapes: a miniature Stable Diffusion (CLIP-like text encoder + pixel-space UNet), built from
prompt_lens_py.sd's modules in their lean form (its committed ONNX files are exported from this).

Module names follow diffusers / transformers so that exported ONNX node names read like SD's, e.g.
`/down_blocks.1/attentions.0/transformer_blocks.0/attn2/Softmax`.

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

A checkpoint's "config" record (train.py writes it) holds the text encoder's TEXT_DEFAULTS fields and a
TinyUNetConfig; neglect-shapes uses the same architecture and record.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

from prompt_lens_py.sd.text_encoder import CLIPTextModel, TextConfig
from prompt_lens_py.sd.unet import UNet2DConditionModel, UNetConfig

# The text encoder's fields in a checkpoint's record, with tiny-shapes' values.
TEXT_DEFAULTS = dict(vocab_size=585, max_position_embeddings=16, hidden_size=128, num_hidden_layers=3, num_attention_heads=4,
                     intermediate_size=256, eos_token_id=584)  # eos_token_id: unused, the pooler takes argmax(ids) as CLIP


def text_config(**fields) -> TextConfig:
    """The text encoder's config: TEXT_DEFAULTS with `fields` over them, quick_gelu, the lean graph."""
    return TextConfig(**{**TEXT_DEFAULTS, **fields}, lean_graph=True)


@dataclass
class TinyUNetConfig:
    """The UNet's hyper-parameters as a checkpoint records them."""

    in_channels: int = 3
    out_channels: int = 3
    sample_size: int = 32
    block_out_channels: tuple = (32, 64)
    attention_head_dim: int = 16  # channels per head (not diffusers' head count): 2 heads at 16x16, 4 at 8x8
    cross_attention_dim: int = 128
    norm_num_groups: int = 8
    ff_mult: int = 2
    self_attn_grids: tuple = (8,)  # grid sizes with attn1 (self-attention), named at 32 px: block 0 is 16, block 1 is 8

    def sd_config(self) -> UNetConfig:
        return UNetConfig(
            in_channels=self.in_channels, out_channels=self.out_channels, sample_size=self.sample_size,
            block_out_channels=tuple(self.block_out_channels), layers_per_block=1,
            attention_head_dim=tuple(c // self.attention_head_dim for c in self.block_out_channels),
            cross_attention_dim=self.cross_attention_dim, norm_num_groups=self.norm_num_groups,
            use_linear_projection=True, attention_form="bmm",
            down_block_types=("CrossAttnDownBlock2D",) * 2, up_block_types=("CrossAttnUpBlock2D",) * 2,
            self_attention=tuple(grid in self.self_attn_grids for grid in (16, 8)), ff_mult=self.ff_mult,
            space_to_depth=True, lean_graph=True)


def build_unet(cfg: TinyUNetConfig) -> UNet2DConditionModel:
    return UNet2DConditionModel(cfg.sd_config())


def build(text_cfg: TextConfig | None = None, unet_cfg: TinyUNetConfig | None = None):
    return CLIPTextModel(text_cfg or text_config()), build_unet(unet_cfg or TinyUNetConfig())


def configs_to_dict(text_cfg: TextConfig, unet_cfg: TinyUNetConfig) -> dict:
    return {"text": {k: getattr(text_cfg, k) for k in TEXT_DEFAULTS}, "unet": asdict(unet_cfg)}


def configs_from_dict(d: dict) -> tuple[TextConfig, TinyUNetConfig]:
    u = dict(d["unet"])
    for k in ("block_out_channels", "self_attn_grids"):
        u[k] = tuple(u[k])
    return text_config(**d["text"]), TinyUNetConfig(**u)


def load_weights(path: str, ema: bool = True):
    """(text encoder, UNet, checkpoint) in float32 from a training checkpoint or weights-fp16.pt: the EMA weights
    when the file has them and `ema`, else the raw ones (a frozen text encoder, neglect-shapes', has no EMA copy)."""
    ck = torch.load(path, map_location="cpu")
    te, un = build(*configs_from_dict(ck["config"]))
    use_ema = ema and bool(ck.get("ema_unet"))
    sd_te = (ck.get("ema_text_encoder") or ck["text_encoder"]) if use_ema else ck["text_encoder"]
    sd_un = ck["ema_unet"] if use_ema else ck["unet"]
    te.load_state_dict({k: v.float() for k, v in sd_te.items()})
    un.load_state_dict({k: v.float() for k, v in sd_un.items()})
    return te, un, ck
