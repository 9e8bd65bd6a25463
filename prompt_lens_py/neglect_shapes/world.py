"""The neglect-shapes world: scenes of coloured shapes whose statistics make a model neglect objects as SD does.

Deterministic given a seed, generated on the fly. What each property is for (model card, "Data"):

- 10 shapes x 5 colours; one object in 80% of scenes, two in 20%.
- A *category* is a shape (the noun, as COCO's categories are nouns for SD); only 15 of the 45 shape pairs
  (a third) ever appear together, in images or captions: the `seen` pairs, a random 3-regular graph on the
  shapes (each shape has 3 seen partners and 6 unseen ones). The other 30 are held out for evaluation
  (models/neglect-shapes/pairs.json, written by `python3 -m prompt_lens_py.neglect_shapes.world --write-pairs`).
- Zipf-like frequencies: shape k (rank order of SHAPES) has weight 1/k; colour k 1/sqrt(k). A two-object
  scene's pair is drawn among the seen pairs with weight p(a) p(b), so pairs are Zipf-like too.
- Noisy captions: 15% of two-object scenes name one object only; 3% of one-object scenes also name an absent
  second object (always forming a seen pair, so held-out pairs never appear even in text).
- One caption template with articles: "a red star", "a red star and a blue ring" (object order random).
- Two objects always differ in colour and in shape (a failure is then a missing or a wrong object, which
  the detector can tell apart).
"""
from __future__ import annotations

import json
import os
from functools import lru_cache

import numpy as np

SIZE = 32  # pixels (the size measurement is in measure_size.py and the model card)
SS = 4  # supersampling per axis
GAP = 2.0  # px between circumscribed circles (at 32 px; scaled with the size)
MARGIN = 1.0  # px from a circumscribed circle to the border (at 32 px)

# Rank order = frequency order (Zipf weight 1/rank).
SHAPES = ("circle", "square", "star", "triangle", "heart", "ring", "cross", "diamond", "crescent", "arrow")
COLOURS = ("red", "blue", "green", "yellow", "purple")
SHAPE_ZIPF = 1.0
COLOUR_ZIPF = 0.5
RGB = {
    "red": (0.90, 0.10, 0.10),
    "green": (0.10, 0.75, 0.15),
    "blue": (0.10, 0.20, 0.95),
    "yellow": (0.95, 0.90, 0.10),
    "purple": (0.78, 0.12, 0.82),  # hue midway between red and blue
}
BACKGROUND = (0.5, 0.5, 0.5)

P_TWO = 0.20  # share of two-object scenes
P_OMIT = 0.15  # two-object scenes whose caption names one object only
P_ABSENT = 0.03  # one-object scenes whose caption also names an absent object
PAIR_SEED = 18  # seed of the seen/held-out split of shape pairs (issue 18)
SEEN_DEGREE = 3  # seen partners per shape: 10 * 3 / 2 = 15 of 45 pairs

# circumscribed radius = base (px at 32 px) * SHAPE_SCALE; base range per object count
RADIUS = {1: (5.5, 8.0), 2: (5.0, 7.0)}
# about equal visual weight: thin or hollow shapes get a larger circumscribed circle (tiny-shapes' values for its three)
SHAPE_SCALE = {"circle": 0.9, "square": 1.05, "triangle": 1.2, "star": 1.2, "heart": 1.0, "ring": 1.0,
               "cross": 1.1, "diamond": 1.2, "crescent": 1.15, "arrow": 1.25}


def zipf(n: int, s: float) -> np.ndarray:
    w = 1.0 / np.arange(1, n + 1) ** s
    return w / w.sum()


SHAPE_P = dict(zip(SHAPES, zipf(len(SHAPES), SHAPE_ZIPF)))
COLOUR_P = dict(zip(COLOURS, zipf(len(COLOURS), COLOUR_ZIPF)))


# ---------------------------------------------------------------- which shape pairs co-occur


def _regular_graph(n: int, degree: int, rng: np.random.Generator) -> list[tuple[int, int]]:
    """A uniformly drawn simple `degree`-regular graph on n vertices (pairing model with restarts)."""
    while True:
        stubs = rng.permutation(np.repeat(np.arange(n), degree))
        edges = {tuple(sorted((int(a), int(b)))) for a, b in stubs.reshape(-1, 2)}
        if len(edges) == n * degree // 2 and all(a != b for a, b in edges):
            return sorted(edges)


