"""Prompt Lens's Python: trains and exports the embedded models, makes the test fixtures, and holds the PyTorch
references the TypeScript engine is checked against.

Needs PyTorch 1.13 and numpy (Debian: `apt-get install python3-torch python3-numpy`, i.e. /usr/bin/python3).
Every script is a module run from the repository root, with no path set up:

    python3 -m prompt_lens_py.<package>.<module> [--help]

and the tests run with

    python3 -m unittest discover -s prompt_lens_py -t .

Layout:
    tiny_shapes/     the embedded model tiny-shapes: model, scenes, tokenizer files, training, export, quality check
    neglect_shapes/  neglect-shapes (tiny-shapes' model on a world that makes it neglect objects): world, training, export
    reference/       PyTorch references for the engine: DDIM sampler, Separate-and-Enhance finetune and gradients
    fixtures/        test fixtures: Stable Diffusion-shaped ONNX models and their gradients, instrumenter graphs,
                     detector scenes
    prng.py          the engine's seeded generator (src/engine/random), bit for bit
    paths.py         where models and fixtures live in the repository
    tests/           the package's tests
"""
