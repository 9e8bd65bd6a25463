"""Shared pieces of the PyTorch Separate-and-Enhance reference (finetune.py, gradients.py).

Everything follows docs/method.md (shared docs) and src/engine/finetune/*.ts:

- weights: `load_model(model_dir, spec)` with spec = a weights-only file (train/weights-fp16.pt, from
  export.py --weights-out), a train.py checkpoint (checkpoints/last.pt, step-N.pt), `random:SEED`
  (export.py's seeded initialisation without --ckpt: `torch.manual_seed(SEED); build()`, i.e. what the
  ONNX files hold while the model card says "random-init") or `auto` (the first of
  train/weights-fp16.pt, the newest checkpoints/step-N.pt, checkpoints/last.pt, random:0).
  EMA weights are used when the file has them (as export.py exports them).
- tokenizer: the training code's ClipTokenizer on the model's tokenizer files.
- object tokens: `object_positions(tok, prompt, objects)`, found by position in the tokenised prompt
  (never hard-coded); by default an object is the last word of each phrase separated by "," / "and"
  ("a red circle and a blue square" -> "circle" at 3, "square" at 6).
- `AttnCapture`: swaps every `attn2` module's forward for an identical computation that keeps
  (per layer) the queries before scaling [B*heads, Nq, d], the text embedding and the
  probabilities [B*heads, Nq, T] (heads folded into the batch, batch-major, as model.py and the
  ONNX graph), with the autograd graph, and can substitute the key weight.
- the loss exactly as src/engine/finetune/lossGradients.ts: maps averaged over the 16x16 layers,
  heads kept, raw probabilities; L_sep = max_{head,x} prod/sum (0 where sum <= 1e-12);
  L_en = 1 - min_i max_{head,x} G3x3(M^i) (reflect padding, taps [e^-1, 1, e^-1]/(1+2e^-1));
  ties: the first maximum in (head, row-major pixel) order, the lowest object index for the min.
- a safetensors writer / reader (no safetensors package needed).
"""
from __future__ import annotations

import glob
import hashlib
import json
import math
import os
import re
import struct
import types

import numpy as np
import torch
import torch.nn.functional as F

from prompt_lens_py.paths import REPO_ROOT, weights_file
from prompt_lens_py.prng import Rng
from prompt_lens_py.tiny_shapes.model import build, configs_from_dict
from prompt_lens_py.tiny_shapes.tokenizer_files import ClipTokenizer

SUM_EPS = 1e-12  # src/engine/attention/scores.ts
GAUSS_SIDE = math.exp(-1) / (1 + 2 * math.exp(-1))  # 0.21194
GAUSS_CENTRE = 1 / (1 + 2 * math.exp(-1))  # 0.57612
W_SEP, W_EN = 1.0, 0.5  # official
# x0 = X0_SCALE * N(0, I). Official (latent SD): 0.18215 * N(0,I) in the UNet's latent space, where
# encoded images have ~unit std, i.e. x0 is faint noise at 0.18215 of the data's std. This model works
# in pixel space, [-1, 1], grey background = 0; the training scenes' pixel std is 0.272 (512 scenes,
# scenes.make_batch seed 0), so the same ratio gives 0.18215 * 0.272 = 0.0496 -> 0.05.
X0_SCALE = 0.05


# ------------------------------------------------------------------ weights


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
        torch.manual_seed(seed)  # export.py without --ckpt
        te, un = build()
        info = {"weights": path, "kind": "random-init (seeded, as export.py without --ckpt)", "step": 0}
    else:
        ck = torch.load(path, map_location="cpu")
        tc, uc = configs_from_dict(ck["config"])
        te, un = build(tc, uc)
        use_ema = ema and bool(ck.get("ema_unet"))
        # A frozen text encoder (neglect-shapes) has no EMA copy.
        sd_te = (ck.get("ema_text_encoder") or ck["text_encoder"]) if use_ema else ck["text_encoder"]
        sd_un = ck["ema_unet"] if use_ema else ck["unet"]
        te.load_state_dict({k: v.float() for k, v in sd_te.items()})
        un.load_state_dict({k: v.float() for k, v in sd_un.items()})
        info = {"weights": os.path.relpath(path, REPO_ROOT) if path.startswith(REPO_ROOT) else path,
                "kind": "ema" if use_ema else "raw", "step": int(ck.get("step", 0)), "sha256": _sha256(path)[:16]}
    for m in (te, un):
        m.eval()
        m.requires_grad_(False)
    return te, un, info


def tokenizer(model_dir: str) -> ClipTokenizer:
    return ClipTokenizer(os.path.join(model_dir, "tokenizer"))