@lru_cache()
def pair_split() -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
    """(seen, held out) unordered shape pairs, each pair in SHAPES order."""
    edges = _regular_graph(len(SHAPES), SEEN_DEGREE, np.random.default_rng(PAIR_SEED))
    seen = tuple((SHAPES[a], SHAPES[b]) for a, b in edges)
    held = tuple((SHAPES[a], SHAPES[b]) for a in range(len(SHAPES)) for b in range(a + 1, len(SHAPES))
                 if (a, b) not in set(edges))
    return seen, held


@lru_cache()
def seen_pair_p() -> dict[tuple[str, str], float]:
    seen, _ = pair_split()
    w = np.array([SHAPE_P[a] * SHAPE_P[b] for a, b in seen])
    return dict(zip(seen, w / w.sum()))


def is_seen(a: str, b: str) -> bool:
    return (a, b) in seen_pair_p() or (b, a) in seen_pair_p()


def split_record() -> dict:
    """What pairs.json holds: the split and the frequencies, for evaluation scripts (Python or TypeScript)."""
    seen, held = pair_split()
    pp = seen_pair_p()
    return {
        "category": "shape",
        "why": "a category is a shape (the noun): SD's rare co-occurrences are of object categories (COCO nouns); "
        "colours vary freely within every pair, so a held-out pair is a new combination of nouns",
        "shapes": list(SHAPES),
        "colours": list(COLOURS),
        "shape_frequency": {k: round(float(v), 5) for k, v in SHAPE_P.items()},
        "colour_frequency": {k: round(float(v), 5) for k, v in COLOUR_P.items()},
        "two_object_share": P_TWO,
        "seen_pairs": [list(p) for p in seen],
        "seen_pair_frequency_within_two_object_scenes": {f"{a}+{b}": round(float(pp[(a, b)]), 5) for a, b in seen},
        "held_out_pairs": [list(p) for p in held],
        "pair_seed": PAIR_SEED,
        "note": "held-out pairs never appear together in any training image or caption (noisy captions included)",
    }


def write_pairs(path: str) -> None:
    with open(path, "w") as f:
        json.dump(split_record(), f, indent=2)
        f.write("\n")


# ---------------------------------------------------------------- shapes, in units of the circumscribed radius


def _polygon(u, v, verts) -> np.ndarray:
    """Even-odd point-in-polygon (any simple polygon) over arrays of points."""
    inside = np.zeros(u.shape, bool)
    for (x1, y1), (x2, y2) in zip(verts, verts[1:] + verts[:1]):
        if y1 == y2:
            continue
        crosses = (y1 > v) != (y2 > v)
        inside ^= crosses & (u < x1 + (v - y1) * (x2 - x1) / (y2 - y1))
    return inside


def _regular(n: int, start_deg: float, radii=(1.0,)) -> list[tuple[float, float]]:
    """Vertices of a regular polygon or star (alternating radii), y down, first vertex at start_deg."""
    k = n * len(radii)
    return [(radii[i % len(radii)] * np.cos(np.deg2rad(start_deg + 360.0 * i / k)),
             radii[i % len(radii)] * np.sin(np.deg2rad(start_deg + 360.0 * i / k))) for i in range(k)]


POLYGONS = {
    "square": _regular(4, 45.0),
    "triangle": _regular(3, -90.0),  # apex up, centroid at the centre (as tiny-shapes)
    "diamond": [(0.0, -1.0), (0.65, 0.0), (0.0, 1.0), (-0.65, 0.0)],
    "arrow": [(0.0, -1.0), (0.62, -0.1), (0.24, -0.1), (0.24, 0.95), (-0.24, 0.95), (-0.24, -0.1), (-0.62, -0.1)],  # up
    "star": _regular(5, -90.0, (1.0, 0.5)),
}
CROSS_HALF_WIDTH = 0.32
RING_INNER = 0.55
CRESCENT_CUT = (0.42, -0.12, 0.78)  # centre x, y and radius of the disc cut out of the unit disc


@lru_cache()
def _heart_frame() -> tuple[float, float]:
    """Scale and vertical offset that put the heart curve (x^2+y^2-1)^3 <= x^2 y^3 in the unit circle."""
    g = np.linspace(-1.5, 1.5, 1201)
    X, Y = np.meshgrid(g, g)
    ins = (X * X + Y * Y - 1) ** 3 - X * X * Y**3 <= 0
    ys = Y[ins]
    yc = 0.5 * (ys.max() + ys.min())
    r = np.sqrt(X[ins] ** 2 + (Y[ins] - yc) ** 2).max()
    return float(r), float(yc)


