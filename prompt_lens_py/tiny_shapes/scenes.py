"""Procedural scenes of coloured shapes for the tiny-shapes model.

Each scene is a 32x32 RGB image with 1-3 shapes (circle, square, triangle) in
one of four colours (red, green, blue, yellow) on a plain mid-grey background,
with a caption such as "a red circle and a blue square" and one ground-truth
mask per object. Everything is deterministic given a seed.

Geometry: every object has a circumscribed radius r (5-8 px for single objects,
a little smaller when there are more objects) and objects are placed so that
their circumscribed circles keep a gap of at least GAP px, i.e. they never touch.
Rendering is anti-aliased by supersampling (SS x SS samples per pixel).
"""
from __future__ import annotations

import numpy as np

SIZE = 32
SS = 4  # supersampling factor per axis
GAP = 2.0  # minimum gap between circumscribed circles, px
MARGIN = 1.0  # minimum distance from a circumscribed circle to the border, px

SHAPES = ("circle", "square", "triangle")
COLOURS = ("red", "green", "blue", "yellow")
# RGB in [0, 1]
RGB = {
    "red": (0.90, 0.10, 0.10),
    "green": (0.10, 0.75, 0.15),
    "blue": (0.10, 0.20, 0.95),
    "yellow": (0.95, 0.90, 0.10),
}
BACKGROUND = (0.5, 0.5, 0.5)  # maps to 0 in the model's [-1, 1] space

# probability of 1, 2, 3 objects
COUNT_PROBS = (0.40, 0.45, 0.15)
# base size range (px) per object count; circumscribed radius = base * SHAPE_SCALE[shape]
# so that squares and triangles (less area per circumscribed radius) read as big as circles
RADIUS = {1: (5.5, 8.0), 2: (5.0, 7.0), 3: (4.5, 6.0)}
SHAPE_SCALE = {"circle": 0.9, "square": 1.05, "triangle": 1.2}

# caption templates; {objs} is the object list ("a red circle and a blue square")
TEMPLATES = (("{objs}", 0.6), ("a photo of {objs}", 0.25), ("{objs}.", 0.15))


def object_phrase(colour: str, shape: str) -> str:
    return f"a {colour} {shape}"


def join_objects(phrases: list[str]) -> str:
    if len(phrases) == 1:
        return phrases[0]
    if len(phrases) == 2:
        return f"{phrases[0]} and {phrases[1]}"
    return ", ".join(phrases[:-1]) + f" and {phrases[-1]}"


def caption_for(objects: list[tuple[str, str]], template: str = "{objs}") -> str:
    return template.format(objs=join_objects([object_phrase(c, s) for c, s in objects]))


_sub = (np.arange(SIZE * SS) + 0.5) / SS  # sample coordinates in px
_YY, _XX = np.meshgrid(_sub, _sub, indexing="ij")


def _inside(shape: str, cx: float, cy: float, r: float) -> np.ndarray:
    """Boolean supersampled coverage of one shape with circumscribed radius r."""
    x = _XX - cx
    y = _YY - cy
    if shape == "circle":
        return x * x + y * y <= r * r
    if shape == "square":
        h = r / np.sqrt(2.0)
        return (np.abs(x) <= h) & (np.abs(y) <= h)
    if shape == "triangle":
        # upright equilateral triangle, apex up (y grows downwards), centroid at (cx, cy)
        # vertices at angles -90, 30, 150 degrees
        # inside if on the inner side of all three edges: distance to centre along
        # each edge normal <= inradius r/2
        inr = r / 2.0
        ok = y <= inr  # bottom edge (normal pointing down)
        for ang in (np.deg2rad(-30.0), np.deg2rad(210.0)):  # upper-right and upper-left edges
            nx, ny = np.cos(ang), np.sin(ang)
            ok &= x * nx + y * ny <= inr
        return ok
    raise ValueError(shape)


def _downsample(cov: np.ndarray) -> np.ndarray:
    return cov.reshape(SIZE, SS, SIZE, SS).mean(axis=(1, 3))


def sample_layout(rng: np.random.Generator, objects, max_tries: int = 200):
    n = len(objects)
    lo, hi = RADIUS[n]
    for _ in range(max_tries):
        placed = []
        ok = True
        for _i in range(n):
            for _t in range(50):
                r = rng.uniform(lo, hi) * SHAPE_SCALE[objects[_i][1]]
                cx = rng.uniform(r + MARGIN, SIZE - r - MARGIN)
                cy = rng.uniform(r + MARGIN, SIZE - r - MARGIN)
                if all((cx - px) ** 2 + (cy - py) ** 2 >= (r + pr + GAP) ** 2 for px, py, pr in placed):
                    placed.append((cx, cy, r))
                    break
            else:
                ok = False
                break
        if ok:
            return placed
    raise RuntimeError("could not place objects")


