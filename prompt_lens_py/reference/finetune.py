"""Separate-and-Enhance finetune of tiny-shapes with full autograd: the reference for the engine's
layer-local finetune (docs/method.md §2-§4; Bao et al., arXiv 2312.06712).

  OMP_NUM_THREADS=1 /usr/bin/python3 -m prompt_lens_py.reference.finetune \
      --weights auto --pairs "red circle|blue square;green triangle|yellow circle" \
      --steps 200 --lr 3e-5 --out /tmp/sepen [--detect 32] [--gradient local] [--norm-weight 0.5]
  OMP_NUM_THREADS=1 /usr/bin/python3 -m prompt_lens_py.reference.finetune --model models/neglect-shapes \
      --pairs "red star|blue ring" --template "a {A} and a {B}" --steps 200 --lr 3e-4 --out /tmp/sepen

--model is the model folder (default models/tiny-shapes): its weights (`--weights auto`: its train/weights-fp16.pt,
the weights its ONNX files were exported from), tokenizer and scheduler. `npm run finetune-table` runs this script as
its reference column.

What it does, per step (faithful to the official settings, without the two defects of the released code):
- trainable: only `attn2.to_k.weight` of every cross-attention layer (7 here); everything else frozen,
  text encoder included (its outputs are computed once per prompt).
- batch of --batch (4) real samples; sample b of step s trains pair (s*B + b) mod P, prompt from
  --template ("a {A} and a {B}"), the object tokens found by position (prompts.object_positions);
- no images: x0 = --x0-scale * N(0, I) (default 0.05 = 0.18215 x this model's pixel std 0.272: the
  official latent recipe's ratio to the data's std, see sepen_loss.X0_SCALE), eps ~ N(0, I),
  t ~ Uniform{0..999} per sample, x_t = sqrt(ab_t) x0 + sqrt(1 - ab_t) eps; one UNet forward per sample
  (the four samples go through one batched call);
- maps: the 16x16 cross-attention layers (down_blocks.0.attentions.0, up_blocks.1.attentions.{0,1}),
  averaged over those layers, heads kept, raw probabilities, every sample's own (conditional) maps;
- L = 1.0 L_sep + 0.5 L_en per sample (sepen_loss.py), averaged over the batch;
  optional + --norm-weight * L_norm, L_norm = mean((eps_theta(x_t,t,c_single) - eps_frozen(x_t,t,c_single))^2)
  on a single-object prompt (--single-template "a {A}", the object alternating by sample);
- AdamW (betas 0.9/0.999, eps 1e-8, weight decay 1e-2), constant --lr, grad-norm clip 1.0.
Random numbers: one torch.Generator seeded with --seed, drawn in a fixed order (per step: t for the
batch, then x0, then eps), so a run is reproducible.

Evaluation (no gradient) at step 0, every --eval-every steps and at the end, on a fixed set per pair
(--eval-samples samples, t = 50 .. 950 evenly spaced, x0/eps from a generator seeded --eval-seed):
mean L, L_sep, L_en for the training pairs and the --held-out pairs (never trained on), and the drift on
single-object prompts, mean((eps_theta - eps_frozen)^2), against the model's own error mean((eps_frozen - eps)^2).

Learning rate (measured on training checkpoints step-1000/2000/3000, 200 steps, the two default pairs,
batch 4, detector on 32 seeds per prompt): 3e-5 lowers the fixed-set L by ~3% (0.510 -> 0.495) and leaves
the detector scores unchanged within their noise (keys move by 2-6% of their norm; if SD's key elements
have a std of ~0.03-0.05, unverified, the official 8e-6 x 200 steps moves them by a similar few percent);
1e-4 lowers L by ~24% (0.510 -> 0.388, nearly all in L_en) but costs pair colour detection (0.92 -> 0.80
at step 2000, 0.69 -> 0.66 at step 3000); 3e-4 and above drive L to 0.1 .. 0.01 by putting nearly all
attention on the object tokens and break the model (at step 1000: pair colours 0.92 -> 0.44, held-out
0.88 -> 0.0-0.09). Default 3e-5.

Writes OUT/keys.safetensors (the finetuned `<layer>.attn2.to_k.weight`, diffusers names, torch layout
[inner, D], float32) and OUT/log.json (arguments, weights used, per-step losses, evaluations, timings:
ms per step on --threads threads).
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import time

import torch
import torch.nn.functional as F

from prompt_lens_py.paths import TINY_SHAPES
from prompt_lens_py.reference.capture import AttnCapture, cross_attention_layers, key_weight_name, local_probs
from prompt_lens_py.reference.model_folder import load_model, scheduler, tokenizer
from prompt_lens_py.reference.noise import noise_for_seeds
from prompt_lens_py.reference.prompts import object_positions, pair_prompt, read_pairs
from prompt_lens_py.reference.sampler import Pipeline
from prompt_lens_py.reference.sepen_loss import W_EN, W_SEP, X0_SCALE, grid_layers, loss_from_capture
from prompt_lens_py.safetensors import write_safetensors
from prompt_lens_py.tiny_shapes.quality import detect

DEFAULT_PAIRS = "red circle|blue square;green triangle|yellow circle"
DEFAULT_HELD_OUT = "blue triangle|yellow square;red square|green circle"


def parse(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=TINY_SHAPES, help="model folder (tokenizer, scheduler, train/weights-fp16.pt)")
    ap.add_argument("--weights", default="auto", help="weights file, checkpoint, random:SEED or auto (model_folder.resolve_weights)")
    ap.add_argument("--raw", action="store_true", help="use the raw weights instead of the EMA")
    ap.add_argument("--pairs", default=None, help=f"'A|B;C|D' (default {DEFAULT_PAIRS!r})")
    ap.add_argument("--pairs-file", default=None, help="one 'A|B' per line ('#' comments)")
    ap.add_argument("--held-out", default=DEFAULT_HELD_OUT, help="pairs evaluated but never trained on ('' for none)")
    ap.add_argument("--template", default="a {A} and a {B}")
    ap.add_argument("--single-template", default="a {A}")
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--lr", type=float, default=3e-5, help="constant; see 'Learning rate' in the module docstring")
    ap.add_argument("--weight-decay", type=float, default=1e-2)
    ap.add_argument("--clip", type=float, default=1.0)
    ap.add_argument("--w-sep", type=float, default=W_SEP)
    ap.add_argument("--w-en", type=float, default=W_EN)
    ap.add_argument("--norm-weight", type=float, default=0.0, help="L_norm weight (official large-scale 0.5; 0 = off)")
    ap.add_argument("--x0-scale", type=float, default=X0_SCALE)
    ap.add_argument("--grid", type=int, default=16, help="query grid of the loss's layers")
    ap.add_argument("--gradient", choices=("full", "local"), default="full",
                    help="full autograd (reference), or the engine's layer-local gradient (then only the --grid layers' "
                         "keys are trained: the others get no gradient)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--eval-every", type=int, default=25)
    ap.add_argument("--eval-samples", type=int, default=8)
    ap.add_argument("--eval-seed", type=int, default=12345)
    ap.add_argument("--detect", type=int, default=0, metavar="N",
                    help="before and after: sample N images per prompt (reference DDIM sampler, 20 steps, guidance 4, "
                         "noise from the project PRNG, seeds 1000..1000+N-1) for every pair prompt and every single-object "
                         "prompt, and score them with tiny_shapes/quality.py's colour/shape detector")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default="/tmp/prompt-lens-sepen")
    ap.add_argument("--quiet", action="store_true")
    return ap.parse_args(argv)


class Prompts:
    """Text embeddings (frozen encoder) and object positions, cached per prompt."""

    def __init__(self, te, tok):
        self.te, self.tok, self.cache = te, tok, {}

    def get(self, prompt):
        if prompt not in self.cache:
            ids = torch.tensor([self.tok(prompt)], dtype=torch.int64)
            with torch.no_grad():
                e = self.te(ids)[0][0]
            self.cache[prompt] = (e, object_positions(self.tok, prompt))
        return self.cache[prompt]


def trainable_keys(un, only: list[str] | None = None):
    layers = [(n, m) for n, m in cross_attention_layers(un) if only is None or n in only]
    params = []
    for _, m in layers:
        m.to_k.weight.requires_grad_(True)
        params.append(m.to_k.weight)
    return layers, params


def forward_loss(un, prompts: Prompts, texts, x_t, t, a, local: bool = False):
    """Batch loss. local=False: full autograd through the UNet. local=True: the engine's layer-local
    gradient, the UNet run without a graph and the loss's maps recomputed from each layer's captured
    queries and text embedding with that layer's to_k weight as the only variable."""
    es, pos = zip(*(prompts.get(p) for p in texts))
    if local:
        with torch.no_grad(), AttnCapture(un) as cap:
            out = un(x_t, t, torch.stack(es))
        layers = grid_layers(cap, a.grid)
        mods = dict(cross_attention_layers(un))
        probs = local_probs(cap, layers, {n: mods[n].to_k.weight for n in layers})
        loss, det, _ = loss_from_capture(cap, list(pos), a.grid, layers, a.w_sep, a.w_en, probs)
    else:
        with AttnCapture(un) as cap:
            out = un(x_t, t, torch.stack(es))
        loss, det, _ = loss_from_capture(cap, list(pos), a.grid, None, a.w_sep, a.w_en)
    return loss, det, out


