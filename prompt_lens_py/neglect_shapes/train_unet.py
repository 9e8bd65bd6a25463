"""Stage 2: train the UNet on this world, conditioned on the frozen, contrastively pretrained text encoder.

    # after prompt_lens_py.neglect_shapes.pretrain_text:
    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 python3 -m prompt_lens_py.neglect_shapes.train_unet --steps 30000   # a fresh run
    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 python3 -m prompt_lens_py.neglect_shapes.train_unet --resume        # continue it

The recipe both embedded models share (prompt_lens_py.training.recipe), with SD's conditioning: epsilon
prediction, DDPM linear betas (T = 1000), min-SNR weighting (gamma 5), AdamW (lr 1e-3, weight decay 0.01 on
matrices), gradient clipping at 1.0, warm-up then cosine decay to --lr-min over --steps, batch 32, caption dropped
to "" with probability 0.1, EMA 0.999 of the weights (the exported ones). The text encoder is frozen
(models/neglect-shapes/train/text-encoder-fp16.pt), so a caption's hidden states are computed once and cached.

Grounding: TokenCompose's token and pixel terms (prompt_lens_py.training.grounding) on one-object scenes with a clean
caption only, standing in for what SD's scale gives it (word maps that localise). Two-object scenes never get
a grounding loss: nothing teaches the model to keep two objects' maps apart, as nothing teaches SD.

Checkpoint: `--ckpt` (default models/neglect-shapes/train/weights-fp16.pt), weights only, fp16: config, step,
frozen text encoder, raw and EMA UNet, the run's arguments; written atomically (temporary file, then rename) every --ckpt-min
minutes, on SIGTERM/SIGINT and at the end. `--resume` continues from it: same arguments (those stored), the
step count, the learning-rate schedule and the EMA; batch i is always rng([seed, i]), so the data continue
too. The optimizer state is not stored, so Adam restarts: the learning rate is ramped up again over
--rewarm steps (100) on top of the schedule. Loss and step time go to stdout (the log).
"""
from __future__ import annotations

import argparse
import copy
import os
import signal
import time

import numpy as np

from prompt_lens_py.neglect_shapes import common as nc  # before torch: one thread
import torch

from prompt_lens_py.neglect_shapes import world
from prompt_lens_py.sd import count_params
from prompt_lens_py.sd.text_encoder import CLIPTextModel
from prompt_lens_py.tiny_shapes.model import TinyUNetConfig, build_unet, configs_from_dict, configs_to_dict
from prompt_lens_py.training.grounding import denoising_loss
from prompt_lens_py.training.output import Logger, atomic_save, half_state
from prompt_lens_py.training.recipe import adamw, alphas_cumprod, ema_update, lr_at, min_snr_weights

# arguments taken from the command line even when resuming; every other one comes from the checkpoint
RUNTIME_ARGS = ("resume", "ckpt", "ckpt_min", "max_steps", "snapshot_every", "snapshot_dir", "log", "rewarm")


def parse():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=30000, help="length of the schedule (total steps)")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--lr-min", type=float, default=5e-5)
    ap.add_argument("--warmup", type=int, default=300)
    ap.add_argument("--wd", type=float, default=0.01)
    ap.add_argument("--ema", type=float, default=0.999)
    ap.add_argument("--min-snr", type=float, default=5.0)
    ap.add_argument("--cfg-drop", type=float, default=0.1)
    ap.add_argument("--ground-weight", type=float, default=0.02, help="token grounding, one-object scenes only (0: off)")
    ap.add_argument("--pixel-weight", type=float, default=0.01, help="pixel grounding, one-object scenes only (0: off)")
    ap.add_argument("--channels", default="32,64")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--text", default=nc.TEXT_WEIGHTS, help="pretrained text encoder (fresh runs)")
    ap.add_argument("--ckpt", default=nc.WEIGHTS)
    ap.add_argument("--resume", action="store_true", help="continue from --ckpt with its stored arguments")
    ap.add_argument("--rewarm", type=int, default=100, help="after a resume, ramp the learning rate up over N steps")
    ap.add_argument("--ckpt-min", type=float, default=10.0)
    ap.add_argument("--max-steps", type=int, default=None, help="stop after this step (default: --steps)")
    ap.add_argument("--snapshot-every", type=int, default=5000, help="also keep weights at every N steps (0: never)")
    ap.add_argument("--snapshot-dir", default=os.path.join(nc.TRAIN_DIR, "snapshots"))
    ap.add_argument("--log", default=None, help="also append the log to this file (it always goes to stdout)")
    return ap.parse_args()


def grounding_positions(ids: np.ndarray, scene: dict, colour_ids: set, shape_ids: set):
    """[(object 0, colour position), (object 0, shape position)] for a clean one-object caption, else []."""
    if len(scene["objects"]) != 1 or scene["noise"]:
        return []
    pos = [(0, p) for p, t in enumerate(ids) if t in colour_ids] + [(0, p) for p, t in enumerate(ids) if t in shape_ids]
    return pos if len(pos) == 2 else []


