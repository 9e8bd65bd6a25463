"""The PyTorch full-autograd Separate-and-Enhance reference on neglect-shapes: tiny-shapes'
reference/finetune.py (same arguments, same algorithm) pointed at this model's weights, tokenizer and
scheduler. `npm run finetune-table -- --model models/neglect-shapes` runs it as the reference column.

  OMP_NUM_THREADS=1 /usr/bin/python3 models/neglect-shapes/reference/finetune.py \
      --pairs "red star|blue ring" --template "a {A} and a {B}" --steps 200 --lr 3e-4 --out /tmp/sepen

`--weights auto` is this model's train/weights-fp16.pt (the weights its ONNX files were exported from).
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "train"))
import neglect_common as nc  # noqa: E402  (one thread, flushed denormals, tiny-shapes' reference on the path)

import common  # noqa: E402  (tiny-shapes/reference)

common.MODEL_DIR = nc.MODEL_DIR
common.TRAIN = nc.HERE

if __name__ == "__main__":
    import runpy

    # By path: `import finetune` would find this file (its folder is first on sys.path).
    runpy.run_path(os.path.join(nc.TINY_REFERENCE, "finetune.py"), run_name="__main__")
