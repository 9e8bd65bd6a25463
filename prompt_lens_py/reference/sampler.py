"""PyTorch reference DDIM sampler with classifier-free guidance for tiny-shapes.

For checking the TypeScript engine's numbers: same weights (a train.py checkpoint /
weights-fp16.pt, or the torch modules directly), same scheduler config file
(`scheduler/scheduler_config.json`), same tokenizer files.

    from prompt_lens_py.reference.sampler import load_pipeline
    pipe = load_pipeline("models/tiny-shapes", "models/tiny-shapes/train/weights-fp16.pt")
    x0 = pipe.sample(["a red circle"], noise, steps=20, guidance=4.0)   # noise [B,3,32,32]

The initial noise is an argument. `noise_for_seeds(seeds)` builds it with the
project's PRNG (`prompt_lens_py/prng.py`: `Rng(s).normals(3*32*32)` in C order per batch item),
as the engine does.

DDIM (eta = 0) follows diffusers' DDIMScheduler: betas by `beta_schedule`
(linear / scaled_linear), timesteps by `timestep_spacing` (leading / trailing /
linspace) + steps_offset, x0 = (x - sqrt(1-a) eps) / sqrt(a), clipped to
[-clip_sample_range, clip_sample_range] when clip_sample, previous alpha at
t - T/n (or final_alpha_cumprod = 1 if set_alpha_to_one else alphas_cumprod[0]).
Guidance: eps = eps_uncond + g (eps_cond - eps_uncond), unconditional prompt "".
"""
from __future__ import annotations

import json
import os

import numpy as np
import torch

from prompt_lens_py.paths import TINY_SHAPES, weights_file
from prompt_lens_py.prng import Rng
from prompt_lens_py.tiny_shapes.tokenizer_files import ClipTokenizer


class DDIM:
    def __init__(self, cfg: dict):
        self.cfg = cfg
        T = int(cfg["num_train_timesteps"])
        self.T = T
        sched = cfg.get("beta_schedule", "linear")
        b0, b1 = float(cfg["beta_start"]), float(cfg["beta_end"])
        if sched == "linear":
            betas = torch.linspace(b0, b1, T, dtype=torch.float32)
        elif sched == "scaled_linear":
            betas = torch.linspace(b0**0.5, b1**0.5, T, dtype=torch.float32) ** 2
        else:
            raise ValueError(f"unsupported beta_schedule {sched}")
        self.alphas_cumprod = torch.cumprod(1.0 - betas, dim=0)
        self.final_alpha_cumprod = torch.tensor(1.0) if cfg.get("set_alpha_to_one", True) else self.alphas_cumprod[0]
        self.prediction_type = cfg.get("prediction_type", "epsilon")
        self.clip_sample = bool(cfg.get("clip_sample", True))
        self.clip_range = float(cfg.get("clip_sample_range", 1.0))

    @classmethod
    def from_file(cls, path: str) -> "DDIM":
        with open(path) as f:
            return cls(json.load(f))

    def timesteps(self, n: int) -> list[int]:
        T = self.T
        spacing = self.cfg.get("timestep_spacing", "leading")
        off = int(self.cfg.get("steps_offset", 0))
        if spacing == "leading":
            ratio = T // n
            ts = (np.arange(0, n) * ratio).round()[::-1].astype(np.int64) + off
        elif spacing == "trailing":
            ratio = T / n
            ts = np.round(np.arange(T, 0, -ratio)).astype(np.int64) - 1
        elif spacing == "linspace":
            ts = np.linspace(0, T - 1, n).round()[::-1].astype(np.int64)
        else:
            raise ValueError(spacing)
        return [int(t) for t in ts]

    def step(self, model_output, t: int, x, n: int):
        prev_t = t - self.T // n
        a = self.alphas_cumprod[t]
        a_prev = self.alphas_cumprod[prev_t] if prev_t >= 0 else self.final_alpha_cumprod
        if self.prediction_type == "epsilon":
            x0 = (x - (1 - a).sqrt() * model_output) / a.sqrt()
            eps = model_output
        elif self.prediction_type == "v_prediction":
            x0 = a.sqrt() * x - (1 - a).sqrt() * model_output
            eps = a.sqrt() * model_output + (1 - a).sqrt() * x
        elif self.prediction_type == "sample":
            x0 = model_output
            eps = (x - a.sqrt() * x0) / (1 - a).sqrt()
        else:
            raise ValueError(self.prediction_type)
        if self.clip_sample:
            x0 = x0.clamp(-self.clip_range, self.clip_range)
        return a_prev.sqrt() * x0 + (1 - a_prev).sqrt() * eps, x0


def noise_for_seeds(seeds, shape=(3, 32, 32)) -> torch.Tensor:
    """Initial noise with the project's PRNG (prompt_lens_py/prng.py: the engine's generator bit for bit), one seed
    per batch item."""
    n = int(np.prod(shape))
    return torch.from_numpy(np.stack([np.asarray(Rng(s).normals_np(n), np.float32).reshape(shape) for s in seeds]))


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
    from prompt_lens_py.tiny_shapes.export import load_weights

    te, un, _ = load_weights(weights)
    tok = ClipTokenizer(os.path.join(model_dir, "tokenizer"))
    sched = DDIM.from_file(os.path.join(model_dir, "scheduler", "scheduler_config.json"))
    return Pipeline(te.to(device), un.to(device), tok, sched)


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
