"""The denoising recipe of both embedded models: epsilon prediction on DDPM's linear betas 1e-4..0.02 (T = 1000),
min-SNR-gamma loss weights, AdamW with weight decay on matrices only, linear warm-up then cosine decay, EMA."""
from __future__ import annotations

import math

import torch


def alphas_cumprod(device="cpu") -> torch.Tensor:
    """[1000] float32, the training noise levels (the scheduler_config.json the models ship with)."""
    betas = torch.linspace(1e-4, 0.02, 1000, dtype=torch.float32)
    return torch.cumprod(1 - betas, 0).to(device)


def min_snr_weights(ac: torch.Tensor, gamma: float) -> torch.Tensor:
    """Per timestep min(SNR, gamma) / SNR (epsilon prediction); gamma 0: all ones."""
    snr = ac / (1 - ac)
    return torch.clamp(snr, max=gamma) / snr if gamma > 0 else torch.ones_like(snr)


def adamw(params: list, lr: float, weight_decay: float) -> torch.optim.AdamW:
    """Weight decay on matrices and kernels, none on biases and norms."""
    decay = [p for p in params if p.ndim >= 2]
    no_decay = [p for p in params if p.ndim < 2]
    return torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}], lr=lr)


def lr_at(step, a, rewarm_from=None, progress=None):
    """a.lr after a.warmup linear steps, then cosine to a.lr_min over a.steps (or at `progress` in [0, 1])."""
    if step < a.warmup:
        return a.lr * (step + 1) / a.warmup
    p = min(1.0, (step - a.warmup) / max(1, a.steps - a.warmup)) if progress is None else progress
    lr = a.lr_min + 0.5 * (a.lr - a.lr_min) * (1 + math.cos(math.pi * p))
    if rewarm_from is not None and step - rewarm_from < a.warmup:
        # fresh optimizer on resumed weights: warm up again so Adam's first steps do not jolt the model
        lr *= (step - rewarm_from + 1) / a.warmup
    return lr


@torch.no_grad()
def ema_update(ema_params: list, params: list, step: int, decay: float) -> None:
    """EMA of the weights after optimiser step `step`, its decay warmed up as (1 + step) / (10 + step)."""
    d = min(decay, (1 + step) / (10 + step))
    torch._foreach_mul_(ema_params, d)
    torch._foreach_add_(ema_params, [p.detach() for p in params], alpha=1 - d)
