"""Full-autograd vs layer-local gradient of the Separate-and-Enhance loss w.r.t. every attn2.to_k,
on fixed cases whose noise comes from the project's PRNG: the check of the engine's analytic gradient
(docs/method.md section 4; src/engine/finetune/{lossGradients,mapGradients,keyGradient}.ts).

  OMP_NUM_THREADS=1 /usr/bin/python3 -m prompt_lens_py.reference.gradients \
      --weights random:0 --out test/fixtures/gradients/tiny-shapes-sepen.safetensors
  OMP_NUM_THREADS=1 /usr/bin/python3 -m prompt_lens_py.reference.gradients --weights auto --no-fixture

Per case (prompt, seed, t), everything in float64 from float32 values:
- noise (noise.case_noise): r = Rng(seed) (prompt_lens_py/prng.py = src/engine/random);
  eps = r.normals(3*32*32) (exactly the engine's initial noise for `seed`), x0 = x0_scale * r.normals(3*32*32)
  (the next 3072 normals of the same generator; float32 product), both [3,32,32] in C order;
  x_t = sqrt(ab_t) * x0 + sqrt(1 - ab_t) * eps in float32, ab = cumprod(1 - linspace(1e-4, 0.02, 1000)) in
  float32 (scheduler_config.json). The fixture stores x0, eps and x_t, so nothing has to be regenerated.
- e = text encoder output (float32 forward, as the ONNX text encoder gives it) of the prompt.
- the UNet in float64; L = 1.0 L_sep + 0.5 L_en on the 16x16 layers' maps (sepen_loss.py, one sample).
(a) full: dL/dW_k by autograd through the whole UNet, for all 7 cross-attention layers.
(b) local: for each 16x16 layer l, A_l recomputed from the stored float32 queries Q_l [heads, Nq, d]
    (before scaling), e and W_k,l with W_k,l the only variable (Q_l, e, the other layers' maps fixed);
    the same numbers come from docs/method.md section 4's formula, which is checked here too
    (dS = A (dA - rowsum(dA A)), dK_h = dS^T Q_h / sqrt(d), dW_k = dK^T e). The 8x8 layers' maps are not in the
    loss, so their local gradient is 0 by definition.
A finite-difference check of (a) on the first case: (L(W + h v) - L(W - h v)) / 2h against <(a), v> for a
random unit direction v per layer (h = 1e-4, float64).

Fixture (safetensors, float32 unless noted; torch layout [inner, D] for weights and gradients):
  <layer>.to_k.weight                                  all 7 layers, the weights used
  case<c>.input_ids (I32 [16]), case<c>.timestep (I64 [1]), case<c>.x0 / .eps / .sample [3,32,32]
  case<c>.encoder_hidden_states [16,128], case<c>.out_sample [3,32,32] (float32 torch UNet output, to tell
  whether the exported ONNX still holds these weights: --check-onnx)
  case<c>.<layer>.query [heads,256,16], case<c>.<layer>.probs [heads,256,16]     16x16 layers
  case<c>.<layer>.grad_local [inner,128]                16x16 layers: (b), float64 maths on the stored float32 inputs
  case<c>.<layer>.grad_full [inner,128]                 all 7 layers: (a)
  __metadata__: "cases" (JSON: prompt, seed, t, objects' token positions, loss values, argmax positions,
  per-layer cos/ratio), "weights", "noise", "loss", "layers16".
<layer> is the diffusers module path, e.g. down_blocks.0.attentions.0.transformer_blocks.0.attn2.
`probs` is A recomputed in float64 from the stored query, encoder_hidden_states and weight (then rounded);
the engine's gradient from (query, encoder_hidden_states, to_k.weight, probs) must match grad_local to
~1e-4 of max|grad_local| (float64 maths on the same inputs give ~1e-12).
"""
from __future__ import annotations

import argparse
import copy
import json
import math
import os
import sys
import time

import torch

