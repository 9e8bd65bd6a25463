"""32x32 or 48x48? The two measurements behind the choice (model card, "Size").

1. Can the ten shapes be told apart at that size? A small CNN is trained on single renders at the
   two-object size range (the smallest objects the model draws) with the blur and noise of a generated
   image (Gaussian blur sigma 0.9 px, noise 10/255), then tested on fresh renders, degraded and clean.
   It bounds what any detector can do from the pixels; the confusion table shows which shapes merge.
2. What does a UNet training step cost? tiny-shapes' UNet (channels 32,64), batch 32, the text encoder
   frozen (its hidden states computed without gradient), AdamW, one CPU thread.

    python3 -m prompt_lens_py.neglect_shapes.measure_size [--sizes 32,48] [--steps 800]
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from prompt_lens_py.neglect_shapes import common  # noqa: F401  (one thread), before torch
import torch
import torch.nn.functional as F

from prompt_lens_py.neglect_shapes import world
from prompt_lens_py.tiny_shapes.model import TinyUNetConfig, build, text_config


def renders(n: int, size: int, seed: int):
    rng = np.random.default_rng(seed)
    x = np.empty((n, 3, size, size), np.float32)
    y = np.empty(n, np.int64)
    for i in range(n):
        k = int(rng.integers(len(world.SHAPES)))
        obj = [(world.COLOURS[int(rng.integers(len(world.COLOURS)))], world.SHAPES[k])]
        x[i] = world.render(obj, world.sample_layout(rng, obj, size, radius=world.RADIUS[2]), size)[0]
        y[i] = k
    return torch.from_numpy(x * 2 - 1), torch.from_numpy(y)


def degrade(x: torch.Tensor, g: torch.Generator, sigma: float = 0.9, noise: float = 10 / 255) -> torch.Tensor:
    r = int(np.ceil(3 * sigma))
    t = torch.arange(-r, r + 1, dtype=torch.float32)
    k = torch.exp(-0.5 * (t / sigma) ** 2)
    k = k / k.sum()
    c = x.shape[1]
    x = F.conv2d(F.pad(x, (r, r, 0, 0), mode="replicate"), k.view(1, 1, 1, -1).repeat(c, 1, 1, 1), groups=c)
    x = F.conv2d(F.pad(x, (0, 0, r, r), mode="replicate"), k.view(1, 1, -1, 1).repeat(c, 1, 1, 1), groups=c)
    return x + 2 * noise * torch.randn(x.shape, generator=g)


def classifier() -> torch.nn.Module:
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(32, 64, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(64, 64, 3, padding=1), torch.nn.ReLU(), torch.nn.AdaptiveMaxPool2d(1),
        torch.nn.Flatten(), torch.nn.Linear(64, len(world.SHAPES)))


def separability(size: int, steps: int, n_train: int = 24000, n_test: int = 4000) -> dict:
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(1)
    xtr, ytr = renders(n_train, size, 10)
    xte, yte = renders(n_test, size, 11)
    net = classifier()
    opt = torch.optim.Adam(net.parameters(), 2e-3)
    t0 = time.time()
    for step in range(steps):
        idx = torch.randint(0, n_train, (64,), generator=g)
        loss = F.cross_entropy(net(degrade(xtr[idx], g)), ytr[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        for pg in opt.param_groups:
            pg["lr"] = 2e-3 * 0.5 * (1 + np.cos(np.pi * (step + 1) / steps))
    net.eval()
    out = {"train_s": round(time.time() - t0)}
    with torch.no_grad():
        for name, x in (("degraded", degrade(xte, g)), ("clean", xte)):
            pred = torch.cat([net(x[i: i + 500]).argmax(1) for i in range(0, n_test, 500)])
            out[name] = round(float((pred == yte).float().mean()), 4)
            conf = np.zeros((len(world.SHAPES),) * 2, int)
            for a, b in zip(yte.tolist(), pred.tolist()):
                conf[a, b] += 1
            out[f"{name}_per_shape"] = {s: round(conf[i, i] / max(1, conf[i].sum()), 3) for i, s in enumerate(world.SHAPES)}
            out[f"{name}_confusions"] = {f"{world.SHAPES[a]}->{world.SHAPES[b]}": int(conf[a, b])
                                         for a in range(len(conf)) for b in range(len(conf)) if a != b and conf[a, b]}
    return out


def step_time(size: int, batch: int = 32, reps: int = 12) -> float:
    torch.manual_seed(0)
    te, un = build(text_config(vocab_size=600), TinyUNetConfig(sample_size=size))
    te.requires_grad_(False)
    opt = torch.optim.AdamW(un.parameters(), 1e-4)
    ids = torch.randint(0, 600, (batch, 16))
    x = torch.randn(batch, 3, size, size)
    times = []
    for _ in range(reps):
        t0 = time.time()
        with torch.no_grad():
            ctx = te(ids)[0]
        t = torch.randint(0, 1000, (batch,))
        loss = (un(x, t, ctx) - x).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(un.parameters(), 1.0)
        opt.step()
        times.append(time.time() - t0)
    return float(np.median(times[2:]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="32,48")
    ap.add_argument("--steps", type=int, default=800)
    a = ap.parse_args()
    for size in (int(s) for s in a.sizes.split(",")):
        print(f"size {size}: UNet step (batch 32, one thread) {step_time(size):.3f} s", flush=True)
        print(f"size {size}: shape classifier {separability(size, a.steps)}", flush=True)


if __name__ == "__main__":
    main()
