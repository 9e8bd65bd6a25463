"""Rough scene-based quality check for tiny-shapes (guides training; the official
detector is the TypeScript one).

Detector heuristic on a 32x32 RGB image in [0,1]:
  - colour mask: pixels within DIST of the colour's RGB (Euclidean) -> 4-connected
    components of >= MIN_AREA px are objects of that colour;
  - shape from the component's fill ratio of its bounding box (area / (w*h)):
    square ~1, circle ~pi/4, triangle ~1/2 (thresholds calibrated on real scenes).
Metrics (DDIM + classifier-free guidance, random seeds):
  single_colour: the named colour is found;
  single_strict: the named colour is found with the named shape and no other object;
  two_strict: both named (colour, shape) objects are found.

  python3 -m prompt_lens_py.tiny_shapes.quality [--weights FILE] [--n 64] [--steps 20] [--guidance 1.5,2,4]
  python3 -m prompt_lens_py.tiny_shapes.quality --calibrate      # detector accuracy on ground-truth scenes
"""
from __future__ import annotations

import argparse
import sys

import numpy as np
import torch

from prompt_lens_py.paths import TINY_SHAPES, weights_file
from prompt_lens_py.tiny_shapes import scenes
from prompt_lens_py.training.recipe import alphas_cumprod

DIST = 0.35
MIN_AREA = 10
SQUARE_FILL = 0.86
TRIANGLE_FILL = 0.64


def components(mask: np.ndarray) -> list[np.ndarray]:
    h, w = mask.shape
    seen = np.zeros_like(mask, bool)
    comps = []
    for y in range(h):
        for x in range(w):
            if mask[y, x] and not seen[y, x]:
                stack = [(y, x)]
                seen[y, x] = True
                pts = []
                while stack:
                    cy, cx = stack.pop()
                    pts.append((cy, cx))
                    for ny, nx in ((cy + 1, cx), (cy - 1, cx), (cy, cx + 1), (cy, cx - 1)):
                        if 0 <= ny < h and 0 <= nx < w and mask[ny, nx] and not seen[ny, nx]:
                            seen[ny, nx] = True
                            stack.append((ny, nx))
                comps.append(np.asarray(pts))
    return comps


def classify(pts: np.ndarray) -> str:
    hgt = pts[:, 0].max() - pts[:, 0].min() + 1
    wid = pts[:, 1].max() - pts[:, 1].min() + 1
    fill = len(pts) / float(hgt * wid)
    if fill >= SQUARE_FILL:
        return "square"
    if fill >= TRIANGLE_FILL:
        return "circle"
    return "triangle"


def detect(img: np.ndarray) -> list[tuple[str, str, int]]:
    """img [3,32,32] in [0,1] -> [(colour, shape, area)]."""
    pix = img.transpose(1, 2, 0)
    found = []
    for c in scenes.COLOURS:
        d = np.linalg.norm(pix - np.asarray(scenes.RGB[c])[None, None], axis=-1)
        for comp in components(d < DIST):
            if len(comp) >= MIN_AREA:
                found.append((c, classify(comp), len(comp)))
    return found


def calibrate(n: int = 500, seed: int = 1234):
    rng = np.random.default_rng(seed)
    ok_c = ok_s = tot = 0
    for _ in range(n):
        s = scenes.make_scene(rng)
        det = detect(s["image"])
        for c, sh in s["objects"]:
            tot += 1
            ok_c += any(dc == c for dc, _, _ in det)
            ok_s += any(dc == c and ds == sh for dc, ds, _ in det)
    print(f"detector on real scenes: colour {ok_c / tot:.3f} colour+shape {ok_s / tot:.3f} ({tot} objects)")


@torch.no_grad()
def evaluate(pipe, n: int = 64, steps: int = 20, guidance: float = 4.0, seed: int = 0, batch: int = 64, two: bool = True):
    rng = np.random.default_rng(seed)
    g = torch.Generator().manual_seed(seed)
    res = {}
    # single objects: cycle through all 12 (colour, shape) pairs
    pairs = [(c, s) for c in scenes.COLOURS for s in scenes.SHAPES]
    objs = [pairs[i % len(pairs)] for i in range(n)]
    prompts = [scenes.caption_for([o]) for o in objs]
    imgs = _sample(pipe, prompts, steps, guidance, g, batch)
    col = strict = shape_ok = 0
    per = {}
    for (c, s), im in zip(objs, imgs):
        det = detect(im)
        hit_c = any(dc == c for dc, _, _ in det)
        hit = any(dc == c and ds == s for dc, ds, _ in det)
        col += hit_c
        shape_ok += hit
        strict += hit and len(det) == 1
        per.setdefault(s, []).append(hit)
    res["single_colour"] = col / n
    res["single_shape"] = shape_ok / n
    res["single_strict"] = strict / n
    res["single_by_shape"] = {k: float(np.mean(v)) for k, v in per.items()}
    if two:
        objs2 = [scenes.sample_objects(rng, 2) for _ in range(n)]
        prompts2 = [scenes.caption_for(o) for o in objs2]
        imgs2 = _sample(pipe, prompts2, steps, guidance, g, batch)
        both = both_c = 0
        for o, im in zip(objs2, imgs2):
            det = detect(im)
            both += all(any(dc == c and ds == s for dc, ds, _ in det) for c, s in o)
            both_c += all(any(dc == c for dc, _, _ in det) for c, _ in o)
        res["two_colours"] = both_c / n
        res["two_strict"] = both / n
    return res