@torch.no_grad()
def evaluate(un, frozen, prompts, pair_sets, ac, a):
    g = torch.Generator().manual_seed(a.eval_seed)
    n = a.eval_samples
    ts = torch.linspace(50, 950, n).round().long()
    x0 = a.x0_scale * torch.randn(n, 3, 32, 32, generator=g)
    eps = torch.randn(n, 3, 32, 32, generator=g)
    ab = ac[ts][:, None, None, None]
    x_t = ab.sqrt() * x0 + (1 - ab).sqrt() * eps
    res = {}
    for label, pairs in pair_sets.items():
        if not pairs:
            continue
        Ls, Lsep, Len, drift, err = [], [], [], [], []
        for A, Bo in pairs:
            texts = [pair_prompt(A, Bo, a.template)] * n
            loss, det, _ = forward_loss(un, prompts, texts, x_t, ts, a)
            Ls.append(float(loss))
            Lsep.append(sum(d["L_sep"] for d in det) / n)
            Len.append(sum(d["L_en"] for d in det) / n)
            for obj in (A, Bo):
                e = prompts.get(a.single_template.replace("{A}", obj))[0][None].expand(n, -1, -1)
                o1 = un(x_t, ts, e)
                o0 = frozen(x_t, ts, e)
                drift.append(float(F.mse_loss(o1, o0)))
                err.append(float(F.mse_loss(o0, eps)))
        res[label] = {"L": sum(Ls) / len(Ls), "L_sep": sum(Lsep) / len(Lsep), "L_en": sum(Len) / len(Len),
                      "per_pair_L": Ls, "single_drift": sum(drift) / len(drift), "single_err_frozen": sum(err) / len(err)}
    return res


