"""PyTorch eager peer of one UNet step of the SD 1.5-sized export (bench/sdFullCpu.ts drives it).

    /usr/bin/python3 -m prompt_lens_py.reference.unet_step_server --threads 2 [--seed 0] [--size 64]

Rebuilds the export's modules with the fixture's seed (sd_fixture.export_all: torch.manual_seed(seed), then the
text encoder, then the UNet), so the UNet holds the exported weights; the text encoder is made only to consume
the same random numbers and dropped. Inputs are the deterministic pattern bench/sdFullCpu.ts feeds the engine
(sample = sin(0.001 i), encoder_hidden_states = 0.5 cos(0.01 i), timestep 500, batch 2). Denormals flushed,
threads as given. Protocol, one JSON line per answer: a "ready" line after loading; then each "step" line on
stdin runs one forward pass and answers its milliseconds and sum |out| (the engine compares it with its own, as a
check that both ran the same weights); "quit" ends.
"""
from __future__ import annotations

import argparse
import json
import resource
import sys
import time

import numpy as np
import torch

from prompt_lens_py.fixtures.sd_folder import full_configs
from prompt_lens_py.sd.text_encoder import CLIPTextModel
from prompt_lens_py.sd.unet import UNet2DConditionModel


def pattern(n: int, scale: float, amplitude: float, fn) -> np.ndarray:
    return (amplitude * fn(np.arange(n, dtype=np.float64) * scale)).astype(np.float32)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--seed", type=int, default=0, help="the export's --seed")
    ap.add_argument("--size", type=int, default=64, help="latent side (64 = 512 px)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.set_flush_denormal(True)
    t0 = time.perf_counter()
    ucfg, tcfg, _ = full_configs()
    ucfg.attention_form = "baddbmm"
    torch.manual_seed(a.seed)
    CLIPTextModel(tcfg)  # consumes the random numbers the export's text encoder took
    unet = UNet2DConditionModel(ucfg).eval()
    s = a.size
    sample = torch.from_numpy(pattern(2 * 4 * s * s, 0.001, 1.0, np.sin).reshape(2, 4, s, s))
    text = torch.from_numpy(pattern(2 * 77 * tcfg.hidden_size, 0.01, 0.5, np.cos).reshape(2, 77, tcfg.hidden_size))
    timestep = torch.tensor([500, 500], dtype=torch.int64)
    print(json.dumps({"ready": True, "load_ms": (time.perf_counter() - t0) * 1000, "torch": torch.__version__}), flush=True)
    for line in sys.stdin:
        if line.strip() != "step":
            break
        with torch.no_grad():
            t = time.perf_counter()
            out = unet(sample, timestep, text)
            ms = (time.perf_counter() - t) * 1000
        print(json.dumps({"ms": ms, "abs_sum": float(out.double().abs().sum()),
                          "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}), flush=True)


if __name__ == "__main__":
    main()
