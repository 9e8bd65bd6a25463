"""Export neglect-shapes to the same diffusers/Optimum ONNX layout as tiny-shapes, with tiny-shapes' export.

    python3 -m prompt_lens_py.neglect_shapes.export [--ckpt models/neglect-shapes/train/weights-fp16.pt]
        [--out models/neglect-shapes] [--no-verify]

Only the vocabulary differs (common.words), so the text encoder, UNet, scheduler, tokenizer and
model_index files, the ONNX inputs and outputs and the node names are tiny-shapes' (its model card, "Files"):
32x32 pixel space, 16 tokens of width 128, cross-attention at 16x16 and 8x8. The EMA UNet weights are exported;
the ONNX graphs are checked against PyTorch in onnxruntime-node (needs `npm ci` at the repository root).
"""
from __future__ import annotations

import argparse
import os

from prompt_lens_py.neglect_shapes import common as nc  # before torch: one thread
from prompt_lens_py.tiny_shapes import export
from prompt_lens_py.tiny_shapes.model import configs_from_dict, load_weights


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", default=nc.WEIGHTS)
    ap.add_argument("--out", default=nc.MODEL_DIR)
    ap.add_argument("--no-verify", action="store_true")
    a = ap.parse_args()
    te, un, ck = load_weights(a.ckpt)
    extra = {"trained_steps": int(ck.get("step", 0)), "weights": "ema" if ck.get("ema_unet") else "raw"}
    export.export(te, un, configs_from_dict(ck["config"])[1], a.out, extra, nc.words())
    for sub in ("text_encoder", "unet"):
        p = os.path.join(a.out, sub, "model.onnx")
        print(p, os.path.getsize(p), "bytes")
    if not a.no_verify:
        export.verify_node(te, un, a.out)


if __name__ == "__main__":
    main()