@torch.no_grad()
def detection(te, un, tok, pairs, held, a):
    """Detector success (the paper's metric, on this model's shapes): a pair image succeeds when both named
    (colour, shape) objects are found ("both"), or both colours ("colours"); a single-object image when its
    (colour, shape) is found."""
    pipe = Pipeline(te, un, tok, scheduler(a.model))
    noise = noise_for_seeds(range(1000, 1000 + a.detect))

    def parse_obj(o):
        colour, shape = o.split()[-2:]
        return colour, shape

    def imgs(prompt):
        x = pipe.sample(prompt, noise, 20, 4.0)
        return ((x.clamp(-1, 1) + 1) / 2).numpy()

    res = {}
    for label, ps in (("train", pairs), ("held_out", held)):
        if not ps:
            continue
        both = cols = singles = n_single = 0
        for A, Bo in ps:
            objs = [parse_obj(A), parse_obj(Bo)]
            for im in imgs(pair_prompt(A, Bo, a.template)):
                det = detect(im)
                both += all(any(dc == c and ds == sh for dc, ds, _ in det) for c, sh in objs)
                cols += all(any(dc == c for dc, _, _ in det) for c, _ in objs)
            for obj, (c, sh) in zip((A, Bo), objs):
                for im in imgs(a.single_template.replace("{A}", obj)):
                    singles += any(dc == c and ds == sh for dc, ds, _ in detect(im))
                    n_single += 1
        n = a.detect * len(ps)
        res[label] = {"pair_both": both / n, "pair_colours": cols / n, "single": singles / n_single}
    return res


