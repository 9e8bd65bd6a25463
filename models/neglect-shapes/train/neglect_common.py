"""Shared set-up for the neglect-shapes scripts: paths, one CPU thread, and the tiny-shapes code they reuse.

neglect-shapes reuses tiny-shapes' model (`model.py`), tokenizer (`tokenizer_files.py`), export
(`export.py`), training helpers (`train.py`) and reference sampler (`reference/sampler.py`) by importing
them from models/tiny-shapes; only the vocabulary differs, and `use_vocabulary()` swaps it in.
"""
from __future__ import annotations

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL_DIR = os.path.dirname(HERE)
REPO_ROOT = os.path.normpath(os.path.join(MODEL_DIR, "..", ".."))
TINY_TRAIN = os.path.join(REPO_ROOT, "models", "tiny-shapes", "train")
TINY_REFERENCE = os.path.join(REPO_ROOT, "models", "tiny-shapes", "reference")
for p in (HERE, TINY_TRAIN, TINY_REFERENCE):
    if p not in sys.path:
        sys.path.insert(0 if p == HERE else len(sys.path), p)

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import torch  # noqa: E402

torch.set_num_threads(1)
torch.set_flush_denormal(True)  # Debian's torch 1.13 is very slow on denormal floats

import tokenizer_files  # noqa: E402  (tiny-shapes)

import world  # noqa: E402

TOKENIZER_DIR = os.path.join(MODEL_DIR, "tokenizer")
WEIGHTS = os.path.join(HERE, "weights-fp16.pt")  # the committed, resumable UNet checkpoint
TEXT_WEIGHTS = os.path.join(HERE, "text-encoder-fp16.pt")  # the pretrained, frozen text encoder


def words() -> list[str]:
    """tiny-shapes' words (its prompts keep tokenising the same way) plus this world's colours and shapes."""
    extra = [w for w in (*world.COLOURS, *world.SHAPES) if w not in tokenizer_files.WORDS]
    return list(tokenizer_files.WORDS) + extra


def use_vocabulary() -> None:
    """Make tiny-shapes' tokenizer_files (and so export.py, which calls its write_files) build this vocabulary."""
    tokenizer_files.WORDS = words()


def tokenizer():
    """The CLIP tokenizer over this model's files, written first when missing."""
    use_vocabulary()
    if not os.path.exists(os.path.join(TOKENIZER_DIR, "vocab.json")):
        tokenizer_files.write_files(TOKENIZER_DIR)
    tok = tokenizer_files.ClipTokenizer(TOKENIZER_DIR)
    for w in words():
        assert len(tok.encode(w)) == 1, (w, tok.tokens(w))
    return tok


def atomic_save(obj, path: str) -> None:
    """torch.save to a temporary file in the same folder, then rename: a reader never sees half a file."""
    tmp = f"{path}.tmp-{os.getpid()}"
    torch.save(obj, tmp)
    os.replace(tmp, path)