LAYERS_16 = ("down_blocks.0.attentions.0", "up_blocks.1.attentions.0", "up_blocks.1.attentions.1")


@torch.no_grad()
def localisation(pipe, n: int = 64, timesteps=(200, 400, 600, 800), seed: int = 3, multi_only: bool = False):
    """Word localisation on real scenes (teacher-forced): noise a ground-truth scene at each t,
    run the UNet with its caption, average the 16x16 cross-attention probabilities over the
    three 16x16 layers, heads and timesteps; a word is localised when the argmax of its map
    (upsampled to 32x32, nearest) falls inside its object's mask dilated by 1 px.
    Returns the rate for the shape nouns and for the colour words."""
    un, te, tok = pipe.unet, pipe.te, pipe.tok
    mods = {name: m for name, m in un.named_modules() if name.endswith("attn2") and name.rsplit(".transformer_blocks", 1)[0] in LAYERS_16}
    assert len(mods) == 3, list(mods)
    rng = np.random.default_rng(seed)
    g = torch.Generator().manual_seed(seed)
    ac = alphas_cumprod()
    probs: dict[str, torch.Tensor] = {}
    for name, m in mods.items():
        m.on_probs = lambda module, query, context, p, name=name: probs.__setitem__(name, p)
    hit = {"noun": [], "colour": []}
    for _ in range(n):
        s = scenes.make_scene(rng, n=int(rng.choice([2, 3])) if multi_only else None, template="{objs}")
        ids = tok(s["caption"])
        # positions: caption is "a c1 s1[, | and] a c2 s2 ..." -> find each object's colour and noun tokens
        words = [tok.decoder[i] for i in ids]
        pos = []
        j = 0
        for c, sh in s["objects"]:
            jc = words.index(c + "</w>", j)
            jn = words.index(sh + "</w>", jc)
            pos.append((jc, jn))
            j = jn + 1
        x0 = torch.from_numpy(s["image"] * 2 - 1)[None]
        ctx = te(torch.tensor([ids]))[0]
        acc = None
        for t in timesteps:
            a = ac[t]
            xt = a.sqrt() * x0 + (1 - a).sqrt() * torch.randn(x0.shape, generator=g)
            un(xt, torch.tensor([t]), ctx)
            maps = torch.stack([probs[name].mean(0) for name in mods]).mean(0)  # [256, 16]
            acc = maps if acc is None else acc + maps
        acc = acc.reshape(16, 16, -1)
        for k, (jc, jn) in enumerate(pos):
            mask = s["masks"][k]
            dil = mask.copy()
            dil[1:] |= mask[:-1]
            dil[:-1] |= mask[1:]
            dil[:, 1:] |= mask[:, :-1]
            dil[:, :-1] |= mask[:, 1:]
            for key, j in (("noun", jn), ("colour", jc)):
                am = int(acc[:, :, j].argmax())
                y, x = divmod(am, 16)
                # the 16x16 cell covers 2x2 pixels: inside if any of them is in the dilated mask
                hit[key].append(bool(dil[2 * y : 2 * y + 2, 2 * x : 2 * x + 2].any()))
    for m in mods.values():
        m.on_probs = None
    return {k: float(np.mean(v)) for k, v in hit.items()}


def _sample(pipe, prompts, steps, guidance, g, batch):
    out = []
    for i in range(0, len(prompts), batch):
        p = prompts[i : i + batch]
        noise = torch.randn(len(p), 3, 32, 32, generator=g)
        x = pipe.sample(p, noise, steps, guidance)
        out.extend(((x.clamp(-1, 1) + 1) / 2).cpu().numpy())
    return out


def save_grid(pipe, prompts, path, steps=20, guidance=4.0, seeds=4):
    from PIL import Image

    g = torch.Generator().manual_seed(0)
    rows = []
    for p in prompts:
        x = pipe.sample([p] * seeds, torch.randn(seeds, 3, 32, 32, generator=g), steps, guidance)
        x = ((x.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).cpu().numpy()
        rows.append(np.concatenate(list(x), axis=1))
    grid = np.concatenate(rows, axis=0)
    Image.fromarray(grid).resize((grid.shape[1] * 3, grid.shape[0] * 3), Image.NEAREST).save(path)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", default=weights_file(TINY_SHAPES))
    ap.add_argument("--n", type=int, default=64)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--guidance", default="1.5", help="comma-separated guidance scales (1.5-2 work best; 4 hurts)")
    ap.add_argument("--calibrate", action="store_true")
    ap.add_argument("--grid", default=None, help="write a PNG grid of samples here")
    a = ap.parse_args()
    torch.set_num_threads(1)
    if a.calibrate:
        calibrate()
        sys.exit(0)
    from prompt_lens_py.reference.sampler import load_pipeline

    pipe = load_pipeline(TINY_SHAPES, a.weights)
    gs = [float(v) for v in a.guidance.split(",")]
    for gscale in gs:
        print(f"guidance {gscale} steps {a.steps} n {a.n}:", evaluate(pipe, a.n, a.steps, gscale), flush=True)
    print("localisation (all scenes)", localisation(pipe, a.n))
    print("localisation (2-3 objects)", localisation(pipe, a.n, multi_only=True))
    if a.grid:
        save_grid(
            pipe,
            ["a red circle", "a green square", "a blue triangle", "a yellow circle", "a red circle and a blue square",
             "a green triangle and a yellow square", "a blue circle, a red square and a green triangle"],
            a.grid, a.steps, gs[0])