def scheduler_alphas_cumprod(model_dir: str) -> torch.Tensor:
    """alphas_cumprod (float32, [T]) from scheduler/scheduler_config.json, as DDPM/DDIM and train.py."""
    with open(os.path.join(model_dir, "scheduler", "scheduler_config.json")) as f:
        cfg = json.load(f)
    T = int(cfg["num_train_timesteps"])
    b0, b1 = float(cfg["beta_start"]), float(cfg["beta_end"])
    if cfg.get("beta_schedule", "linear") == "linear":
        betas = torch.linspace(b0, b1, T, dtype=torch.float32)
    elif cfg["beta_schedule"] == "scaled_linear":
        betas = torch.linspace(b0**0.5, b1**0.5, T, dtype=torch.float32) ** 2
    else:
        raise ValueError(cfg["beta_schedule"])
    return torch.cumprod(1.0 - betas, 0)


# ------------------------------------------------------------------ prompts and object tokens


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z]+", text.lower())


def default_objects(prompt: str) -> list[str]:
    """Last word of each phrase split on ',' and the word 'and': the object nouns."""
    phrases = re.split(r",|\band\b", prompt.lower())
    objs = []
    for ph in phrases:
        w = _words(ph)
        if w:
            objs.append(w[-1])
    return objs


def object_positions(tok: ClipTokenizer, prompt: str, objects: list[str] | None = None) -> list[list[int]]:
    """Token positions (in the padded id sequence, start token = 0) of each object word, in prompt order.

    Each object's tokens are searched left to right after the previous object's, so a repeated word
    ("a red circle and a green circle") gets its own occurrence. Raises when a word is not in the
    (truncated) prompt."""
    objects = objects if objects is not None else default_objects(prompt)
    ids = tok(prompt)
    n_real = 1 + min(len(tok.encode(prompt)), tok.max_length - 2)  # sot + words (truncated)
    out, cursor = [], 1
    for w in objects:
        sub = tok.encode(w)
        if not sub:
            raise ValueError(f"object {w!r} has no tokens")
        found = -1
        for i in range(cursor, n_real - len(sub) + 1):
            if ids[i:i + len(sub)] == sub:
                found = i
                break
        if found < 0:
            raise ValueError(f"object word {w!r} is not in prompt {prompt!r} (after token {cursor})")
        out.append(list(range(found, found + len(sub))))
        cursor = found + len(sub)
    return out


def read_pairs(text: str) -> list[tuple[str, str]]:
    """Pairs 'red circle|blue square' separated by ';' or newlines ('#' starts a comment)."""
    pairs = []
    for line in re.split(r"[;\n]", text):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = [p.strip() for p in re.split(r"\|", line)]
        if len(parts) != 2 or not all(parts):
            raise ValueError(f"a pair is 'A|B', got {line!r}")
        pairs.append((parts[0], parts[1]))
    return pairs


def pair_prompt(a: str, b: str, template: str = "a {A} and a {B}") -> str:
    return template.replace("{A}", a).replace("{B}", b)


# ------------------------------------------------------------------ noise (project PRNG)


def case_noise(seed: int, x0_scale: float, shape=(3, 32, 32)):
    """The fixed cases' noise, from the engine's PRNG (prompt_lens_py/prng.py == src/engine/random):
        r = Rng(seed); eps = r.normals(C*H*W); x0 = x0_scale * r.normals(C*H*W)   (C order, float32)
    i.e. eps is exactly the engine's initial noise for `seed`, and x0 the next C*H*W normals of the same
    generator; x0_scale * value is rounded to float32 (a float32 multiply)."""
    n = int(np.prod(shape))
    r = Rng(seed)
    eps = np.asarray(r.normals(n), np.float32).reshape(shape)
    x0 = (np.float32(x0_scale) * np.asarray(r.normals(n), np.float32)).astype(np.float32).reshape(shape)
    return torch.from_numpy(x0), torch.from_numpy(eps)


# ------------------------------------------------------------------ attention capture


def cross_attention_layers(unet) -> list[tuple[str, torch.nn.Module]]:
    """[(diffusers module path, module)] of every cross-attention (attn2), in forward order."""
    return [(n, m) for n, m in unet.named_modules() if n.endswith("attn2")]


def _capturing_forward(self, x, context=None):
    """model.Attention.forward, same operations and order, keeping the intermediates."""
    cap = self._cap
    ctx = x if context is None else context
    w_k = cap.key_override.get(self._cap_name, self.to_k.weight)
    q = self.head_to_batch_dim(self.to_q(x))
    k = self.head_to_batch_dim(F.linear(ctx, w_k))
    v = self.head_to_batch_dim(self.to_v(ctx))
    scores = torch.bmm(q, k.transpose(1, 2)) * self.scale
    probs = scores.softmax(dim=-1)
    cap.records[self._cap_name] = {"q": q, "ctx": ctx, "probs": probs, "heads": self.heads, "scale": self.scale}
    out = torch.bmm(probs, v)
    out = self.batch_to_head_dim(out)
    out = self.to_out[0](out)
    return self.to_out[1](out)


