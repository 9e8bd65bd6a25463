"""A model folder as the references load it: weights (a checkpoint spec), tokenizer and scheduler.

Weights spec: a weights-only file (train/weights-fp16.pt, from prompt_lens_py.tiny_shapes.export --weights-out), a
training checkpoint (checkpoints/last.pt, step-N.pt), `random:SEED` (the export's seeded initialisation without
--ckpt: `torch.manual_seed(SEED); build()`) or `auto` (the first of train/weights-fp16.pt, the newest
checkpoints/step-N.pt, checkpoints/last.pt, random:0). EMA weights are used when the file has them, as the export
exports them.
"""
from __future__ import annotations

import glob
import hashlib
import os
import re

import torch

from prompt_lens_py.clip_tokenizer import ClipTokenizer
from prompt_lens_py.paths import repo_relative, weights_file
from prompt_lens_py.reference.ddim import DDIM
from prompt_lens_py.tiny_shapes.model import build, load_weights


def resolve_weights(model_dir: str, spec: str) -> str:
    if spec != "auto":
        return spec
    cands = [weights_file(model_dir)]
    steps = sorted(glob.glob(os.path.join(model_dir, "checkpoints", "step-*.pt")),
                   key=lambda p: int(re.findall(r"step-(\d+)\.pt$", p)[0]) if re.findall(r"step-(\d+)\.pt$", p) else -1)
    cands += steps[::-1]
    cands.append(os.path.join(model_dir, "checkpoints", "last.pt"))
    for c in cands:
        if os.path.exists(c):
            return c
    return "random:0"


def _sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_model(model_dir: str, spec: str = "auto", ema: bool = True):
    """(text_encoder, unet, info) in float32, eval mode, all parameters frozen."""
    path = resolve_weights(model_dir, spec)
    if path.startswith("random:"):
        seed = int(path.split(":", 1)[1])
        torch.manual_seed(seed)
        te, un = build()
        info = {"weights": path, "kind": "random-init (seeded, as the export without --ckpt)", "step": 0}
    else:
        te, un, ck = load_weights(path, ema)
        info = {"weights": repo_relative(path), "kind": "ema" if ema and ck.get("ema_unet") else "raw",
                "step": int(ck.get("step", 0)), "sha256": _sha256(path)[:16]}
    for m in (te, un):
        m.eval()
        m.requires_grad_(False)
    return te, un, info


def tokenizer(model_dir: str) -> ClipTokenizer:
    return ClipTokenizer(os.path.join(model_dir, "tokenizer"))


def scheduler(model_dir: str) -> DDIM:
    return DDIM.from_file(os.path.join(model_dir, "scheduler", "scheduler_config.json"))
