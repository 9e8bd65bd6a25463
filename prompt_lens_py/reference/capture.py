"""Cross-attention capture for the Separate-and-Enhance references: every attn2 layer's queries before scaling
[B*heads, Nq, d], text embedding and probabilities [B*heads, Nq, T] (heads folded into the batch, batch-major, as
the modules and the ONNX graph), with the autograd graph; and the layer-local recomputation of the probabilities
with the key weight as the only variable (the engine's former layer-local gradient, docs/method.md section 4)."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def cross_attention_layers(unet) -> list[tuple[str, torch.nn.Module]]:
    """[(diffusers module path, module)] of every cross-attention (attn2), in forward order."""
    return [(n, m) for n, m in unet.named_modules() if n.endswith("attn2")]


def key_weight_name(layer: str) -> str:
    """'down_blocks.0.attentions.0.transformer_blocks.0.attn2' -> '...attn2.to_k.weight' (diffusers)."""
    return f"{layer}.to_k.weight"


class AttnCapture:
    """with AttnCapture(unet) as cap: unet(...); cap.records[layer] = {q, ctx, probs, heads, scale}."""

    def __init__(self, unet):
        self.layers = cross_attention_layers(unet)
        self.records: dict[str, dict] = {}

    def __enter__(self):
        for name, m in self.layers:
            m.on_probs = lambda module, query, context, probs, name=name: self._record(name, module, query, context, probs)
        return self

    def _record(self, name, module, query, context, probs):
        self.records[name] = {"q": query, "ctx": context, "probs": probs, "heads": module.heads, "scale": module.scale}

    def __exit__(self, *exc):
        for _, m in self.layers:
            m.on_probs = None
        return False

    def grid(self, name: str) -> int:
        nq = self.records[name]["probs"].shape[1]
        g = int(round(math.sqrt(nq)))
        assert g * g == nq
        return g

    def per_head(self, name: str, key: str, guidance_batch: bool = False) -> torch.Tensor:
        """records[name][key] ("probs" or "q") unfolded to [B, heads, ...]. guidance_batch: the batch is
        [unconditional; conditional] (sampler.py's classifier-free guidance order): return only the
        conditional half, the one that carries the prompt's maps."""
        r = self.records[name]
        t = r[key]
        t = t.reshape(t.shape[0] // r["heads"], r["heads"], *t.shape[1:])
        if guidance_batch:
            assert t.shape[0] % 2 == 0
            t = t[t.shape[0] // 2:]
        return t


def recompute_probs(q: torch.Tensor, ctx: torch.Tensor, w_k: torch.Tensor, heads: int, scale: float) -> torch.Tensor:
    """The layer-local forward: probs [B*heads, Nq, T] from queries q [B*heads, Nq, d] (before scaling),
    text embedding ctx [B, T, D] and key weight w_k [inner, D], with the forward's operations. With q and
    ctx detached, w_k is the only variable: the gradient the engine computes (docs/method.md section 4)."""
    k = F.linear(ctx, w_k)
    b, n, c = k.shape
    k = k.reshape(b, n, heads, c // heads).permute(0, 2, 1, 3).reshape(b * heads, n, c // heads)
    return (torch.bmm(q, k.transpose(1, 2)) * scale).softmax(dim=-1)


def local_probs(cap: "AttnCapture", layers: list[str], weights: dict[str, torch.Tensor]) -> list[torch.Tensor]:
    """[B, heads, Nq, T] per layer, recomputed from the captured (detached) queries and text embedding with
    weights[layer] as the key weight."""
    out = []
    for n in layers:
        r = cap.records[n]
        p = recompute_probs(r["q"].detach(), r["ctx"].detach(), weights[n], r["heads"], r["scale"])
        out.append(p.reshape(p.shape[0] // r["heads"], r["heads"], *p.shape[1:]))
    return out

