"""Token grounding loss: aligns each object word's cross-attention map with its object's mask.

Without it the trained model kept where a word is mostly in its 8x8 layers at low noise; the 16x16
maps (the ones Separate-and-Enhance reads) sat at chance (model card, Quality). The loss is
TokenCompose's token-level term (Wang et al., CVPR 2024, arXiv 2312.03626):

    L_token = mean over (sample, word, layer) of (1 - sum_{u in M} A(u) / sum_u A(u))^2

where A is the word's head-averaged attention map in one cross-attention layer and M its object's mask
at that layer's resolution. Each model says which words of a caption are grounded on which object
(tiny_shapes.train.word_positions: the colour and the shape word; captions dropped for classifier-free
guidance are not grounded).

L_token is scale-free: it places a word's attention but leaves its mass with the start token. TokenCompose's
pixel-level term, a per-pixel binary cross-entropy between A and M, also raises the mass inside the object
(`pixel_loss`), which is what Separate-and-Enhance's peak activation reads.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


class GroundingCapture:
    """with GroundingCapture(unet) as cap: unet(...); cap.probs = every attn2's probs [B*heads, N, T], with grad."""

    def __init__(self, unet: torch.nn.Module):
        self.layers = [m for n, m in unet.named_modules() if n.endswith("attn2")]
        self.probs: list[torch.Tensor] = []

    def __enter__(self):
        self.probs = []
        for m in self.layers:
            m.on_probs = self._keep
        return self

    def _keep(self, module, query, context, probs):
        self.probs.append(probs)

    def __exit__(self, *exc):
        for m in self.layers:
            m.on_probs = None


def _grounded_maps(probs: list[torch.Tensor], coverage: list[np.ndarray], positions: list[list[tuple[int, int]]]):
    """Yields (a [words, N], masks [words, N]) per layer and grounded sample: each word's head-averaged map and
    its object's mask at the layer's grid (any coverage inside a cell counts: small objects still own a cell at 8x8)."""
    mask_cache: dict[tuple[int, int], torch.Tensor] = {}
    for p in probs:
        bh, n, _ = p.shape
        heads = bh // len(positions)
        grid = int(round(n**0.5))
        maps = p.reshape(bh // heads, heads, n, -1).mean(1)  # [B, N, T], heads averaged
        for b, pos in enumerate(positions):
            if not pos:
                continue
            key = (b, grid)
            if key not in mask_cache:
                cov = torch.from_numpy(coverage[b]).to(p.device)[:, None]
                mask_cache[key] = (F.adaptive_avg_pool2d(cov, grid)[:, 0] > 0).flatten(1).float()
            masks = mask_cache[key]
            obj = torch.tensor([k for k, _ in pos], device=p.device)
            tok = torch.tensor([t for _, t in pos], device=p.device)
            yield maps[b][:, tok].T, masks[obj]


def token_loss(probs: list[torch.Tensor], coverage: list[np.ndarray], positions: list[list[tuple[int, int]]]) -> torch.Tensor:
    """probs: per layer [B*heads, N, T] (any order); coverage[b]: [n_objects, 32, 32] in [0, 1] (empty for samples not
    grounded); positions[b]: word_positions of sample b. Returns L_token (0 when nothing is grounded)."""
    total = probs[0].new_zeros(())
    count = 0
    for a, m in _grounded_maps(probs, coverage, positions):
        inside = (a * m).sum(1) / a.sum(1).clamp_min(1e-12)
        total = total + (1 - inside).pow(2).sum()
        count += a.shape[0]
    return total / max(1, count)


def pixel_loss(probs: list[torch.Tensor], coverage: list[np.ndarray], positions: list[list[tuple[int, int]]]) -> torch.Tensor:
    """TokenCompose's L_pixel: mean over grounded words and pixels of BCE(A(u), M(u)), same arguments as token_loss."""
    total = probs[0].new_zeros(())
    count = 0
    for a, m in _grounded_maps(probs, coverage, positions):
        total = total + F.binary_cross_entropy(a.clamp(1e-6, 1 - 1e-6), m, reduction="sum")
        count += a.numel()
    return total / max(1, count)


def denoising_loss(un, xt, t, ctx, noise, w_t, coverage, positions, ground_weight: float, pixel_weight: float, grounded: bool):
    """The training loss of both embedded models: the t-weighted noise MSE, plus the token and pixel grounding terms
    (weighted) when `grounded`. Returns (loss, l_token, l_pixel, mse): the grounding terms are None when not grounded;
    mse is the plain noise MSE, detached, for the training log."""
    if grounded:
        with GroundingCapture(un) as cap:
            pred = un(xt, t, ctx)
    else:
        pred = un(xt, t, ctx)
    per = (pred - noise).pow(2).mean(dim=(1, 2, 3))
    loss = (per * w_t[t]).mean()
    mse = float(per.detach().mean())
    if not grounded:
        return loss, None, None, mse
    l_token = token_loss(cap.probs, coverage, positions)
    l_pixel = pixel_loss(cap.probs, coverage, positions)
    return loss + ground_weight * l_token + pixel_weight * l_pixel, l_token, l_pixel, mse
