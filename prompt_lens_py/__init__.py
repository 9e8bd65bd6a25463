"""Prompt Lens's Python: trains and exports the embedded models, makes the test fixtures, and holds the PyTorch
references the TypeScript engine is checked against.

Needs PyTorch 1.13 and numpy (Debian: `apt-get install python3-torch python3-numpy`, i.e. /usr/bin/python3).
Every script is a module run from the repository root, with no path set up:

    python3 -m prompt_lens_py.<package>.<module> [--help]

and the tests run with

    python3 -m unittest discover -s prompt_lens_py -t .

Layout:
    sd/              Stable Diffusion's building blocks, once: CLIP text encoder, UNet blocks and attention, VAE
                     decoder (diffusers/transformers module names; two traced forms, see sd/__init__.py)
    clip_tokenizer.py  CLIP's BPE tokenizer files for a small vocabulary, and the tokenizer over them
    prng.py          the engine's seeded generator (src/engine/random), bit for bit
    onnx_export.py, onnx_proto.py, onnx_rewrite.py, ort_node.py
                     torch -> ONNX, a protobuf codec and rewrites (fp16, external data), a check in onnxruntime-node
    safetensors.py   safetensors files without the safetensors package
    training/        the recipe both embedded models train with (schedule, EMA, grounding loss, logs, checkpoints)
    tiny_shapes/     the embedded model tiny-shapes: model, scenes, tokenizer, training, export, quality check
    neglect_shapes/  neglect-shapes (tiny-shapes' model on a world that makes it neglect objects): world, training, export
    reference/       PyTorch references for the engine: DDIM sampler, Separate-and-Enhance finetune and gradients
    fixtures/        test fixtures: Stable Diffusion-shaped ONNX models and their gradients, instrumenter graphs,
                     detector scenes
    paths.py         where models and fixtures live in the repository
    tests/           the package's tests
"""