from prompt_lens_py.paths import FIXTURES, REPO_ROOT, TINY_SHAPES
from prompt_lens_py.reference.capture import AttnCapture, cross_attention_layers, key_weight_name, recompute_probs
from prompt_lens_py.reference.model_folder import load_model, scheduler, tokenizer
from prompt_lens_py.reference.noise import case_noise
from prompt_lens_py.reference.prompts import object_positions
from prompt_lens_py.reference.sepen_loss import GAUSS_CENTRE, GAUSS_SIDE, SUM_EPS, W_EN, W_SEP, X0_SCALE, loss_from_capture
from prompt_lens_py.safetensors import read_safetensors, write_safetensors

FIXTURE_CASES = [
    ("a red circle and a blue square", 0, 500),
    ("a green triangle and a yellow circle", 1, 250),
    ("a red circle, a green triangle and a blue square", 2, 750),
]
EXTRA_PROMPTS = [
    "a red circle and a blue square",
    "a green triangle and a yellow circle",
    "a blue triangle and a yellow square",
    "a photo of a red square and a green circle",
]


def parse(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--weights", default="auto")
    ap.add_argument("--raw", action="store_true")
    ap.add_argument("--keys", default=None, help="replace the to_k weights with these (e.g. a finetune.py keys.safetensors)")
    ap.add_argument("--check-onnx", default=None, metavar="FIXTURE",
                    help="run FIXTURE's cases through the model folder's ONNX files in onnxruntime-node and compare "
                         "encoder_hidden_states and out_sample (and, when the engine's instrumented copy of the UNet is "
                         "there, the queries and head-mean probabilities) with the fixture; tells whether the fixture "
                         "still matches the exported model; then exit")
    ap.add_argument("--x0-scale", type=float, default=X0_SCALE)
    ap.add_argument("--extra", type=int, default=9, help="extra cases for the table only (seeds 100.., t 50..950)")
    ap.add_argument("--out", default=os.path.join(FIXTURES, "gradients", "tiny-shapes-sepen.safetensors"))
    ap.add_argument("--summary", default=None, help="write the table as JSON here (default: beside --out, summary-<weights>.json)")
    ap.add_argument("--no-fixture", action="store_true")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--verify", default=None, metavar="FIXTURE",
                    help="recompute every grad_local of FIXTURE from its stored float32 inputs (query, "
                         "encoder_hidden_states, to_k.weight, probs) with an independent numpy float64 "
                         "implementation of the engine's chain, print the max errors, and exit")
    return ap.parse_args(argv)


def cos(a, b):
    na, nb = float(a.norm()), float(b.norm())
    return float((a * b).sum()) / (na * nb) if na > 0 and nb > 0 else float("nan")


def analytic_local(A, dA, Q, e, heads, scale):
    """docs/method.md section 4 by hand, one sample. A, dA [heads, Nq, T]; Q [heads, Nq, d]; e [T, D] -> dW [inner, D]."""
    dS = A * (dA - (dA * A).sum(-1, keepdim=True))
    dK = torch.cat([scale * dS[h].T @ Q[h] for h in range(heads)], dim=1)  # [T, inner]
    return dK.T @ e


class Case:
    def __init__(self, prompt, seed, t):
        self.prompt, self.seed, self.t = prompt, seed, t


