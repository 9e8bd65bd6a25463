"""Train tiny-shapes (text encoder + pixel-space UNet) on procedural scenes.

  OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python3 -m prompt_lens_py.tiny_shapes.train --steps 12000 --batch 32 \
      [--until 09:50] [--resume] [--resume-from weights-fp16.pt]

- epsilon prediction, DDPM linear betas 1e-4..0.02 (T=1000), min-SNR-gamma weighting (gamma 5)
- AdamW, linear warmup then cosine decay to lr_min over --steps
- classifier-free guidance: caption replaced by "" with probability --cfg-drop (0.1)
- EMA of the weights (decay 0.999 with warm-up), exported by prompt_lens_py.tiny_shapes.export
- scenes generated on the fly; batch i of a run with seed s comes from rng([s, i]), so a resumed run
  sees exactly the batches it would have seen
- checkpoints (models/tiny-shapes/checkpoints/, or --ckpt-dir): last.pt (full: weights, EMA, optimizer, step) every --ckpt-min minutes,
  plus step-N.pt snapshots (weights + EMA only) at each quality evaluation
- --resume continues from last.pt; --resume-from PATH starts from a weights-only file
  (e.g. weights-fp16.pt: fresh optimizer, step counter taken from the file)
- --ground-weight W adds W x the token grounding loss (prompt_lens_py.training.grounding): each object word's cross-attention
  map pulled onto its object's mask, so the maps the debugger shows say where the word went;
  --pixel-weight W adds TokenCompose's per-pixel term, which also raises the word's attention mass there
- --fresh-schedule with --resume-from: a new warm-up + cosine over --steps more steps (a finetune of the
  resumed weights) instead of continuing the old schedule
- runs on CUDA when available (same script), else CPU
"""
from __future__ import annotations

import argparse
import copy
import datetime as dt
import json
import os
import signal
import time

import numpy as np
import torch

from prompt_lens_py.clip_tokenizer import ClipTokenizer
from prompt_lens_py.paths import TINY_SHAPES as MODEL_DIR
from prompt_lens_py.sd import count_params
from prompt_lens_py.tiny_shapes import scenes
from prompt_lens_py.tiny_shapes.model import TinyUNetConfig, build, configs_from_dict, configs_to_dict, text_config
from prompt_lens_py.training.grounding import denoising_loss
from prompt_lens_py.training.output import Logger, atomic_save
from prompt_lens_py.training.recipe import adamw, alphas_cumprod, ema_update, lr_at, min_snr_weights

CKPT_DIR = os.path.join(MODEL_DIR, "checkpoints")


