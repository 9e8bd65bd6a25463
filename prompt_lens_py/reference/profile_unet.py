"""Where a PyTorch UNet call spends its time: the reference sampler's UNet (sampler.py) at one batch size, timed
plainly and then under torch.profiler, for `npm run bench:unet-ops` to set beside onnxruntime's own profile.

    /usr/bin/python3 -m prompt_lens_py.reference.profile_unet --batch 16 --calls 20 --threads 1 [--model DIR]

Prints one JSON line: `call_ms`, the median of `calls` unprofiled calls after warm-up, and `self_ms`, each aten
operator's self CPU time per call under the profiler (which adds its own cost per operator). The batch holds
the unconditional half first, as the sampler's guidance does; denormal floats are flushed, as in time_sampler.py.
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
    ap.add_argument("--batch", type=int, default=16, help="UNet batch: seeds x 2 with guidance")
    ap.add_argument("--calls", type=int, default=20)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--timestep", type=int, default=500)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.set_flush_denormal(True)
    pipe = load_pipeline(a.model, a.weights or weights_file(a.model))
    half = a.batch // 2
    ctx = torch.cat([pipe.encode([""] * (a.batch - half)), pipe.encode([a.prompt] * half)])
    x = noise_for_seeds(list(range(a.batch)))
    t = torch.full((a.batch,), a.timestep, dtype=torch.int64)
    with torch.no_grad():
        for _ in range(3):
            pipe.unet(x, t, ctx)
        calls = []
        for _ in range(a.calls):
            t0 = time.perf_counter()
            pipe.unet(x, t, ctx)
            calls.append((time.perf_counter() - t0) * 1000)
        with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
            for _ in range(a.calls):
                pipe.unet(x, t, ctx)
    self_ms = {e.key: e.self_cpu_time_total / 1000 / a.calls for e in prof.key_averages() if e.self_cpu_time_total > 0}
    print(json.dumps({"call_ms": statistics.median(calls), "self_ms": self_ms, "batch": a.batch, "threads": a.threads,
                      "torch": torch.__version__}))


if __name__ == "__main__":
    main()
