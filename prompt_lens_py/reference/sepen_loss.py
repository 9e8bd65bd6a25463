"""The Separate-and-Enhance loss exactly as src/engine/finetune/lossGradients.ts computes it (docs/method.md):
maps averaged over the 16x16 layers, heads kept, raw probabilities; L_sep = max_{head,x} prod/sum (0 where
sum <= 1e-12); L_en = 1 - min_i max_{head,x} G3x3(M^i) (reflect padding, taps [e^-1, 1, e^-1]/(1+2e^-1));
ties: the first maximum in (head, row-major pixel) order, the lowest object index for the min."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from prompt_lens_py.reference.capture import AttnCapture

SUM_EPS = 1e-12  # src/engine/attention/scores.ts
GAUSS_SIDE = math.exp(-1) / (1 + 2 * math.exp(-1))  # 0.21194
GAUSS_CENTRE = 1 / (1 + 2 * math.exp(-1))  # 0.57612
W_SEP, W_EN = 1.0, 0.5  # official
# x0 = X0_SCALE * N(0, I). Official (latent SD): 0.18215 * N(0,I) in the UNet's latent space, where
# encoded images have ~unit std, i.e. x0 is faint noise at 0.18215 of the data's std. This model works
# in pixel space, [-1, 1], grey background = 0; the training scenes' pixel std is 0.272 (512 scenes,
# scenes.make_batch seed 0), so the same ratio gives 0.18215 * 0.272 = 0.0496 -> 0.05.
X0_SCALE = 0.05


def object_maps(probs_per_layer: list[torch.Tensor], positions: list[list[list[int]]]) -> torch.Tensor:
    """probs_per_layer: each [B, heads, Nq, T]; positions[b][k] = token positions of object k of sample b.
    Returns M [B, heads, K, Nq]: mean over layers of the mean over the object's tokens (mapGradients.ts,
    keepHeads)."""
    B = probs_per_layer[0].shape[0]
    out = []
    for b in range(B):
        per_obj = []
        for toks in positions[b]:
            idx = torch.tensor(toks)
            per_obj.append(sum(p[b][..., idx].mean(-1) for p in probs_per_layer) / len(probs_per_layer))
        out.append(torch.stack(per_obj, dim=1))  # [heads, K, Nq]
    K = {len(p) for p in positions}
    assert len(K) == 1, "every sample needs the same number of objects"
    return torch.stack(out)


def gaussian3x3(m: torch.Tensor) -> torch.Tensor:
    """[..., H, W] separable 3x3 Gaussian with reflect padding (smoothing.ts)."""
    shp = m.shape
    x = m.reshape(-1, 1, shp[-2], shp[-1])
    x = F.pad(x, (1, 1, 1, 1), mode="reflect")
    taps = torch.tensor([GAUSS_SIDE, GAUSS_CENTRE, GAUSS_SIDE], dtype=m.dtype)
    x = F.conv2d(x, taps.reshape(1, 1, 1, 3))
    x = F.conv2d(x, taps.reshape(1, 1, 3, 1))
    return x.reshape(shp)


def _first_max(flat: torch.Tensor):
    """max of a 1-D tensor and the index of its first occurrence (gradient on that one element)."""
    i = int(torch.argmax(flat))  # torch: first maximal index
    return flat[i], i


def sepen_loss(M: torch.Tensor, grid: int, w_sep: float = W_SEP, w_en: float = W_EN):
    """M [B, heads, K, Nq] -> (mean loss, details per sample). Per sample as lossGradients.ts."""
    B, H, K, nq = M.shape
    losses, details = [], []
    for b in range(B):
        m = M[b]  # [H, K, nq]
        prod = m.prod(dim=1)
        s = m.sum(dim=1)
        ratio = torch.where(s > SUM_EPS, prod / torch.where(s > SUM_EPS, s, torch.ones_like(s)), torch.zeros_like(s))
        l_sep, sep_at = _first_max(ratio.reshape(-1))
        sm = gaussian3x3(m.reshape(H, K, grid, grid)).reshape(H, K, nq)
        peaks, peak_at = [], []
        for k in range(K):
            v, i = _first_max(sm[:, k].reshape(-1))
            peaks.append(v)
            peak_at.append(divmod(i, nq))
        weakest = min(range(K), key=lambda k: (float(peaks[k]), k))
        l_en = 1 - peaks[weakest]
        losses.append(w_sep * l_sep + w_en * l_en)
        details.append({"L": float(losses[-1]), "L_sep": float(l_sep), "L_en": float(l_en),
                        "peaks": [float(p) for p in peaks], "weakest": weakest,
                        "sep_at": list(divmod(sep_at, nq)), "peak_at": [list(p) for p in peak_at]})
    return torch.stack(losses).mean(), details


def grid_layers(cap: AttnCapture, grid: int) -> list[str]:
    names = [n for n, _ in cap.layers if n in cap.records and cap.grid(n) == grid]
    if not names:
        raise ValueError(f"no cross-attention layer has a {grid}x{grid} query grid")
    return names


def loss_from_capture(cap: AttnCapture, positions, grid: int = 16, layers: list[str] | None = None,
                      w_sep: float = W_SEP, w_en: float = W_EN, probs: list[torch.Tensor] | None = None):
    """Loss on the captured maps of the `grid` layers (or on `probs`, [B, heads, Nq, T] per layer)."""
    layers = layers or grid_layers(cap, grid)
    probs = probs if probs is not None else [cap.per_head(n, "probs") for n in layers]
    M = object_maps(probs, positions)
    loss, det = sepen_loss(M, grid, w_sep, w_en)
    return loss, det, layers
