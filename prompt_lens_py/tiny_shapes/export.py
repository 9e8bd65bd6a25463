"""Export tiny-shapes to the diffusers/Optimum ONNX folder layout and verify it in onnxruntime-node.

  python3 -m prompt_lens_py.tiny_shapes.export [--ckpt PATH] [--out DIR] [--seed N] [--no-verify]

Without --ckpt the weights are randomly initialised (seeded): an untrained model
with the final layout. With --ckpt (a train.py checkpoint or train/weights-fp16.pt) the
EMA weights are exported when present.

Writes DIR/model_index.json, scheduler/scheduler_config.json, tokenizer/*,
text_encoder/model.onnx (+config.json), unet/model.onnx (+config.json).
ONNX I/O (opset 17, dynamic batch axis "batch"):
  text_encoder: input_ids int32 [B,16] -> last_hidden_state float32 [B,16,128], pooler_output float32 [B,128]
  unet: sample float32 [B,3,32,32], timestep int64 [B], encoder_hidden_states float32 [B,16,128]
        -> out_sample float32 [B,3,32,32]
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile

import numpy as np
import torch

from prompt_lens_py.clip_tokenizer import ClipTokenizer
from prompt_lens_py.onnx_export import export_onnx, write_json
from prompt_lens_py.ort_node import run_node
from prompt_lens_py.paths import TINY_SHAPES
from prompt_lens_py.sd import count_params
from prompt_lens_py.sd.text_encoder import TextConfig
from prompt_lens_py.tiny_shapes.model import TinyUNetConfig, build, configs_from_dict, load_weights
from prompt_lens_py.tiny_shapes.tokenizer import MODEL_MAX_LENGTH, WORDS, write_tokenizer
from prompt_lens_py.training.output import half_state

SCHEDULER_CONFIG = {
    "_class_name": "DDIMScheduler",
    "_diffusers_version": "0.21.0",
    "num_train_timesteps": 1000,
    "beta_start": 0.0001,
    "beta_end": 0.02,
    "beta_schedule": "linear",
    "trained_betas": None,
    "prediction_type": "epsilon",
    "clip_sample": True,
    "clip_sample_range": 1.0,
    "set_alpha_to_one": False,
    "steps_offset": 1,
    "timestep_spacing": "leading",
    "thresholding": False,
    "rescale_betas_zero_snr": False,
}

MODEL_INDEX = {
    "_class_name": "OnnxStableDiffusionPipeline",
    "_diffusers_version": "0.21.0",
    "feature_extractor": [None, None],
    "safety_checker": [None, None],
    "requires_safety_checker": False,
    "scheduler": ["diffusers", "DDIMScheduler"],
    "text_encoder": ["diffusers", "OnnxRuntimeModel"],
    "tokenizer": ["transformers", "CLIPTokenizer"],
    "unet": ["diffusers", "OnnxRuntimeModel"],
}


def write_fp16(ck: dict, path: str) -> None:
    """Weights-only fp16 file (config, step, raw + EMA weights) that train.py --resume-from accepts."""
    out = {"config": ck["config"], "step": int(ck.get("step", 0))}
    for k in ("text_encoder", "unet", "ema_text_encoder", "ema_unet"):
        if ck.get(k):
            out[k] = half_state(ck[k])
    torch.save(out, path)
    print("wrote", path, os.path.getsize(path), "bytes")


def export(te, un, uc: TinyUNetConfig, out_dir: str, extra_card: dict | None = None, words: list[str] = WORDS) -> None:
    """The folder: ONNX files of `te` and `un` (built from `uc`), their configs, the tokenizer files over `words`."""
    te.eval()
    un.eval()
    tc: TextConfig = te.config
    L = tc.max_position_embeddings
    D = tc.hidden_size
    write_json(os.path.join(out_dir, "model_index.json"), MODEL_INDEX)
    write_json(os.path.join(out_dir, "scheduler", "scheduler_config.json"), SCHEDULER_CONFIG)
    tok = write_tokenizer(os.path.join(out_dir, "tokenizer"), words)
    assert tok.max_length == L == MODEL_MAX_LENGTH and len(tok.encoder) == tc.vocab_size

    ids = torch.tensor(np.asarray([tok("a red circle and a blue square"), tok("")], np.int32))
    export_onnx(te, (ids,), os.path.join(out_dir, "text_encoder", "model.onnx"), ["input_ids"], ["last_hidden_state", "pooler_output"],
                {"input_ids": {0: "batch"}, "last_hidden_state": {0: "batch"}, "pooler_output": {0: "batch"}})
    write_json(
        os.path.join(out_dir, "text_encoder", "config.json"),
        {
            "architectures": ["CLIPTextModel"],
            "model_type": "clip_text_model",
            "vocab_size": tc.vocab_size,
            "max_position_embeddings": L,
            "hidden_size": D,
            "num_hidden_layers": tc.num_hidden_layers,
            "num_attention_heads": tc.num_attention_heads,
            "intermediate_size": tc.intermediate_size,
            "hidden_act": "quick_gelu",
            "bos_token_id": tok.sot,
            "eos_token_id": tok.eot,
            "pad_token_id": tok.eot,
            "parameters": count_params(te),
        },
    )
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    t = torch.tensor([999, 10], dtype=torch.int64)
    with torch.no_grad():
        ctx = te(ids)[0]
    export_onnx(un, (x, t, ctx), os.path.join(out_dir, "unet", "model.onnx"), ["sample", "timestep", "encoder_hidden_states"],
                ["out_sample"], {"sample": {0: "batch"}, "timestep": {0: "batch"}, "encoder_hidden_states": {0: "batch"},
                                 "out_sample": {0: "batch"}})
    c1, c2 = uc.block_out_channels
    write_json(
        os.path.join(out_dir, "unet", "config.json"),
        {
            "_class_name": "UNet2DConditionModel",
            "sample_size": uc.sample_size,
            "in_channels": uc.in_channels,
            "out_channels": uc.out_channels,
            "stem": "space_to_depth_2x2",
            "block_out_channels": list(uc.block_out_channels),
            "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
            "up_block_types": ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
            "mid_block_type": "UNetMidBlock2DCrossAttn",
            "layers_per_block": 1,
            "attention_head_dim": uc.attention_head_dim,
            "heads": {"16x16": c1 // uc.attention_head_dim, "8x8": c2 // uc.attention_head_dim},
            "cross_attention_dim": uc.cross_attention_dim,
            "self_attention_grids": list(uc.self_attn_grids),
            "cross_attention_layers": {
                "down_blocks.0.attentions.0": 16,
                "down_blocks.1.attentions.0": 8,
                "mid_block.attentions.0": 8,
                "up_blocks.0.attentions.0": 8,
                "up_blocks.0.attentions.1": 8,
                "up_blocks.1.attentions.0": 16,
                "up_blocks.1.attentions.1": 16,
            },
            "norm_num_groups": uc.norm_num_groups,
            "parameters": count_params(un),
            **(extra_card or {}),
        },
    )


def verify_node(te, un, out_dir: str) -> None:
    """Run both ONNX models in onnxruntime-node on a fixed input and compare with torch (1e-4)."""
    tok = ClipTokenizer(os.path.join(out_dir, "tokenizer"))
    prompts = ["a red circle", "a green triangle and a blue square", ""]
    ids = np.asarray([tok(p) for p in prompts], np.int32)
    g = torch.Generator().manual_seed(123)
    x = torch.randn(3, 3, 32, 32, generator=g)
    t = torch.tensor([999, 500, 1], dtype=torch.int64)
    with torch.no_grad():
        h, pooled = te(torch.from_numpy(ids))
        out = un(x, t, h)
    data = {
        "input_ids": ids.flatten().tolist(),
        "sample": x.flatten().tolist(),
        "timestep": t.tolist(),
        "last_hidden_state": h.flatten().tolist(),
        "pooler_output": pooled.flatten().tolist(),
        "out_sample": out.flatten().tolist(),
        "D": h.shape[-1],
    }
    js = r"""