def inside(shape: str, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Boolean coverage of a shape with circumscribed radius 1 centred at 0 (u right, v down)."""
    if shape in POLYGONS:
        return _polygon(u, v, POLYGONS[shape])
    d2 = u * u + v * v
    if shape == "circle":
        return d2 <= 1.0
    if shape == "ring":
        return (d2 <= 1.0) & (d2 >= RING_INNER**2)
    if shape == "cross":
        w, arm = CROSS_HALF_WIDTH, np.sqrt(1 - CROSS_HALF_WIDTH**2)
        au, av = np.abs(u), np.abs(v)
        return ((au <= w) & (av <= arm)) | ((av <= w) & (au <= arm))
    if shape == "crescent":
        cx, cy, cr = CRESCENT_CUT
        return (d2 <= 1.0) & ((u - cx) ** 2 + (v - cy) ** 2 > cr * cr)
    if shape == "heart":
        s, yc = _heart_frame()
        x, y = u * s, -v * s + yc
        return (x * x + y * y - 1) ** 3 - x * x * y**3 <= 0
    raise ValueError(shape)


# ---------------------------------------------------------------- rendering


def render(objects, layout, size: int = SIZE):
    """objects [(colour, shape)], layout [(cx, cy, r)] in px -> image float32 [3,size,size] in [0,1] and
    coverage float32 [n,size,size]. Anti-aliased by SS x SS supersampling inside each object's box."""
    img = np.empty((3, size, size), np.float32)
    img[:] = np.asarray(BACKGROUND, np.float32)[:, None, None]
    covs = np.zeros((len(objects), size, size), np.float32)
    for i, ((colour, shape), (cx, cy, r)) in enumerate(zip(objects, layout)):
        x0, x1 = max(0, int(cx - r) - 1), min(size, int(np.ceil(cx + r)) + 1)
        y0, y1 = max(0, int(cy - r) - 1), min(size, int(np.ceil(cy + r)) + 1)
        sx = (np.arange(x0 * SS, x1 * SS) + 0.5) / SS
        sy = (np.arange(y0 * SS, y1 * SS) + 0.5) / SS
        V, U = np.meshgrid((sy - cy) / r, (sx - cx) / r, indexing="ij")
        hit = inside(shape, U, V).astype(np.float32)
        covs[i, y0:y1, x0:x1] = hit.reshape(y1 - y0, SS, x1 - x0, SS).mean(axis=(1, 3))
        col = np.asarray(RGB[colour], np.float32)[:, None, None]
        img = img * (1.0 - covs[i][None]) + col * covs[i][None]
    return img, covs


def sample_layout(rng: np.random.Generator, objects, size: int = SIZE, radius=None):
    """Circumscribed circles of the objects, kept GAP apart and MARGIN off the border (both scaled with size)."""
    k = size / 32.0
    lo, hi = radius or RADIUS[len(objects)]
    for _ in range(200):
        placed: list[tuple[float, float, float]] = []
        for _c, shape in objects:
            r = rng.uniform(lo, hi) * SHAPE_SCALE[shape] * k
            for _t in range(50):
                cx, cy = rng.uniform(r + MARGIN * k, size - r - MARGIN * k, 2)
                if all(np.hypot(cx - px, cy - py) >= r + pr + GAP * k for px, py, pr in placed):
                    placed.append((float(cx), float(cy), r))
                    break
            else:
                break
        if len(placed) == len(objects):
            return placed
    raise RuntimeError("could not place objects")


# ---------------------------------------------------------------- scenes and captions


def caption_for(objects) -> str:
    """The one template: "a red star" / "a red star and a blue ring"."""
    return " and ".join(f"a {c} {s}" for c, s in objects)


def _pick(rng, probs: dict, exclude=()):
    keys = [k for k in probs if k not in exclude]
    w = np.array([probs[k] for k in keys])
    return keys[int(rng.choice(len(keys), p=w / w.sum()))]


def sample_scene_objects(rng: np.random.Generator):
    """(objects in the image, objects named by the caption, noise kind: '', 'omitted' or 'absent')."""
    if rng.random() < P_TWO:
        pair = _pick(rng, seen_pair_p())
        shapes = list(pair) if rng.random() < 0.5 else list(pair[::-1])
        c1 = _pick(rng, COLOUR_P)
        c2 = _pick(rng, COLOUR_P, exclude=(c1,))
        objects = [(c1, shapes[0]), (c2, shapes[1])]
        if rng.random() < P_OMIT:
            return objects, [objects[int(rng.integers(2))]], "omitted"
        return objects, objects, ""
    shape = _pick(rng, SHAPE_P)
    colour = _pick(rng, COLOUR_P)
    objects = [(colour, shape)]
    if rng.random() < P_ABSENT:
        partners = {b if a == shape else a: SHAPE_P[b if a == shape else a] for a, b in seen_pair_p() if shape in (a, b)}
        ghost = (_pick(rng, COLOUR_P, exclude=(colour,)), _pick(rng, partners))
        named = [objects[0], ghost] if rng.random() < 0.5 else [ghost, objects[0]]
        return objects, named, "absent"
    return objects, objects, ""


def make_scene(seed_or_rng, objects=None, size: int = SIZE) -> dict:
    """One scene: image [3,size,size] in [0,1], coverage and masks per object, objects, named objects,
    noise kind, layout, caption. `objects` fixes the objects (caption names exactly them)."""
    rng = seed_or_rng if isinstance(seed_or_rng, np.random.Generator) else np.random.default_rng(seed_or_rng)
    if objects is None:
        objects, named, noise = sample_scene_objects(rng)
    else:
        named, noise = objects, ""
    layout = sample_layout(rng, objects, size)
    img, cov = render(objects, layout, size)
    return {"image": img, "coverage": cov, "masks": cov >= 0.5, "objects": objects, "named": named,
            "noise": noise, "layout": layout, "caption": caption_for(named)}


def make_batch(rng: np.random.Generator, batch: int, size: int = SIZE):
    """images float32 [B,3,size,size] in [-1,1], captions, scenes."""
    made = [make_scene(rng, size=size) for _ in range(batch)]
    imgs = np.stack([s["image"] for s in made]) * 2.0 - 1.0
    return imgs.astype(np.float32), [s["caption"] for s in made], made


def write_png(path: str, rgb: np.ndarray, scale: int = 1) -> None:
    """rgb float [3,H,W] in [0,1] (or uint8 [H,W,3]) -> PNG, nearest-neighbour upscaled. No PIL needed."""
    import struct
    import zlib

    a = rgb if rgb.dtype == np.uint8 else (np.clip(rgb, 0, 1) * 255).round().astype(np.uint8).transpose(1, 2, 0)
    a = np.repeat(np.repeat(a, scale, 0), scale, 1)
    raw = b"".join(b"\x00" + row.tobytes() for row in a)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", a.shape[1], a.shape[0], 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


if __name__ == "__main__":
    import argparse
    import time

    ap = argparse.ArgumentParser(description="statistics, a contact sheet, or pairs.json")
    ap.add_argument("--write-pairs", action="store_true", help="write models/neglect-shapes/pairs.json (the held-out split)")
    ap.add_argument("--sheet", default=None, help="write a PNG contact sheet of 64 scenes here")
    ap.add_argument("--size", type=int, default=SIZE)
    ap.add_argument("--n", type=int, default=20000, help="scenes for the statistics")
    a = ap.parse_args()
    if a.write_pairs:
        from prompt_lens_py.paths import NEGLECT_SHAPES

        out = os.path.join(NEGLECT_SHAPES, "pairs.json")
        write_pairs(out)
        print("wrote", out)
    rng = np.random.default_rng(0)
    t = time.time()
    counts = {"one": 0, "two": 0, "omitted": 0, "absent": 0}
    shape_n = dict.fromkeys(SHAPES, 0)
    for _ in range(a.n):
        objs, named, noise = sample_scene_objects(rng)
        counts["two" if len(objs) == 2 else "one"] += 1
        if noise:
            counts[noise] += 1
        for _c, s in objs:
            shape_n[s] += 1
    print({k: round(v / a.n, 4) for k, v in counts.items()})
    print("objects per shape", shape_n)
    t = time.time()
    for i in range(500):
        make_scene(i, size=a.size)
    print(f"{(time.time() - t) * 2:.2f} ms/scene at {a.size} px")
    print("seen pairs", pair_split()[0])
    if a.sheet:
        sheet = np.full((3, 8 * (a.size + 2), 8 * (a.size + 2)), 1.0, np.float32)
        for i in range(64):
            s = make_scene(1000 + i, size=a.size)
            y, x = divmod(i, 8)
            sheet[:, y * (a.size + 2) + 1: y * (a.size + 2) + 1 + a.size, x * (a.size + 2) + 1: x * (a.size + 2) + 1 + a.size] = s["image"]
            print(i, s["caption"], s["noise"])
        write_png(a.sheet, sheet, 3)