def run(a):
    torch.set_num_threads(a.threads)
    torch.set_flush_denormal(True)  # Debian's torch 1.13 runs this model 10-20x slower on denormal floats
    te, un, info = load_model(a.model, a.weights, ema=not a.raw)
    tok = tokenizer(a.model)
    prompts = Prompts(te, tok)
    text = a.pairs if a.pairs is not None else DEFAULT_PAIRS
    if a.pairs_file:
        with open(a.pairs_file) as f:
            text = f.read()
    pairs = read_pairs(text)
    held = read_pairs(a.held_out) if a.held_out else []
    train_set = {frozenset(p) for p in pairs}
    overlap = [p for p in held if frozenset(p) in train_set]
    if overlap:
        raise SystemExit(f"held-out pairs {overlap} are also training pairs")
    for A, Bo in pairs + held:  # fail early on a prompt whose objects cannot be found
        prompts.get(pair_prompt(A, Bo, a.template))
    ac = scheduler(a.model).alphas_cumprod
    frozen = copy.deepcopy(un).eval().requires_grad_(False)
    if a.gradient == "local" and a.norm_weight > 0:
        raise SystemExit("--norm-weight needs --gradient full (L_norm needs a full backward pass)")
    only = None
    if a.gradient == "local":
        with torch.no_grad(), AttnCapture(un) as cap:
            e0 = prompts.get(pair_prompt(*pairs[0], a.template))[0][None]
            un(torch.zeros(1, 3, 32, 32), torch.zeros(1, dtype=torch.long), e0)
        only = grid_layers(cap, a.grid)
    layers, params = trainable_keys(un, only)
    n_train = sum(p.numel() for p in un.parameters() if p.requires_grad)
    opt = torch.optim.AdamW(params, lr=a.lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=a.weight_decay)
    g = torch.Generator().manual_seed(a.seed)
    B = a.batch
    log = {"args": vars(a), "weights": info, "trainable_params": n_train,
           "layers": [n for n, _ in layers], "pairs": pairs, "held_out": held, "steps": [], "eval": []}
    say = (lambda *s: None) if a.quiet else (lambda *s: print(*s, flush=True))
    say(f"weights {info}  trainable {n_train} (attn2.to_k x {len(layers)})  pairs {pairs}  held-out {held}")

    def do_eval(step):
        t0 = time.time()
        r = evaluate(un, frozen, prompts, {"train": pairs, "held_out": held}, ac, a)
        r["step"] = step
        log["eval"].append(r)
        s = "  ".join(f"{k}: L {v['L']:.4f} sep {v['L_sep']:.4f} en {v['L_en']:.4f} drift {v['single_drift']:.2e}"
                      for k, v in r.items() if k != "step")
        say(f"eval step {step:4d}  {s}  ({time.time() - t0:.1f}s)")

    if a.detect:
        t0 = time.time()
        log["detect_before"] = detection(te, un, tok, pairs, held, a)
        say(f"detector before: {json.dumps(log['detect_before'])} ({time.time() - t0:.0f}s)")
    do_eval(0)
    times = []
    for step in range(a.steps):
        t0 = time.perf_counter()
        pb = [pairs[(step * B + b) % len(pairs)] for b in range(B)]
        texts = [pair_prompt(A, Bo, a.template) for A, Bo in pb]
        t = torch.randint(0, len(ac), (B,), generator=g)
        x0 = a.x0_scale * torch.randn(B, 3, 32, 32, generator=g)
        eps = torch.randn(B, 3, 32, 32, generator=g)
        ab = ac[t][:, None, None, None]
        x_t = ab.sqrt() * x0 + (1 - ab).sqrt() * eps
        loss, det, _ = forward_loss(un, prompts, texts, x_t, t, a, local=a.gradient == "local")
        total = loss
        l_norm = None
        if a.norm_weight > 0:
            singles = [a.single_template.replace("{A}", pb[b][(step + b) % 2]) for b in range(B)]
            es = torch.stack([prompts.get(s)[0] for s in singles])
            with torch.no_grad():
                ref = frozen(x_t, t, es)
            l_norm = F.mse_loss(un(x_t, t, es), ref)
            total = total + a.norm_weight * l_norm
        opt.zero_grad(set_to_none=True)
        total.backward()
        gn = float(torch.nn.utils.clip_grad_norm_(params, a.clip))
        opt.step()
        dt = (time.perf_counter() - t0) * 1000
        times.append(dt)
        rec = {"step": step + 1, "L": float(loss), "L_sep": sum(d["L_sep"] for d in det) / B,
               "L_en": sum(d["L_en"] for d in det) / B, "grad_norm": gn, "t": t.tolist(), "ms": round(dt, 2)}
        if l_norm is not None:
            rec["L_norm"] = float(l_norm)
        log["steps"].append(rec)
        if (step + 1) % 10 == 0 or step == 0:
            say(f"step {step + 1:4d} L {rec['L']:.4f} sep {rec['L_sep']:.4f} en {rec['L_en']:.4f}"
                + (f" norm {rec['L_norm']:.2e}" if l_norm is not None else "") + f" |g| {gn:.3e} {dt:.0f} ms")
        if a.eval_every and (step + 1) % a.eval_every == 0 and step + 1 != a.steps:
            do_eval(step + 1)
    do_eval(a.steps)
    steady = times[min(5, len(times) - 1):] if times else [0.0]
    log["timing"] = {"threads": a.threads, "batch": B, "ms_per_step_median": statistics.median(steady),
                     "ms_per_step_mean": statistics.mean(steady), "ms_per_step_min": min(steady),
                     "note": "wall clock per optimiser step (forward, loss, backward, clip, AdamW), first 5 steps excluded; "
                             "evaluation not included"}
    drift = {}
    for name, m in layers:
        w0 = dict(frozen.named_modules())[name].to_k.weight
        drift[name] = float((m.to_k.weight - w0).norm() / w0.norm())
    log["relative_key_change"] = drift
    if a.detect:
        t0 = time.time()
        log["detect_after"] = detection(te, un, tok, pairs, held, a)
        say(f"detector after:  {json.dumps(log['detect_after'])} ({time.time() - t0:.0f}s)")
    os.makedirs(a.out, exist_ok=True)
    keys = {key_weight_name(n): m.to_k.weight.detach().float() for n, m in layers}
    meta = {"format": "pt", "layout": "torch [inner, text]", "source": "prompt_lens_py/reference/finetune.py",
            "weights": json.dumps(info), "pairs": json.dumps(pairs), "steps": str(a.steps), "lr": repr(a.lr),
            "x0_scale": repr(a.x0_scale), "norm_weight": repr(a.norm_weight), "seed": str(a.seed)}
    size = write_safetensors(os.path.join(a.out, "keys.safetensors"), keys, meta)
    with open(os.path.join(a.out, "log.json"), "w") as f:
        json.dump(log, f, indent=1)
    say(f"ms/step (batch {B}, {a.threads} thread): median {log['timing']['ms_per_step_median']:.1f} "
        f"mean {log['timing']['ms_per_step_mean']:.1f} min {log['timing']['ms_per_step_min']:.1f}")
    say("relative |W_k - W_k0| / |W_k0|: " + ", ".join(f"{n.split('.transformer')[0]} {v:.3f}" for n, v in drift.items()))
    say(f"wrote {os.path.join(a.out, 'keys.safetensors')} ({size} bytes), {os.path.join(a.out, 'log.json')}")
    return log


if __name__ == "__main__":
    run(parse())