def parse():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=12000, help="length of the LR schedule")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--lr-min", type=float, default=5e-5)
    ap.add_argument("--warmup", type=int, default=300)
    ap.add_argument("--wd", type=float, default=0.01)
    ap.add_argument("--ema", type=float, default=0.999)
    ap.add_argument("--min-snr", type=float, default=5.0, help="gamma; 0 disables")
    ap.add_argument("--cfg-drop", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--until", default=None, help="stop (with a checkpoint) at this UTC time HH:MM")
    ap.add_argument("--time-schedule", action="store_true",
                    help="with --until: finish the cosine at the deadline, whatever the speed (progress by wall clock "
                         "from where the resumed checkpoint's schedule stood)")
    ap.add_argument("--max-steps", type=int, default=None, help="stop after this step (default: --steps)")
    ap.add_argument("--ckpt-min", type=float, default=5.0)
    ap.add_argument("--eval-every", type=int, default=1000, help="quality check every N steps (0: never)")
    ap.add_argument("--eval-n", type=int, default=48)
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--resume-from", default=None)
    ap.add_argument("--ckpt-dir", default=CKPT_DIR)
    ap.add_argument("--log", default=None)
    ap.add_argument("--channels", default="32,64")
    ap.add_argument("--text-layers", type=int, default=3)
    ap.add_argument("--ground-weight", type=float, default=0.0, help="weight of the token grounding loss (0: off)")
    ap.add_argument("--pixel-weight", type=float, default=0.0, help="weight of the per-pixel grounding loss (0: off)")
    ap.add_argument("--fresh-schedule", action="store_true", help="new warm-up + cosine over --steps from the resumed step")
    return ap.parse_args()


def word_positions(ids: np.ndarray, objects: list[tuple[str, str]], vocab: dict[str, int]) -> list[tuple[int, int]]:
    """The grounded words: [(object index, token position)] for each object's colour and shape word in one caption's
    ids. The k-th colour (shape) word of the caption belongs to the k-th object: captions list objects in order.
    Words cut off by truncation are left out."""
    colour_ids = {vocab[c + "</w>"] for c in scenes.COLOURS}
    shape_ids = {vocab[s + "</w>"] for s in scenes.SHAPES}
    colours = [p for p, t in enumerate(ids) if t in colour_ids]
    shapes = [p for p, t in enumerate(ids) if t in shape_ids]
    out = []
    for k in range(len(objects)):
        if k < len(colours):
            out.append((k, colours[k]))
        if k < len(shapes):
            out.append((k, shapes[k]))
    return out


def main():
    a = parse()
    os.makedirs(a.ckpt_dir, exist_ok=True)
    log = Logger(a.log or os.path.join(a.ckpt_dir, "train.log"))
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.manual_seed(a.seed)
    tok = ClipTokenizer(os.path.join(MODEL_DIR, "tokenizer"))

    step = 0
    ck = None
    if a.resume and os.path.exists(os.path.join(a.ckpt_dir, "last.pt")):
        ck = torch.load(os.path.join(a.ckpt_dir, "last.pt"), map_location="cpu")
    elif a.resume_from:
        ck = torch.load(a.resume_from, map_location="cpu")
    if ck is not None:
        tc, uc = configs_from_dict(ck["config"])
    else:
        tc = text_config(vocab_size=len(tok.encoder), num_hidden_layers=a.text_layers)
        uc = TinyUNetConfig(block_out_channels=tuple(int(c) for c in a.channels.split(",")))
    te, un = build(tc, uc)
    if ck is not None:
        te.load_state_dict({k: v.float() for k, v in ck["text_encoder"].items()})
        un.load_state_dict({k: v.float() for k, v in ck["unet"].items()})
        step = int(ck.get("step", 0))
    te.to(dev)
    un.to(dev)
    ema_te = copy.deepcopy(te).eval().requires_grad_(False)
    ema_un = copy.deepcopy(un).eval().requires_grad_(False)
    if ck is not None and ck.get("ema_unet"):
        ema_te.load_state_dict({k: v.float() for k, v in ck["ema_text_encoder"].items()})
        ema_un.load_state_dict({k: v.float() for k, v in ck["ema_unet"].items()})
    params = list(te.parameters()) + list(un.parameters())
    opt = adamw(params, a.lr, a.wd)
    rewarm = None
    if ck is not None and "optimizer" in ck:
        opt.load_state_dict(ck["optimizer"])
    elif ck is not None:
        rewarm = step
    log(f"device {dev} text params {count_params(te)} unet params {count_params(un)} start step {step} args {vars(a)}")

    ac = alphas_cumprod(dev)
    w_t = min_snr_weights(ac, a.min_snr)
    empty_ids = torch.tensor(tok(""), dtype=torch.int64)
    sched_offset = step if a.fresh_schedule else 0
    max_steps = a.max_steps or (sched_offset + a.steps)
    deadline = None
    if a.until:
        hh, mm = (int(v) for v in a.until.split(":"))
        now = dt.datetime.utcnow()
        deadline = now.replace(hour=hh, minute=mm, second=0, microsecond=0)
        if deadline < now:
            deadline += dt.timedelta(days=1)
    sched_p0 = 0.0
    if ck is not None and step > a.warmup and not a.fresh_schedule:
        old_steps = int(ck.get("args", {}).get("steps", a.steps))
        sched_p0 = min(1.0, (step - a.warmup) / max(1, old_steps - a.warmup))
        sched_p0 = float(ck.get("lr_progress", sched_p0))
    sched_t0 = time.time()
    sched_span = (deadline - dt.datetime.utcnow()).total_seconds() if deadline else None

    def progress():
        if not (a.time_schedule and deadline):
            return None
        if step - sched_offset < a.warmup:
            return None
        return min(1.0, sched_p0 + (1 - sched_p0) * (time.time() - sched_t0) / max(1.0, sched_span))

    def cur_progress():
        p = progress()
        return p if p is not None else min(1.0, max(0.0, (step - sched_offset - a.warmup) / max(1, a.steps - a.warmup)))

    def weights():
        return {
            "config": configs_to_dict(tc, uc),
            "step": step,
            "text_encoder": te.state_dict(),
            "unet": un.state_dict(),
            "ema_text_encoder": ema_te.state_dict(),
            "ema_unet": ema_un.state_dict(),
            "args": vars(a),
            "lr_progress": cur_progress(),
        }

    def save_full(path):  # what --resume needs: the weights plus the optimizer state
        atomic_save({**weights(), "optimizer": opt.state_dict()}, path)

    def save_weights(path):
        torch.save(weights(), path)

    def evaluate():
        from prompt_lens_py.reference.sampler import DDIM, Pipeline
        from prompt_lens_py.tiny_shapes.quality import evaluate as q_eval

        sched = DDIM.from_file(os.path.join(MODEL_DIR, "scheduler", "scheduler_config.json"))
        t0 = time.time()
        res = q_eval(Pipeline(ema_te, ema_un, tok, sched), n=a.eval_n, steps=20, guidance=4.0, seed=7)
        log(f"eval step {step} ema {json.dumps(res)} ({time.time() - t0:.0f}s)")
        te.train()
        un.train()

    stop = {"flag": False}

    def on_term(signum, frame):  # save a checkpoint and stop at the end of the current step
        stop["flag"] = True

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    te.train()
    un.train()
    last_ck = time.time()
    t_log = time.time()
    loss_acc = 0.0
    tok_acc = 0.0
    pix_acc = 0.0
    n_acc = 0
    data_t = 0.0
    while step < max_steps:
        if deadline and dt.datetime.utcnow() >= deadline:
            log("deadline reached")
            break
        if stop["flag"]:
            log("stop requested")
            break
        t0 = time.time()
        rng = np.random.default_rng([a.seed, step])
        imgs, caps, made = scenes.make_batch(rng, a.batch, with_scenes=True)
        ids_np = tok.batch(caps)
        ids = torch.from_numpy(ids_np)
        drop = torch.from_numpy(rng.random(a.batch) < a.cfg_drop)
        positions = [[] if drop[b] else word_positions(ids_np[b], made[b]["objects"], tok.encoder) for b in range(a.batch)]
        ids[drop] = empty_ids
        x0 = torch.from_numpy(imgs).to(dev)
        ids = ids.to(dev)
        g = torch.Generator().manual_seed(a.seed * 1_000_003 + step)
        t = torch.randint(0, 1000, (a.batch,), generator=g).to(dev)
        noise = torch.randn(x0.shape, generator=g).to(dev)
        data_t += time.time() - t0
        a_t = ac[t][:, None, None, None]
        xt = a_t.sqrt() * x0 + (1 - a_t).sqrt() * noise
        for gr in opt.param_groups:
            gr["lr"] = lr_at(step - sched_offset, a, None if a.fresh_schedule else rewarm, progress())
        ctx = te(ids)[0]
        grounded = a.ground_weight > 0 or a.pixel_weight > 0
        coverage = [s["coverage"] for s in made] if grounded else None
        loss, l_token, l_pixel, mse = denoising_loss(un, xt, t, ctx, noise, w_t, coverage, positions, a.ground_weight, a.pixel_weight, grounded)
        if grounded:
            tok_acc += float(l_token)
            pix_acc += float(l_pixel)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        step += 1
        ema_update(list(ema_te.parameters()) + list(ema_un.parameters()), params, step, a.ema)
        loss_acc += mse
        n_acc += 1
        if step % 50 == 0:
            el = time.time() - t_log
            lr = opt.param_groups[0]["lr"]
            log(f"step {step} mse {loss_acc / n_acc:.4f} token {tok_acc / n_acc:.4f} pixel {pix_acc / n_acc:.4f} wloss {float(loss):.4f} lr {lr:.2e} "
                f"{el / n_acc:.3f}s/step (data {data_t / n_acc:.3f}s)")
            loss_acc = 0.0
            tok_acc = 0.0
            pix_acc = 0.0
            n_acc = 0
            data_t = 0.0
            t_log = time.time()
        if time.time() - last_ck > a.ckpt_min * 60:
            save_full(os.path.join(a.ckpt_dir, "last.pt"))
            last_ck = time.time()
            log(f"checkpoint step {step}")
        if a.eval_every and step % a.eval_every == 0:
            save_weights(os.path.join(a.ckpt_dir, f"step-{step}.pt"))
            evaluate()
            t_log = time.time()
    save_full(os.path.join(a.ckpt_dir, "last.pt"))
    save_weights(os.path.join(a.ckpt_dir, f"step-{step}.pt"))
    log(f"saved final step {step}")


if __name__ == "__main__":
    main()