def run_case(case, te, un64, un32, tok, ac, a, fd=False):
    x0, eps = case_noise(case.seed, a.x0_scale)
    ab = ac[case.t]
    x_t = (ab.sqrt() * x0 + (1 - ab).sqrt() * eps).float()
    ids = torch.tensor([tok(case.prompt)], dtype=torch.int64)
    pos = [object_positions(tok, case.prompt)]
    with torch.no_grad():
        e32 = te(ids)[0]  # [1, T, D] float32
    tt = torch.tensor([case.t], dtype=torch.int64)
    layers_all = cross_attention_layers(un64)
    mods = dict(layers_all)
    # (a) full autograd, float64
    for _, m in layers_all:
        m.to_k.weight.grad = None
        m.to_k.weight.requires_grad_(True)
    with AttnCapture(un64) as cap:
        un64(x_t.double()[None], tt, e32.double())
    L, det, l16 = loss_from_capture(cap, pos, 16)
    L.backward()
    full = {n: m.to_k.weight.grad.detach().clone() for n, m in layers_all}
    # float32 forward (what the engine's ONNX run sees): same argmax choices?
    with torch.no_grad(), AttnCapture(un32) as cap32:
        out32 = un32(x_t[None], tt, e32)[0]
    _, det32, _ = loss_from_capture(cap32, pos, 16)
    # (b) local, from the float32-rounded captured queries, e and weights, in float64
    q32 = {n: cap.records[n]["q"].detach().float() for n in l16}
    w32 = {n: mods[n].to_k.weight.detach().float() for n in layers_all_names(layers_all)}
    wvar = {n: w32[n].double().requires_grad_(True) for n in l16}
    probs = []
    for n in l16:
        r = cap.records[n]
        p = recompute_probs(q32[n].double(), e32.double(), wvar[n], r["heads"], r["scale"])
        probs.append(p.reshape(1, r["heads"], *p.shape[1:]))
    Ll, detl, _ = loss_from_capture(cap, pos, 16, l16, probs=probs)
    Ll.backward()
    local = {n: wvar[n].grad.detach().clone() for n in l16}
    # the same from docs/method.md section 4's formula (dL/dA by autograd on A as a leaf)
    leaves = [p.detach().clone().requires_grad_(True) for p in probs]
    Lh, _, _ = loss_from_capture(cap, pos, 16, l16, probs=leaves)
    Lh.backward()
    formula_err = 0.0
    for n, A in zip(l16, leaves):
        r = cap.records[n]
        h = r["heads"]
        dW = analytic_local(A.detach()[0], A.grad[0], q32[n].double().reshape(h, -1, q32[n].shape[-1]), e32.double()[0], h, r["scale"])
        formula_err = max(formula_err, float((dW - local[n]).abs().max()) / max(float(local[n].abs().max()), 1e-30))
    same_choice = all(det[0][k] == det32[0][k] == detl[0][k] for k in ("sep_at", "peak_at", "weakest"))
    res = {"prompt": case.prompt, "seed": case.seed, "t": case.t, "objects": pos[0],
           "sqrt_alpha_cumprod": float(ab.sqrt()), "sqrt_one_minus_alpha_cumprod": float((1 - ab).sqrt()),
           "loss": det[0], "loss_local_inputs": detl[0]["L"], "loss_float32_forward": det32[0]["L"],
           "same_argmax_f64_f32_local": same_choice, "formula_rel_err": formula_err, "layers": {}}
    for n, _ in layers_all:
        g = full[n]
        lg = local.get(n)
        res["layers"][n] = {"grid": cap.grid(n), "full_norm": float(g.norm()),
                            "local_norm": float(lg.norm()) if lg is not None else 0.0,
                            "cos": cos(g, lg) if lg is not None else None,
                            "ratio": float(lg.norm() / g.norm()) if lg is not None else 0.0}
    cat_f16 = torch.cat([full[n].flatten() for n in l16])
    cat_l16 = torch.cat([local[n].flatten() for n in l16])
    cat_fall = torch.cat([full[n].flatten() for n, _ in layers_all])
    cat_lall = torch.cat([(local[n] if n in local else torch.zeros_like(full[n])).flatten() for n, _ in layers_all])
    res["all16"] = {"cos": cos(cat_f16, cat_l16), "ratio": float(cat_l16.norm() / cat_f16.norm())}
    res["all"] = {"cos": cos(cat_fall, cat_lall), "ratio": float(cat_lall.norm() / cat_fall.norm())}
    if fd:
        res["finite_differences"] = finite_differences(un64, layers_all, full, x_t, tt, e32, pos)
    tensors = {"x0": x0, "eps": eps, "x_t": x_t, "out_sample": out32, "ids": ids[0].int(), "e": e32[0], "q": q32, "probs": probs,
               "local": local, "full": full, "l16": l16, "heads": {n: cap.records[n]["heads"] for n in l16}}
    for _, m in layers_all:
        m.to_k.weight.requires_grad_(False)
    return res, tensors


def layers_all_names(layers_all):
    return [n for n, _ in layers_all]


