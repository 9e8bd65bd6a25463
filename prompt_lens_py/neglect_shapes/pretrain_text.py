"""Stage 1: pretrain the text encoder contrastively (a miniature CLIP), then freeze it for the UNet.

Stable Diffusion conditions on CLIP's text encoder, trained only to match a whole caption to a whole image
(through its pooled end-token state) and kept frozen while the UNet learns. Its per-token states, which the
UNet's cross-attention reads, are never trained for themselves; CLIP reads captions roughly as bags of words
and binds attributes poorly. This stage reproduces that: tiny-shapes' CLIP-like causal text encoder
(`CLIPTextModel`) and a small CNN image tower are trained together with CLIP's symmetric contrastive
loss (learned temperature) on scenes of this world (80% single objects, 20% seen pairs, noisy captions; the
held-out pairs never appear). Equal captions in a batch are all positives (50 single-object captions
repeat often). Only the text encoder is used afterwards; the image tower is kept in the file for analysis.

    python3 -m prompt_lens_py.neglect_shapes.pretrain_text   # 1500 steps, batch 128; writes models/neglect-shapes/train/text-encoder-fp16.pt
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from prompt_lens_py.neglect_shapes import common as nc  # before torch: one thread
import torch
import torch.nn.functional as F

from prompt_lens_py.neglect_shapes import world
from prompt_lens_py.sd import count_params
from prompt_lens_py.sd.text_encoder import CLIPTextModel, TextConfig
from prompt_lens_py.tiny_shapes.model import TinyUNetConfig, configs_to_dict, text_config
from prompt_lens_py.training.output import Logger, atomic_save, half_state
from prompt_lens_py.training.recipe import adamw, lr_at


class ImageTower(torch.nn.Module):
    """A small CNN: 32x32 RGB -> an embedding of the text encoder's width."""

    def __init__(self, dim: int = 128):
        super().__init__()
        ch = (32, 64, 128)
        layers, cin = [], 3
        for c in ch:
            layers += [torch.nn.Conv2d(cin, c, 3, padding=1), torch.nn.GroupNorm(8, c), torch.nn.SiLU(),
                       torch.nn.Conv2d(c, c, 3, padding=1, stride=2), torch.nn.GroupNorm(8, c), torch.nn.SiLU()]
            cin = c
        self.body = torch.nn.Sequential(*layers)  # 32 -> 4
        self.proj = torch.nn.Linear(cin * 2, dim)

    def forward(self, x):
        h = self.body(x)
        return self.proj(torch.cat([h.mean((2, 3)), h.amax((2, 3))], 1))


class MiniClip(torch.nn.Module):
    def __init__(self, text_cfg: TextConfig):
        super().__init__()
        self.text = CLIPTextModel(text_cfg)
        self.text_projection = torch.nn.Linear(text_cfg.hidden_size, text_cfg.hidden_size, bias=False)
        self.image = ImageTower(text_cfg.hidden_size)
        self.logit_scale = torch.nn.Parameter(torch.tensor(np.log(1 / 0.07), dtype=torch.float32))

    def embed_text(self, ids):
        return F.normalize(self.text_projection(self.text(ids)[1]), dim=-1)

    def embed_image(self, x):
        return F.normalize(self.image(x), dim=-1)


def clip_loss(model: MiniClip, ids: torch.Tensor, imgs: torch.Tensor, captions: list[str]):
    t = model.embed_text(ids)
    v = model.embed_image(imgs)
    logits = model.logit_scale.exp().clamp(max=100) * v @ t.T
    same = torch.tensor([[a == b for b in captions] for a in captions], dtype=torch.float32)
    target = same / same.sum(1, keepdim=True)
    loss = 0.5 * (-(target * logits.log_softmax(1)).sum(1).mean() - (target * logits.T.log_softmax(1)).sum(1).mean())
    return loss, logits


@torch.no_grad()
def retrieval(model: MiniClip, tok, n: int = 400, seed: int = 99) -> dict:
    """Zero-shot retrieval: an image's best caption among every caption of its kind (top-1 exact)."""
    model.eval()
    single = [[(c, s)] for s in world.SHAPES for c in world.COLOURS]
    seen, held = world.pair_split()

    def pair_objs(pairs):
        return [[(c1, a), (c2, b)] for a, b in pairs for c1 in world.COLOURS for c2 in world.COLOURS if c1 != c2]

    out = {}
    rng = np.random.default_rng(seed)
    for name, cands in (("single", single), ("seen_pairs", pair_objs(seen)), ("held_out_pairs", pair_objs(held))):
        caps = [world.caption_for(o) for o in cands]
        # both orders of a pair name the same scene: either counts
        keys = [frozenset(o) for o in cands]
        temb = torch.cat([model.embed_text(torch.from_numpy(tok.batch(caps[i: i + 256]))) for i in range(0, len(caps), 256)])
        hits = 0
        for _ in range(n):
            k = int(rng.integers(len(cands)))
            s = world.make_scene(rng, objects=cands[k])
            v = model.embed_image(torch.from_numpy(s["image"][None] * 2 - 1))
            hits += keys[int((v @ temb.T).argmax())] == keys[k]
        out[name] = round(hits / n, 3)
    model.train()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--lr-min", type=float, default=2e-5)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--wd", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--eval-every", type=int, default=500)
    ap.add_argument("--out", default=nc.TEXT_WEIGHTS)
    ap.add_argument("--log", default=None, help="also append the log to this file (it always goes to stdout)")
    a = ap.parse_args()
    log = Logger(a.log)
    tok = nc.tokenizer()
    torch.manual_seed(a.seed)
    tc = text_config(vocab_size=len(tok.encoder))
    model = MiniClip(tc)
    opt = adamw(list(model.parameters()), a.lr, a.wd)
    log(f"text params {count_params(model.text)} image tower {count_params(model.image)} args {vars(a)}")
    t_log, acc, n_acc = time.time(), 0.0, 0
    for step in range(a.steps):
        rng = np.random.default_rng([a.seed, step])
        imgs, caps, _ = world.make_batch(rng, a.batch)
        ids = torch.from_numpy(tok.batch(caps))
        for g in opt.param_groups:
            g["lr"] = lr_at(step, a)
        loss, _ = clip_loss(model, ids, torch.from_numpy(imgs), caps)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        acc += float(loss)
        n_acc += 1
        if (step + 1) % 100 == 0:
            log(f"step {step + 1} loss {acc / n_acc:.4f} scale {float(model.logit_scale.exp()):.1f} "
                f"lr {opt.param_groups[0]['lr']:.2e} {(time.time() - t_log) / n_acc:.3f}s/step")
            t_log, acc, n_acc = time.time(), 0.0, 0
        if (step + 1) % a.eval_every == 0 or step + 1 == a.steps:
            log(f"retrieval at step {step + 1}: {retrieval(model, tok)}")
    atomic_save({
        "config": configs_to_dict(tc, TinyUNetConfig()),
        "text_encoder": half_state(model.text.state_dict()),
        "text_projection": half_state(model.text_projection.state_dict()),
        "image_tower": half_state(model.image.state_dict()),
        "logit_scale": float(model.logit_scale),
        "steps": a.steps,
        "args": vars(a),
    }, a.out)
    log(f"wrote {a.out}")


if __name__ == "__main__":
    main()
