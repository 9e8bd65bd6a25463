"""PyTorch reference DDIM sampler with classifier-free guidance for tiny-shapes' architecture.

For checking the TypeScript engine's numbers: same weights (a training checkpoint / weights-fp16.pt, or the torch
modules directly), same scheduler config file (`scheduler/scheduler_config.json`, ddim.py), same tokenizer files.

    from prompt_lens_py.reference.sampler import load_pipeline
    pipe = load_pipeline("models/tiny-shapes", "models/tiny-shapes/train/weights-fp16.pt")
    x0 = pipe.sample(["a red circle"], noise, steps=20, guidance=4.0)   # noise [B,3,32,32]

The initial noise is an argument; noise.noise_for_seeds(seeds) draws it as the engine does.
Guidance: eps = eps_uncond + g (eps_cond - eps_uncond), unconditional prompt "".

    python3 -m prompt_lens_py.reference.sampler [--model DIR] [--weights FILE] [--prompt P] [--seeds 0,1,2,3] \
        [--out PNG]   # needs PIL
"""
from __future__ import annotations

import numpy as np
import torch

from prompt_lens_py.clip_tokenizer import ClipTokenizer
from prompt_lens_py.paths import TINY_SHAPES, weights_file
from prompt_lens_py.reference.ddim import DDIM
from prompt_lens_py.reference.model_folder import scheduler, tokenizer
from prompt_lens_py.reference.noise import noise_for_seeds
from prompt_lens_py.tiny_shapes.model import load_weights


class Pipeline:
    def __init__(self, text_encoder, unet, tokenizer: ClipTokenizer, scheduler: DDIM):
        self.te = text_encoder.eval()
        self.unet = unet.eval()
        self.tok = tokenizer
        self.sched = scheduler

    def device(self):
        return next(self.unet.parameters()).device

    @torch.no_grad()
    def encode(self, prompts: list[str]) -> torch.Tensor:
        ids = torch.from_numpy(self.tok.batch(prompts)).to(self.device())
        return self.te(ids)[0]

    @torch.no_grad()
    def sample(self, prompts, noise: torch.Tensor, steps: int = 20, guidance: float = 4.0, return_trace: bool = False):
        """noise: [B,3,32,32] float32 initial sample x_T. Returns x0 in [-1,1] [B,3,32,32]."""
        dev = self.device()
        B = noise.shape[0]
        if isinstance(prompts, str):
            prompts = [prompts] * B
        cond = self.encode(list(prompts))
        use_cfg = guidance != 1.0
        if use_cfg:
            uncond = self.encode([""]).expand(B, -1, -1)
            ctx = torch.cat([uncond, cond])
        else:
            ctx = cond
        x = noise.to(dev).float()
        trace = []
        for t in self.sched.timesteps(steps):
            tt = torch.full((ctx.shape[0],), t, dtype=torch.int64, device=dev)
            xin = torch.cat([x, x]) if use_cfg else x
            out = self.unet(xin, tt, ctx)
            if use_cfg:
                eu, ec = out.chunk(2)
                out = eu + guidance * (ec - eu)
            x, x0 = self.sched.step(out, t, x, steps)
            if return_trace:
                trace.append((t, out.cpu(), x.cpu()))
        return (x, trace) if return_trace else x


def load_pipeline(model_dir: str, weights: str, device: str = "cpu") -> Pipeline:
    te, un, _ = load_weights(weights)
    return Pipeline(te.to(device), un.to(device), tokenizer(model_dir), scheduler(model_dir))


def to_uint8(x: torch.Tensor) -> np.ndarray:
    """[B,3,H,W] in [-1,1] -> uint8 [B,H,W,3]."""
    return ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=TINY_SHAPES)
    ap.add_argument("--weights", default=None, help="default: MODEL/train/weights-fp16.pt")
    ap.add_argument("--prompt", default="a red circle and a blue square")
    ap.add_argument("--seeds", default="0,1,2,3")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--guidance", type=float, default=4.0)
    ap.add_argument("--out", default="/tmp/tiny-shapes-sample.png")
    a = ap.parse_args()
    torch.set_num_threads(1)
    pipe = load_pipeline(a.model, a.weights or weights_file(a.model))
    seeds = [int(s) for s in a.seeds.split(",")]
    x = pipe.sample(a.prompt, noise_for_seeds(seeds), a.steps, a.guidance)
    imgs = to_uint8(x)
    from PIL import Image

    sheet = np.concatenate(list(imgs), axis=1)
    Image.fromarray(sheet).resize((sheet.shape[1] * 4, sheet.shape[0] * 4), Image.NEAREST).save(a.out)
    print("wrote", a.out)