def finite_differences(un64, layers_all, full, x_t, tt, e32, pos, h=1e-4):
    out = {}
    g = torch.Generator().manual_seed(7)

    def loss():
        with torch.no_grad(), AttnCapture(un64) as cap:
            un64(x_t.double()[None], tt, e32.double())
        return float(loss_from_capture(cap, pos, 16)[0])

    for n, m in layers_all:
        w = m.to_k.weight
        v = torch.randn(w.shape, generator=g, dtype=torch.float64)
        v /= v.norm()
        w0 = w.detach().clone()
        with torch.no_grad():
            w.copy_(w0 + h * v)
            lp = loss()
            w.copy_(w0 - h * v)
            lm = loss()
            w.copy_(w0)
        fdv = (lp - lm) / (2 * h)
        an = float((full[n] * v).sum())
        out[n] = {"fd": fdv, "autograd": an, "rel_err": abs(fdv - an) / max(abs(an), 1e-30)}
    return out


def short(n):
    return n.replace(".transformer_blocks.0.attn2", "")


def print_table(results, title):
    names = list(results[0]["layers"].keys())
    print(f"\n{title}")
    print(f"{'layer':28s} grid  cos(full,local) mean [min..max]   |local|/|full| mean [min..max]   |full| mean")
    for n in names:
        rows = [r["layers"][n] for r in results]
        fn = sum(r["full_norm"] for r in rows) / len(rows)
        if rows[0]["cos"] is None:
            print(f"{short(n):28s} {rows[0]['grid']:2d}    (not in the loss: local = 0)                                    {fn:.3e}")
            continue
        cs = [r["cos"] for r in rows]
        rs = [r["ratio"] for r in rows]
        print(f"{short(n):28s} {rows[0]['grid']:2d}    {sum(cs) / len(cs):+.4f} [{min(cs):+.4f}..{max(cs):+.4f}]      "
              f"{sum(rs) / len(rs):.4f} [{min(rs):.4f}..{max(rs):.4f}]       {fn:.3e}")
    for key, label in (("all16", "16x16 layers together"), ("all", "all 7 layers together")):
        cs = [r[key]["cos"] for r in results]
        rs = [r[key]["ratio"] for r in results]
        print(f"{label:28s}       {sum(cs) / len(cs):+.4f} [{min(cs):+.4f}..{max(cs):+.4f}]      "
              f"{sum(rs) / len(rs):.4f} [{min(rs):.4f}..{max(rs):.4f}]")


def _smooth_matrix(n):
    """1-D 3-tap Gaussian with reflect padding as an n x n matrix (its transpose is the adjoint)."""
    import numpy as np

    G = np.zeros((n, n))
    for i in range(n):
        for off, w in ((-1, GAUSS_SIDE), (0, GAUSS_CENTRE), (1, GAUSS_SIDE)):
            j = i + off
            j = -j if j < 0 else (2 * (n - 1) - j if j >= n else j)
            G[i, j] += w
    return G


def verify(path):
    """numpy, float64, no autograd: maps -> dL/dM (first-max subgradients) -> dA -> dS -> dK -> dW, as
    src/engine/finetune/{mapGradients,lossGradients,keyGradient}.ts."""
    import numpy as np

    t, meta = read_safetensors(path)
    cases = json.loads(meta["cases"])
    l16 = json.loads(meta["layers16"])
    worst = 0.0
    for c, info in enumerate(cases):
        p = f"case{c}."
        e = t[p + "encoder_hidden_states"].double().numpy()
        A = [t[p + n + ".probs"].double().numpy() for n in l16]
        H, nq, T = A[0].shape
        g = int(round(math.sqrt(nq)))
        objs = info["objects"]
        K = len(objs)
        M = sum(np.stack([a[:, :, tk].mean(-1) for tk in objs], 1) for a in A) / len(A)  # [H, K, nq]
        dM = np.zeros_like(M)
        prod, ssum = M.prod(1), M.sum(1)
        ratio = np.where(ssum > SUM_EPS, prod / np.where(ssum > SUM_EPS, ssum, 1), 0).reshape(-1)
        hs, qs = divmod(int(np.argmax(ratio)), nq)
        v = M[hs, :, qs]
        for k in range(K):
            others = np.prod(np.delete(v, k))
            dM[hs, k, qs] += W_SEP * (others / v.sum() - v.prod() / v.sum() ** 2)
        G = _smooth_matrix(g)
        sm = np.einsum("ij,hkjl,ml->hkim", G, M.reshape(H, K, g, g), G).reshape(H, K, nq)
        peaks = [sm[:, k].reshape(-1).max() for k in range(K)]
        wk = int(np.argmin(peaks))
        hp, qp = divmod(int(np.argmax(sm[:, wk].reshape(-1))), nq)
        onehot = np.zeros((g, g))
        onehot[divmod(qp, g)] = -W_EN
        dM[hp, wk] += (G.T @ onehot @ G).reshape(-1)
        L = W_SEP * ratio.max() + W_EN * (1 - peaks[wk])
        lerr = abs(L - info["loss_local_inputs"])
        for n, a in zip(l16, A):
            dA = np.zeros_like(a)
            for k, tk in enumerate(objs):
                for tok in tk:
                    dA[:, :, tok] += dM[:, k] / len(A) / len(tk)
            q = t[p + n + ".query"].double().numpy()
            d = q.shape[-1]
            dS = a * (dA - (dA * a).sum(-1, keepdims=True))
            dK = np.concatenate([dS[h].T @ q[h] / math.sqrt(d) for h in range(H)], axis=1)  # [T, inner]
            dW = dK.T @ e
            ref = t[p + n + ".grad_local"].double().numpy()
            err = np.abs(dW - ref).max() / np.abs(ref).max()
            worst = max(worst, err)
            print(f"case{c} {short(n):28s} max|dW - grad_local| / max|grad_local| = {err:.2e}  (max|grad_local| {np.abs(ref).max():.3e})"
                  f"  |loss - stored| {lerr:.1e}")
    print(f"worst relative error {worst:.2e}")
    return worst