def main():
    a = parse()
    log = Logger(a.log)
    tok = nc.tokenizer()
    ck = None
    if a.resume:
        ck = torch.load(a.ckpt, map_location="cpu")
        stored = dict(ck["args"])
        for k in RUNTIME_ARGS:
            stored[k] = getattr(a, k)
        a = argparse.Namespace(**stored)
        tc, uc = configs_from_dict(ck["config"])
        text_sd = ck["text_encoder"]
    else:
        tck = torch.load(a.text, map_location="cpu")
        tc, _ = configs_from_dict(tck["config"])
        uc = TinyUNetConfig(sample_size=world.SIZE, block_out_channels=tuple(int(c) for c in a.channels.split(",")))
        text_sd = tck["text_encoder"]
    torch.manual_seed(a.seed)
    te = CLIPTextModel(tc)
    te.load_state_dict({k: v.float() for k, v in text_sd.items()})
    te.eval().requires_grad_(False)
    un = build_unet(uc)
    ema = copy.deepcopy(un).eval().requires_grad_(False)
    step = 0
    if ck is not None:
        un.load_state_dict({k: v.float() for k, v in ck["unet"].items()})
        ema.load_state_dict({k: v.float() for k, v in ck["ema_unet"].items()})
        step = int(ck["step"])
    resumed_at = step if ck is not None else None
    trained_s = float(ck.get("train_seconds", 0.0)) if ck is not None else 0.0
    params = list(un.parameters())
    opt = adamw(params, a.lr, a.wd)
    max_steps = a.max_steps or a.steps
    log(f"pid {os.getpid()} unet params {count_params(un)} text params {count_params(te)} (frozen) start step {step} "
        f"schedule {a.steps} stop at {max_steps} args {vars(a)}")

    ac = alphas_cumprod()
    w_t = min_snr_weights(ac, a.min_snr)
    colour_ids = {tok.encoder[c + "</w>"] for c in world.COLOURS}
    shape_ids = {tok.encoder[s + "</w>"] for s in world.SHAPES}
    grounded = a.ground_weight > 0 or a.pixel_weight > 0
    cache: dict[str, torch.Tensor] = {}

    def encode(captions: list[str]) -> torch.Tensor:
        missing = sorted({c for c in captions if c not in cache})
        if missing:
            with torch.no_grad():
                h = te(torch.from_numpy(tok.batch(missing)))[0]
            cache.update(zip(missing, h))
        return torch.stack([cache[c] for c in captions])

    def save(path: str) -> None:
        atomic_save({
            "format": "neglect-shapes weights (fp16, no optimizer state)",
            "config": configs_to_dict(tc, uc),
            "step": step,
            "text_encoder": half_state(te.state_dict()),
            "unet": half_state(un.state_dict()),
            "ema_unet": half_state(ema.state_dict()),
            "args": vars(a),
            "train_seconds": trained_s,
        }, path)

    stop = {"flag": False}

    def on_signal(signum, frame):
        stop["flag"] = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    un.train()
    last_ck = time.time()
    t_log = time.time()
    acc = {"mse": 0.0, "token": 0.0, "pixel": 0.0, "data": 0.0, "n": 0, "grounded": 0}
    while step < max_steps and not stop["flag"]:
        t0 = time.time()
        rng = np.random.default_rng([a.seed, step])
        imgs, caps, made = world.make_batch(rng, a.batch)
        drop = rng.random(a.batch) < a.cfg_drop
        caps = ["" if d else c for c, d in zip(caps, drop)]
        ids = tok.batch(caps)
        positions = [[] if drop[b] else grounding_positions(ids[b], made[b], colour_ids, shape_ids) for b in range(a.batch)]
        ctx = encode(caps)
        x0 = torch.from_numpy(imgs)
        g = torch.Generator().manual_seed(a.seed * 1_000_003 + step)
        t = torch.randint(0, 1000, (a.batch,), generator=g)
        noise = torch.randn(x0.shape, generator=g)
        acc["data"] += time.time() - t0
        a_t = ac[t][:, None, None, None]
        xt = a_t.sqrt() * x0 + (1 - a_t).sqrt() * noise
        lr = lr_at(step, a)
        if resumed_at is not None and step - resumed_at < a.rewarm:
            lr *= (step - resumed_at + 1) / a.rewarm
        for gr in opt.param_groups:
            gr["lr"] = lr
        any_grounded = grounded and any(positions)
        coverage = [s["coverage"] for s in made] if any_grounded else None
        loss, l_tok, l_pix, mse = denoising_loss(un, xt, t, ctx, noise, w_t, coverage, positions, a.ground_weight, a.pixel_weight, any_grounded)
        if any_grounded:
            acc["token"] += float(l_tok)
            acc["pixel"] += float(l_pix)
            acc["grounded"] += sum(1 for p in positions if p)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        step += 1
        ema_update(list(ema.parameters()), params, step, a.ema)
        acc["mse"] += mse
        acc["n"] += 1
        trained_s += time.time() - t0
        if step % 50 == 0:
            n = acc["n"]
            log(f"step {step} mse {acc['mse'] / n:.4f} token {acc['token'] / n:.4f} pixel {acc['pixel'] / n:.4f} "
                f"lr {lr:.2e} {(time.time() - t_log) / n:.3f}s/step (data {acc['data'] / n:.3f}s) "
                f"grounded {acc['grounded'] / n:.1f}/batch captions cached {len(cache)}")
            acc = dict.fromkeys(acc, 0.0)
            acc["n"] = 0
            t_log = time.time()
        if a.snapshot_every and step % a.snapshot_every == 0:
            os.makedirs(a.snapshot_dir, exist_ok=True)
            save(os.path.join(a.snapshot_dir, f"step-{step}.pt"))
        if time.time() - last_ck > a.ckpt_min * 60:
            save(a.ckpt)
            last_ck = time.time()
            log(f"checkpoint step {step} -> {a.ckpt} ({os.path.getsize(a.ckpt)} bytes, {trained_s / 3600:.2f} h trained)")
    save(a.ckpt)
    log(f"{'stopped by signal' if stop['flag'] else 'finished'}: checkpoint step {step} -> {a.ckpt} "
        f"({trained_s / 3600:.2f} h trained)")


if __name__ == "__main__":
    main()
