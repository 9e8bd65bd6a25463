"""What a training run writes: timestamped log lines and checkpoints."""
from __future__ import annotations

import datetime as dt
import os

import torch


class Logger:
    """log(*parts): one UTC-timestamped line to stdout and, when given a path, appended to that file."""

    def __init__(self, path):
        self.f = open(path, "a") if path else None

    def __call__(self, *a):
        s = " ".join(str(x) for x in a)
        line = f"{dt.datetime.utcnow().strftime('%H:%M:%S')} {s}"
        print(line, flush=True)
        if self.f:
            self.f.write(line + "\n")
            self.f.flush()


def atomic_save(obj, path: str) -> None:
    """torch.save to a temporary file in the same folder, then rename: a reader never sees half a file."""
    tmp = f"{path}.tmp-{os.getpid()}"
    torch.save(obj, tmp)
    os.replace(tmp, path)


def half_state(state_dict: dict) -> dict:
    """Floating-point tensors as float16 (the committed checkpoints' format), others as they are."""
    return {k: v.detach().half() if v.is_floating_point() else v for k, v in state_dict.items()}
