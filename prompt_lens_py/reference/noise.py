"""Noise from the project's PRNG (prompt_lens_py/prng.py: the engine's generator bit for bit)."""
from __future__ import annotations

import numpy as np
import torch

from prompt_lens_py.prng import Rng


def noise_for_seeds(seeds, shape=(3, 32, 32)) -> torch.Tensor:
    """Initial noise, one seed per batch item: Rng(s).normals(C*H*W) in C order, as the engine draws it."""
    n = int(np.prod(shape))
    return torch.from_numpy(np.stack([np.asarray(Rng(s).normals_np(n), np.float32).reshape(shape) for s in seeds]))


def case_noise(seed: int, x0_scale: float, shape=(3, 32, 32)):
    """The gradient fixture's cases' noise:
        r = Rng(seed); eps = r.normals(C*H*W); x0 = x0_scale * r.normals(C*H*W)   (C order, float32)
    i.e. eps is exactly the engine's initial noise for `seed`, and x0 the next C*H*W normals of the same
    generator; x0_scale * value is rounded to float32 (a float32 multiply)."""
    n = int(np.prod(shape))
    r = Rng(seed)
    eps = np.asarray(r.normals(n), np.float32).reshape(shape)
    x0 = (np.float32(x0_scale) * np.asarray(r.normals(n), np.float32)).astype(np.float32).reshape(shape)
    return torch.from_numpy(x0), torch.from_numpy(eps)

