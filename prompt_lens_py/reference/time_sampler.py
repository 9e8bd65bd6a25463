"""Times the PyTorch reference sampler (sampler.py: DDIM, classifier-free guidance) as a fair peer
of the engine's generation: the same weights, steps, guidance and thread count, denormal floats flushed
(Debian's torch 1.13 runs this model 10-20x slower on them). `npm run bench` calls it.

    /usr/bin/python3 -m prompt_lens_py.reference.time_sampler --threads 1 --steps 20 --guidance 2 \
        --batch 1 --images 8 [--model DIR --weights FILE]

Prints one JSON line: milliseconds per image (median over calls, after one warm-up call) and the settings.
With --serve it stays up and times on request ('BATCH IMAGES' lines on stdin), so `npm run bench` can
alternate the engine's timings with these on a shared machine.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import torch

from prompt_lens_py.paths import TINY_SHAPES, weights_file
from prompt_lens_py.reference.noise import noise_for_seeds
from prompt_lens_py.reference.sampler import load_pipeline


def time_calls(pipe, a, batch: int, images: int) -> dict:
    """Milliseconds per image over `images` images sampled `batch` seeds per call (median over calls)."""
    calls = max(1, images // batch)
    per_image = []
    for c in range(calls):
        noise = noise_for_seeds([c * batch + b for b in range(batch)])
        t0 = time.perf_counter()
        pipe.sample(a.prompt, noise, a.steps, a.guidance)
        per_image.append((time.perf_counter() - t0) * 1000 / batch)
    return {"ms_per_image": statistics.median(per_image), "threads": a.threads, "steps": a.steps,
            "guidance": a.guidance, "batch": batch, "images": calls * batch,
            "torch": torch.__version__, "flush_denormal": True}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=TINY_SHAPES)
    ap.add_argument("--weights", default=None, help="default: MODEL/train/weights-fp16.pt")
    ap.add_argument("--prompt", default="a red circle and a blue square")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--guidance", type=float, default=2.0)
    ap.add_argument("--batch", type=int, default=1, help="seeds per sampler call")
    ap.add_argument("--images", type=int, default=8, help="images timed (after one warm-up call)")
    ap.add_argument("--serve", action="store_true",
                    help="time on request, so a benchmark can interleave its own timings with these: read "
                         "'BATCH IMAGES' lines on stdin, answer each with one JSON line (warm-up: the first "
                         "request of each batch size runs once untimed)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.set_flush_denormal(True)
    pipe = load_pipeline(a.model, a.weights or weights_file(a.model))
    warmed = set()

    def timed(batch: int, images: int) -> dict:
        if batch not in warmed:
            pipe.sample(a.prompt, noise_for_seeds(list(range(batch))), a.steps, a.guidance)
            warmed.add(batch)
        return time_calls(pipe, a, batch, images)

    if a.serve:
        print(json.dumps({"ready": True, "torch": torch.__version__}), flush=True)
        for line in sys.stdin:
            batch, images = (int(v) for v in line.split())
            print(json.dumps(timed(batch, images)), flush=True)
        return
    print(json.dumps(timed(a.batch, a.images)))


if __name__ == "__main__":
    main()