CHECK_JS = r"""
const ort = require(process.argv[2]);
const fs = require('fs');
const [fixture, dir, manifestPath] = process.argv.slice(3);
function readST(p) {
  const b = fs.readFileSync(p); const n = Number(b.readBigUInt64LE(0));
  const h = JSON.parse(b.slice(8, 8 + n).toString()); const meta = h.__metadata__; delete h.__metadata__;
  const out = {};
  for (const [k, v] of Object.entries(h)) {
    const [s, e] = v.data_offsets; const buf = b.slice(8 + n + s, 8 + n + e);
    const T = { F32: Float32Array, I32: Int32Array, I64: BigInt64Array }[v.dtype];
    out[k] = { data: new T(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length)), shape: v.shape };
  }
  return { t: out, meta };
}
const md = (a, b) => { let m = 0; for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i])); return m; };
(async () => {
  const { t, meta } = readST(fixture);
  const cases = JSON.parse(meta.cases);
  const te = await ort.InferenceSession.create(dir + '/text_encoder/model.onnx');
  const un = await ort.InferenceSession.create(dir + '/unet/model.onnx');
  const man = manifestPath ? JSON.parse(fs.readFileSync(manifestPath)) : null;
  const ui = man ? await ort.InferenceSession.create(dir + '/unet/' + man.onnx) : null;
  const res = [];
  for (let c = 0; c < cases.length; c++) {
    const p = `case${c}.`;
    const r1 = await te.run({ input_ids: new ort.Tensor('int32', t[p + 'input_ids'].data, [1, 16]) });
    const e = r1.last_hidden_state.data;
    const feeds = {
      sample: new ort.Tensor('float32', t[p + 'sample'].data, [1, 3, 32, 32]),
      timestep: new ort.Tensor('int64', t[p + 'timestep'].data, [1]),
      encoder_hidden_states: new ort.Tensor('float32', t[p + 'encoder_hidden_states'].data, [1, 16, 128]),
    };
    const r2 = await un.run(feeds);
    const row = { case: c, e: md(e, t[p + 'encoder_hidden_states'].data), out_sample: md(r2.out_sample.data, t[p + 'out_sample'].data) };
    if (ui) {
      for (const L of man.layers) {
        const w = t[L.name + '.to_k.weight']; const [inner, D] = w.shape;
        const wt = new Float32Array(inner * D);
        for (let i = 0; i < inner; i++) for (let j = 0; j < D; j++) wt[L.keyTransposed ? j * inner + i : i * D + j] = w.data[i * D + j];
        feeds[L.keyInput] = new ort.Tensor('float32', wt, L.keyShape);
      }
      const r3 = await ui.run(feeds);
      for (const L of man.layers) {
        const q = t[p + L.name + '.query']; if (!q) continue;
        const [H, nq, T] = t[p + L.name + '.probs'].shape; const pr = t[p + L.name + '.probs'].data;
        let cmp = pr;
        if (!man.perHead) { cmp = new Float32Array(nq * T); for (let h = 0; h < H; h++) for (let i = 0; i < nq * T; i++) cmp[i] += pr[h * nq * T + i] / H; }
        row[L.name + '.query'] = md(r3[L.queryOutput].data, q.data);
        row[L.name + '.probs'] = md(r3[L.probsOutput].data, cmp);
      }
    }
    res.push(row);
  }
  console.log(JSON.stringify(res));
})().catch((err) => { console.error(err); process.exit(2); });
"""