class AttnCapture:
    """with AttnCapture(unet) as cap: unet(...); cap.records[layer] = {q, ctx, probs, heads, scale}.

    cap.key_override[layer] = tensor replaces that layer's to_k weight for the forward."""

    def __init__(self, unet):
        self.layers = cross_attention_layers(unet)
        self.records: dict[str, dict] = {}
        self.key_override: dict[str, torch.Tensor] = {}

    def __enter__(self):
        for name, m in self.layers:
            m._cap = self
            m._cap_name = name
            m.forward = types.MethodType(_capturing_forward, m)
        return self

    def __exit__(self, *exc):
        for _, m in self.layers:
            del m.forward  # back to the class's forward
            del m._cap, m._cap_name
        return False

    def grid(self, name: str) -> int:
        nq = self.records[name]["probs"].shape[1]
        g = int(round(math.sqrt(nq)))
        assert g * g == nq
        return g

    def per_head(self, name: str, key: str, guidance_batch: bool = False) -> torch.Tensor:
        """records[name][key] ("probs" or "q") unfolded to [B, heads, ...]. guidance_batch: the batch is
        [unconditional; conditional] (sampler.py's classifier-free guidance order): return only the
        conditional half, the one that carries the prompt's maps."""
        r = self.records[name]
        t = r[key]
        t = t.reshape(t.shape[0] // r["heads"], r["heads"], *t.shape[1:])
        if guidance_batch:
            assert t.shape[0] % 2 == 0
            t = t[t.shape[0] // 2:]
        return t


def recompute_probs(q: torch.Tensor, ctx: torch.Tensor, w_k: torch.Tensor, heads: int, scale: float) -> torch.Tensor:
    """The layer-local forward: probs [B*heads, Nq, T] from queries q [B*heads, Nq, d] (before scaling),
    text embedding ctx [B, T, D] and key weight w_k [inner, D], with the forward's operations. With q and
    ctx detached, w_k is the only variable: the gradient the engine computes (docs/method.md section 4)."""
    k = F.linear(ctx, w_k)
    b, n, c = k.shape
    k = k.reshape(b, n, heads, c // heads).permute(0, 2, 1, 3).reshape(b * heads, n, c // heads)
    return (torch.bmm(q, k.transpose(1, 2)) * scale).softmax(dim=-1)


def local_probs(cap: "AttnCapture", layers: list[str], weights: dict[str, torch.Tensor]) -> list[torch.Tensor]:
    """[B, heads, Nq, T] per layer, recomputed from the captured (detached) queries and text embedding with
    weights[layer] as the key weight."""
    out = []
    for n in layers:
        r = cap.records[n]
        p = recompute_probs(r["q"].detach(), r["ctx"].detach(), weights[n], r["heads"], r["scale"])
        out.append(p.reshape(p.shape[0] // r["heads"], r["heads"], *p.shape[1:]))
    return out


# ------------------------------------------------------------------ maps and loss


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


# ------------------------------------------------------------------ safetensors

_DT = {torch.float32: ("F32", "<f4"), torch.float64: ("F64", "<f8"), torch.float16: ("F16", "<f2"),
       torch.int32: ("I32", "<i4"), torch.int64: ("I64", "<i8")}
_NP = {"F32": "<f4", "F64": "<f8", "F16": "<f2", "I32": "<i4", "I64": "<i8"}


def write_safetensors(path: str, tensors: dict[str, torch.Tensor], metadata: dict[str, str] | None = None) -> int:
    """8-byte little-endian header length, JSON header (dtype, shape, data_offsets; __metadata__ strings),
    raw little-endian C-order data. Tensors in the given order. Returns the file size."""
    header: dict = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    blobs, off = [], 0
    for name, t in tensors.items():
        t = t.detach().cpu().contiguous()
        code, npdt = _DT[t.dtype]
        b = t.numpy().astype(npdt, copy=False).tobytes(order="C")
        header[name] = {"dtype": code, "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    hb = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hb += b" " * ((8 - len(hb) % 8) % 8)  # pad with spaces to 8-byte alignment (as the reference writer)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("<Q", len(hb)))
        f.write(hb)
        for b in blobs:
            f.write(b)
    os.replace(path + ".tmp", path)
    return os.path.getsize(path)


def read_safetensors(path: str):
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {})
    base = 8 + n
    out = {}
    for name, h in header.items():
        a, b = h["data_offsets"]
        arr = np.frombuffer(raw[base + a:base + b], dtype=_NP[h["dtype"]]).reshape(h["shape"])
        out[name] = torch.from_numpy(arr.copy())
    return out, meta


def key_weight_name(layer: str) -> str:
    """'down_blocks.0.attentions.0.transformer_blocks.0.attn2' -> '...attn2.to_k.weight' (diffusers)."""
    return f"{layer}.to_k.weight"