def sample_objects(rng: np.random.Generator, n: int) -> list[tuple[str, str]]:
    """n distinct (colour, shape) pairs."""
    objs: list[tuple[str, str]] = []
    while len(objs) < n:
        o = (COLOURS[rng.integers(len(COLOURS))], SHAPES[rng.integers(len(SHAPES))])
        if o not in objs:
            objs.append(o)
    return objs


def render(objects: list[tuple[str, str]], layout) -> tuple[np.ndarray, np.ndarray]:
    """Returns image float32 [3, 32, 32] in [0, 1] and coverage float32 [n, 32, 32] in [0, 1]."""
    img = np.empty((3, SIZE, SIZE), np.float32)
    img[:] = np.asarray(BACKGROUND, np.float32)[:, None, None]
    covs = np.zeros((len(objects), SIZE, SIZE), np.float32)
    for i, ((colour, shape), (cx, cy, r)) in enumerate(zip(objects, layout)):
        cov = _downsample(_inside(shape, cx, cy, r).astype(np.float32))
        covs[i] = cov
        col = np.asarray(RGB[colour], np.float32)[:, None, None]
        img = img * (1.0 - cov[None]) + col * cov[None]
    return img, covs


def make_scene(seed_or_rng, n: int | None = None, objects=None, template: str | None = None):
    """One scene. Returns dict(image [3,32,32] float32 in [0,1], masks [n,32,32] bool,
    coverage [n,32,32] float32, objects [(colour, shape)], layout [(cx, cy, r)], caption)."""
    rng = seed_or_rng if isinstance(seed_or_rng, np.random.Generator) else np.random.default_rng(seed_or_rng)
    if objects is None:
        if n is None:
            n = int(rng.choice([1, 2, 3], p=COUNT_PROBS))
        objects = sample_objects(rng, n)
    n = len(objects)
    layout = sample_layout(rng, objects)
    if template is None:
        names = [t for t, _ in TEMPLATES]
        probs = np.array([p for _, p in TEMPLATES])
        template = names[int(rng.choice(len(names), p=probs / probs.sum()))]
    img, cov = render(objects, layout)
    return {
        "image": img,
        "coverage": cov,
        "masks": cov >= 0.5,
        "objects": objects,
        "layout": layout,
        "caption": caption_for(objects, template),
    }


def make_batch(rng: np.random.Generator, batch: int, with_scenes: bool = False):
    """Batch for training: images float32 [B,3,32,32] in [-1,1] and captions (and, with_scenes, the
    scene dicts for their objects and coverage masks; the random stream is the same either way)."""
    imgs = np.empty((batch, 3, SIZE, SIZE), np.float32)
    caps = []
    made = []
    for b in range(batch):
        s = make_scene(rng)
        imgs[b] = s["image"] * 2.0 - 1.0
        caps.append(s["caption"])
        made.append(s)
    return (imgs, caps, made) if with_scenes else (imgs, caps)


if __name__ == "__main__":
    import sys
    import time

    seed = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    t = time.time()
    rng = np.random.default_rng(seed)
    for _ in range(1000):
        make_scene(rng)
    print(f"{(time.time() - t):.2f} ms/scene")
    # write a contact sheet of 8x8 scenes as PPM for eyeballing
    rng = np.random.default_rng(seed)
    sheet = np.zeros((3, 8 * 34, 8 * 34), np.float32)
    caps = []
    for i in range(64):
        s = make_scene(rng)
        y, x = divmod(i, 8)
        sheet[:, y * 34 + 1 : y * 34 + 33, x * 34 + 1 : x * 34 + 33] = s["image"]
        caps.append(s["caption"])
    out = sys.argv[2] if len(sys.argv) > 2 else "/tmp/scenes.ppm"
    arr = (np.clip(sheet, 0, 1) * 255).astype(np.uint8).transpose(1, 2, 0)
    with open(out, "wb") as f:
        f.write(b"P6 %d %d 255\n" % (arr.shape[1], arr.shape[0]))
        f.write(arr.tobytes())
    print("\n".join(caps[:16]))