def check_onnx(fixture: str, tol: float = 1e-4) -> bool:
    """onnxruntime-node on the model folder's ONNX files vs the fixture (see --check-onnx)."""
    import glob
    import subprocess
    import tempfile

    ort_path = os.path.join(REPO_ROOT, "node_modules", "onnxruntime-node")
    manifests = sorted(glob.glob(os.path.join(TINY_SHAPES, "unet", "model.prompt-lens-*.json")), key=os.path.getmtime)
    manifests = [m for m in manifests if os.path.getmtime(m) >= os.path.getmtime(os.path.join(TINY_SHAPES, "unet", "model.onnx"))
                 and json.load(open(m)).get("source") == "model.onnx"]
    with tempfile.TemporaryDirectory() as tmp:
        js = os.path.join(tmp, "check.js")
        with open(js, "w") as f:
            f.write(CHECK_JS)
        args = ["node", js, ort_path, os.path.abspath(fixture), TINY_SHAPES] + (manifests[-1:] if manifests else [])
        r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode != 0:
        print(r.stderr[-2000:])
        return False
    rows = json.loads(r.stdout)
    ok = True
    print("onnxruntime-node vs fixture, max abs difference"
          + (f" (instrumented copy {os.path.basename(manifests[-1])})" if manifests else " (no instrumented copy: out_sample and e only)"))
    for row in rows:
        c = row.pop("case")
        ok &= all(v < tol for v in row.values())
        print(f"  case{c}: " + "  ".join(f"{short(k)} {v:.1e}" for k, v in row.items()))
    print("fixture matches the exported model" if ok else f"MISMATCH above {tol}: the fixture was made with other weights than the ONNX files")
    return ok


