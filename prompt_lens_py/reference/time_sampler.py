"""Times the PyTorch reference sampler (sampler.py: DDIM, classifier-free guidance) as a fair peer
of the engine's generation: the same weights, steps, guidance and thread count, denormal floats flushed
(Debian's torch 1.13 runs this model 10-20x slower on them). `npm run bench` calls it.

    /usr/bin/python3 -m prompt_lens_py.reference.time_sampler --threads 1 --steps 20 --guidance 2 \
        --batch 1 --images 8 [--model DIR --weights FILE]

Prints one JSON line: milliseconds per image (median over calls, after one warm-up call) and the settings.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time

import torch

from prompt_lens_py.paths import TINY_SHAPES, weights_file
from prompt_lens_py.reference.noise import noise_for_seeds
from prompt_lens_py.reference.sampler import load_pipeline


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
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.set_flush_denormal(True)
    pipe = load_pipeline(a.model, a.weights or weights_file(a.model))
    calls = max(1, a.images // a.batch)
    pipe.sample(a.prompt, noise_for_seeds(list(range(a.batch))), a.steps, a.guidance)  # warm-up
    per_image = []
    for c in range(calls):
        noise = noise_for_seeds([c * a.batch + b for b in range(a.batch)])
        t0 = time.perf_counter()
        pipe.sample(a.prompt, noise, a.steps, a.guidance)
        per_image.append((time.perf_counter() - t0) * 1000 / a.batch)
    print(json.dumps({"ms_per_image": statistics.median(per_image), "threads": a.threads, "steps": a.steps,
                      "guidance": a.guidance, "batch": a.batch, "images": calls * a.batch,
                      "torch": torch.__version__, "flush_denormal": True}))


if __name__ == "__main__":
    main()
