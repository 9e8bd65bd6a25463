"""diffusers' DDIMScheduler (eta = 0) from a scheduler_config.json: betas by `beta_schedule` (linear /
scaled_linear), timesteps by `timestep_spacing` (leading / trailing / linspace) + steps_offset,
x0 = (x - sqrt(1-a) eps) / sqrt(a) (or from v / sample predictions), clipped to [-clip_sample_range,
clip_sample_range] when clip_sample, previous alpha at t - T/n (or final_alpha_cumprod = 1 if set_alpha_to_one
else alphas_cumprod[0])."""
from __future__ import annotations

import json

import numpy as np
import torch


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