const ort = require(process.argv[2]);
const d = require(process.argv[3]);
const dir = process.argv[4];
(async () => {
  const te = await ort.InferenceSession.create(dir + '/text_encoder/model.onnx');
  const un = await ort.InferenceSession.create(dir + '/unet/model.onnx');
  const B = 3, L = 16, D = d.D;
  const r1 = await te.run({ input_ids: new ort.Tensor('int32', Int32Array.from(d.input_ids), [B, L]) });
  const maxdiff = (a, b) => { let m = 0; for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i])); return m; };
  const h = r1.last_hidden_state, p = r1.pooler_output;
  const r2 = await un.run({
    sample: new ort.Tensor('float32', Float32Array.from(d.sample), [B, 3, 32, 32]),
    timestep: new ort.Tensor('int64', BigInt64Array.from(d.timestep.map(BigInt)), [B]),
    encoder_hidden_states: new ort.Tensor('float32', Float32Array.from(d.last_hidden_state), [B, L, D]),
  });
  const o = r2.out_sample;
  const res = {
    te_inputs: te.inputNames, te_outputs: te.outputNames, unet_inputs: un.inputNames, unet_outputs: un.outputNames,
    last_hidden_state: h.dims, pooler_output: p.dims, out_sample: o.dims,
    diff_h: maxdiff(h.data, d.last_hidden_state), diff_p: maxdiff(p.data, d.pooler_output), diff_o: maxdiff(o.data, d.out_sample),
  };
  console.log(JSON.stringify(res));
  const ok = res.diff_h < 1e-4 && res.diff_p < 1e-4 && res.diff_o < 1e-4 &&
    JSON.stringify(o.dims) === JSON.stringify([B, 3, 32, 32]) && JSON.stringify(h.dims) === JSON.stringify([B, L, D]) &&
    JSON.stringify(p.dims) === JSON.stringify([B, D]);
  process.exit(ok ? 0 : 1);
})().catch((e) => { console.error(e); process.exit(2); });
"""
    with tempfile.TemporaryDirectory(prefix="tiny-shapes-verify-") as tmp:
        io_json = os.path.join(tmp, "io.json")
        with open(io_json, "w") as f:
            json.dump(data, f)
        r = run_node(js, [io_json, os.path.abspath(out_dir)])
    print(r.stdout.strip(), r.stderr.strip()[-2000:])
    if r.returncode != 0:
        raise SystemExit(f"onnxruntime-node verification failed (rc {r.returncode})")
    print("onnxruntime-node verification OK")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", default=None)
    ap.add_argument("--out", default=TINY_SHAPES)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-verify", action="store_true")
    ap.add_argument("--weights-out", default=None, help="also write a compact fp16 weights-only file (raw + EMA) here")
    a = ap.parse_args()
    torch.set_num_threads(1)
    if a.ckpt:
        te, un, ck = load_weights(a.ckpt)
        uc = configs_from_dict(ck["config"])[1]
        extra = {"trained_steps": int(ck.get("step", 0)), "weights": "ema" if ck.get("ema_unet") else "raw"}
    else:
        torch.manual_seed(a.seed)
        uc = TinyUNetConfig()
        te, un = build(unet_cfg=uc)
        extra = {"trained_steps": 0, "weights": "random-init"}
    if a.ckpt and a.weights_out:
        write_fp16(ck, a.weights_out)
    export(te, un, uc, a.out, extra)
    for sub in ("text_encoder", "unet"):
        p = os.path.join(a.out, sub, "model.onnx")
        print(p, os.path.getsize(p), "bytes")
    print("params text", count_params(te), "unet", count_params(un))
    if not a.no_verify:
        verify_node(te, un, a.out)


if __name__ == "__main__":
    main()
