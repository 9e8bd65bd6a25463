"""transformers' CLIPTextModel (classic eager attention), module names as in the hub checkpoints.

The lean form (TextConfig.lean_graph, see the package docstring) is the embedded models': the ids cast to int64
first, heads folded into the batch, scores scaled after q k^T and masked by a [1, n, n] causal mask of -1e9, the
pooler's argmax on the ids as given; q/k/v created in that order.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class TextConfig:
    """Defaults: the SD 1.x test fixture's sizes."""

    vocab_size: int = 0  # set from the tokenizer
    max_position_embeddings: int = 77
    hidden_size: int = 64
    num_hidden_layers: int = 2
    num_attention_heads: int = 4
    intermediate_size: int = 128
    layer_norm_eps: float = 1e-5
    bos_token_id: int = 0
    eos_token_id: int = 2  # CLIP's legacy value: the pooler takes argmax(input_ids) (the end token has the largest id)
    pad_token_id: int = 1
    hidden_act: str = "quick_gelu"  # SD 1.x (OpenAI CLIP); SD 2.x's OpenCLIP text tower: "gelu" (exact, erf)
    lean_graph: bool = False


class CLIPAttention(nn.Module):
    def __init__(self, cfg: TextConfig):
        super().__init__()
        self.embed_dim = cfg.hidden_size
        self.num_heads = cfg.num_attention_heads
        self.head_dim = self.embed_dim // self.num_heads
        self.scale = self.head_dim**-0.5
        self.lean_graph = cfg.lean_graph
        for name in ("q_proj", "k_proj", "v_proj") if cfg.lean_graph else ("k_proj", "v_proj", "q_proj"):
            setattr(self, name, nn.Linear(self.embed_dim, self.embed_dim))
        self.out_proj = nn.Linear(self.embed_dim, self.embed_dim)

    def _shape(self, t, seq_len, bsz):
        return t.view(bsz, seq_len, self.num_heads, self.head_dim).transpose(1, 2).contiguous()

    def forward(self, hidden_states, causal_attention_mask):
        if self.lean_graph:
            return self._lean_forward(hidden_states, causal_attention_mask)
        bsz, tgt_len, embed_dim = hidden_states.size()
        query_states = self.q_proj(hidden_states) * self.scale
        key_states = self._shape(self.k_proj(hidden_states), -1, bsz)
        value_states = self._shape(self.v_proj(hidden_states), -1, bsz)
        proj_shape = (bsz * self.num_heads, -1, self.head_dim)
        query_states = self._shape(query_states, tgt_len, bsz).view(*proj_shape)
        key_states = key_states.view(*proj_shape)
        value_states = value_states.view(*proj_shape)
        src_len = key_states.size(1)
        attn_weights = torch.bmm(query_states, key_states.transpose(1, 2))
        attn_weights = attn_weights.view(bsz, self.num_heads, tgt_len, src_len) + causal_attention_mask
        attn_weights = attn_weights.view(bsz * self.num_heads, tgt_len, src_len)
        attn_weights = F.softmax(attn_weights, dim=-1)
        attn_output = torch.bmm(attn_weights, value_states)
        attn_output = attn_output.view(bsz, self.num_heads, tgt_len, self.head_dim).transpose(1, 2)
        attn_output = attn_output.reshape(bsz, tgt_len, embed_dim)
        return self.out_proj(attn_output)

    def _lean_forward(self, x, mask):
        b, n, c = x.shape
        h = self.num_heads
        q = self.q_proj(x).reshape(b, n, h, c // h).permute(0, 2, 1, 3).reshape(b * h, n, c // h)
        k = self.k_proj(x).reshape(b, n, h, c // h).permute(0, 2, 1, 3).reshape(b * h, n, c // h)
        v = self.v_proj(x).reshape(b, n, h, c // h).permute(0, 2, 1, 3).reshape(b * h, n, c // h)
        s = torch.bmm(q, k.transpose(1, 2)) * self.scale + mask
        p = s.softmax(dim=-1)
        o = torch.bmm(p, v).reshape(b, h, n, c // h).permute(0, 2, 1, 3).reshape(b, n, c)
        return self.out_proj(o)


class CLIPMLP(nn.Module):
    def __init__(self, cfg: TextConfig):
        super().__init__()
        if cfg.hidden_act not in ("quick_gelu", "gelu"):
            raise ValueError(f"hidden_act {cfg.hidden_act!r}")
        self.hidden_act = cfg.hidden_act
        self.fc1 = nn.Linear(cfg.hidden_size, cfg.intermediate_size)
        self.fc2 = nn.Linear(cfg.intermediate_size, cfg.hidden_size)

    def forward(self, x):
        x = self.fc1(x)
        if self.hidden_act == "gelu":
            x = F.gelu(x)  # transformers' GELUActivation: exact (erf) GELU; opset 17 has no Gelu op, so Erf nodes
        else:
            x = x * torch.sigmoid(1.702 * x)  # quick_gelu
        return self.fc2(x)


class CLIPEncoderLayer(nn.Module):
    def __init__(self, cfg: TextConfig):
        super().__init__()
        attention, mlp = CLIPAttention(cfg), CLIPMLP(cfg)
        norm1, norm2 = (nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps) for _ in range(2))
        # Registration order is the ONNX initializer order; each form keeps its own.
        if cfg.lean_graph:
            self.layer_norm1, self.self_attn, self.layer_norm2, self.mlp = norm1, attention, norm2, mlp
        else:
            self.self_attn, self.layer_norm1, self.mlp, self.layer_norm2 = attention, norm1, mlp, norm2

    def forward(self, x, mask):
        x = x + self.self_attn(self.layer_norm1(x), mask)
        return x + self.mlp(self.layer_norm2(x))


class CLIPTextEmbeddings(nn.Module):
    def __init__(self, cfg: TextConfig):
        super().__init__()
        self.lean_graph = cfg.lean_graph
        self.token_embedding = nn.Embedding(cfg.vocab_size, cfg.hidden_size)
        self.position_embedding = nn.Embedding(cfg.max_position_embeddings, cfg.hidden_size)
        positions = torch.arange(cfg.max_position_embeddings)
        self.register_buffer("position_ids", positions[None] if cfg.lean_graph else positions.expand((1, -1)), persistent=False)

    def forward(self, input_ids):
        if self.lean_graph:
            n = input_ids.shape[1]
            return self.token_embedding(input_ids) + self.position_embedding(self.position_ids[:, :n])
        seq_length = input_ids.shape[-1]
        position_ids = self.position_ids[:, :seq_length]
        return self.token_embedding(input_ids) + self.position_embedding(position_ids)


class CLIPEncoder(nn.Module):
    def __init__(self, cfg: TextConfig):
        super().__init__()
        self.layers = nn.ModuleList([CLIPEncoderLayer(cfg) for _ in range(cfg.num_hidden_layers)])


class CLIPTextTransformer(nn.Module):
    def __init__(self, cfg: TextConfig):
        super().__init__()
        self.lean_graph = cfg.lean_graph
        self.embeddings = CLIPTextEmbeddings(cfg)
        self.encoder = CLIPEncoder(cfg)
        self.final_layer_norm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)
        n = cfg.max_position_embeddings
        if cfg.lean_graph:
            causal = torch.full((n, n), -1e9).triu(1)[None]  # finite large negative: safe in fp16/ONNX
        else:
            causal = torch.full((n, n), torch.finfo(torch.float32).min).triu_(1)[None, None]  # transformers'
        self.register_buffer("causal_mask", causal, persistent=False)

    def forward(self, input_ids):
        if self.lean_graph:
            return self._lean_forward(input_ids)
        n = input_ids.shape[-1]
        x = self.embeddings(input_ids)
        mask = self.causal_mask[:, :, :n, :n]
        for layer in self.encoder.layers:
            x = layer(x, mask)
        last_hidden_state = self.final_layer_norm(x)
        # eos_token_id == 2 (legacy CLIP configs, SD 1.x): the end token is the highest id in the vocabulary
        pooled = last_hidden_state[torch.arange(last_hidden_state.shape[0]), input_ids.to(dtype=torch.int).argmax(dim=-1)]
        return last_hidden_state, pooled

    def _lean_forward(self, input_ids):
        ids = input_ids.long()
        x = self.embeddings(ids)
        n = ids.shape[1]
        mask = self.causal_mask[:, :n, :n]
        for layer in self.encoder.layers:
            x = layer(x, mask)
        x = self.final_layer_norm(x)
        eot = input_ids.argmax(dim=-1)  # on the input dtype (ORT's ArgMax takes int32); the end token has the largest id
        pooled = x[torch.arange(x.shape[0], device=x.device), eot]
        return x, pooled


class CLIPTextModel(nn.Module):
    """input_ids [B, T] -> (last_hidden_state [B, T, D], pooler_output [B, D])."""

    def __init__(self, cfg: TextConfig):
        super().__init__()
        self.config = cfg
        self.text_model = CLIPTextTransformer(cfg)

    def forward(self, input_ids):
        return self.text_model(input_ids)