def main(a):
    if a.verify:
        sys.exit(0 if verify(a.verify) < 1e-4 else 1)
    if a.check_onnx:
        sys.exit(0 if check_onnx(a.check_onnx) else 1)
    torch.set_num_threads(a.threads)
    t0 = time.time()
    te, un32, info = load_model(TINY_SHAPES, a.weights, ema=not a.raw)
    if a.keys:
        keys, kmeta = read_safetensors(a.keys)
        with torch.no_grad():
            for n, m in cross_attention_layers(un32):
                m.to_k.weight.copy_(keys[key_weight_name(n)].float())
        info["keys"] = a.keys
    un64 = copy.deepcopy(un32).double()
    # model.timestep_embedding returns float32: feed the float64 copy's time MLP in float64
    un64.time_embedding.register_forward_pre_hook(lambda mod, inp: tuple(x.double() for x in inp))
    tok = tokenizer(TINY_SHAPES)
    ac = scheduler(TINY_SHAPES).alphas_cumprod
    cases = [Case(*c) for c in FIXTURE_CASES]
    ts = torch.linspace(50, 950, max(a.extra, 1)).round().long().tolist() if a.extra else []
    extra = [Case(EXTRA_PROMPTS[i % len(EXTRA_PROMPTS)], 100 + i, ts[i]) for i in range(a.extra)]
    results, tensors = [], []
    for i, c in enumerate(cases + extra):
        r, tz = run_case(c, te, un64, un32, tok, ac, a, fd=(i == 0))
        results.append(r)
        if i < len(cases):
            tensors.append(tz)
    print(f"weights {info}   x0_scale {a.x0_scale}   cases {len(results)} ({len(cases)} in the fixture)   {time.time() - t0:.1f}s")
    for r in results:
        l = r["loss"]
        print(f"  {r['prompt']!r:52s} seed {r['seed']:3d} t {r['t']:3d}  L {l['L']:.5f} sep {l['L_sep']:.5f} en {l['L_en']:.5f}"
              f"  cos16 {r['all16']['cos']:+.4f} cos_all {r['all']['cos']:+.4f}  same argmax f64/f32/local {r['same_argmax_f64_f32_local']}"
              f"  formula rel err {r['formula_rel_err']:.1e}")
    fdr = results[0]["finite_differences"]
    print("finite differences (case 0, float64, h 1e-4): max rel err "
          f"{max(v['rel_err'] for v in fdr.values()):.2e}  ("
          + ", ".join(f"{short(n)} {v['rel_err']:.1e}" for n, v in fdr.items()) + ")")
    print_table(results, f"all {len(results)} cases")
    print_table(results[:len(cases)], f"the {len(cases)} fixture cases")
    summary = {"weights": info, "x0_scale": a.x0_scale, "cases": results}
    spath = a.summary
    if spath is None and not a.no_fixture:
        tag = "random0" if info["weights"].startswith("random:") else f"step{info['step']}"
        spath = os.path.join(os.path.dirname(a.out), f"summary-{tag}.json")
    if spath:
        os.makedirs(os.path.dirname(os.path.abspath(spath)), exist_ok=True)
        with open(spath, "w") as f:
            json.dump(summary, f, indent=1)
        print("wrote", spath)
    if a.no_fixture:
        return
    out = {}
    mods = dict(cross_attention_layers(un32))
    for n, m in mods.items():
        out[key_weight_name(n)] = m.to_k.weight.detach().float()
    for c, tz in enumerate(tensors):
        p = f"case{c}."
        out[p + "input_ids"] = tz["ids"]
        out[p + "timestep"] = torch.tensor([cases[c].t], dtype=torch.int64)
        out[p + "x0"] = tz["x0"]
        out[p + "eps"] = tz["eps"]
        out[p + "sample"] = tz["x_t"]
        out[p + "encoder_hidden_states"] = tz["e"]
        out[p + "out_sample"] = tz["out_sample"]
        for n, q, pr in zip(tz["l16"], [tz["q"][n] for n in tz["l16"]], tz["probs"]):
            h = tz["heads"][n]
            out[p + n + ".query"] = q.reshape(h, -1, q.shape[-1]).float()
            out[p + n + ".probs"] = pr[0].detach().float()
            out[p + n + ".grad_local"] = tz["local"][n].float()
        for n in mods:
            out[p + n + ".grad_full"] = tz["full"][n].float()
    meta = {
        "source": "prompt_lens_py/reference/gradients.py",
        "weights": json.dumps(info),
        "layers16": json.dumps(tensors[0]["l16"]),
        "noise": f"r = Rng(seed) (prompt_lens_py/prng.py); eps = r.normals(3072); x0 = float32({a.x0_scale} * r.normals(3072)); "
                 "both [3,32,32] C order; sample = float32(sqrt(ab_t) x0 + sqrt(1-ab_t) eps), ab = float32 cumprod(1 - linspace(1e-4, 0.02, 1000))",
        "loss": "L = 1.0 L_sep + 0.5 L_en on M[h,k] = mean over the 16x16 layers of A_l[h, :, token_k] (heads kept); "
                "L_sep = max_{h,x} prod_k M / sum_k M; L_en = 1 - min_k max_{h,x} G3x3(M^k) (reflect, taps [e^-1,1,e^-1]/(1+2e^-1)); "
                "first maximum in (head, row-major pixel) order",
        "layout": "weights and gradients torch [inner, D]; query [heads, Nq, d] before the 1/sqrt(d) scale; probs [heads, Nq, T]",
        "cases": json.dumps(results[:len(cases)]),
    }
    size = write_safetensors(a.out, out, meta)
    back, _ = read_safetensors(a.out)
    assert all(torch.equal(back[k], v.detach().cpu()) for k, v in out.items())
    print(f"wrote {a.out} ({size} bytes, {len(out)} tensors; read back identical)")


if __name__ == "__main__":
    main(parse())
