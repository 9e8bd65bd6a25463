"""Shared set-up for the neglect-shapes scripts: paths, one CPU thread, the vocabulary.

neglect-shapes reuses tiny-shapes' model, tokenizer construction and export, the shared training recipe and the
reference sampler; only the vocabulary differs (`words()`). Import this module before torch: it limits the thread
pools first.
"""
from __future__ import annotations

import os

from prompt_lens_py.paths import NEGLECT_SHAPES as MODEL_DIR

TRAIN_DIR = os.path.join(MODEL_DIR, "train")  # the committed checkpoints; training logs and snapshots (not committed)

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import torch  # noqa: E402

torch.set_num_threads(1)
torch.set_flush_denormal(True)  # Debian's torch 1.13 is very slow on denormal floats

from prompt_lens_py.clip_tokenizer import ClipTokenizer  # noqa: E402
from prompt_lens_py.neglect_shapes import world  # noqa: E402
from prompt_lens_py.tiny_shapes.tokenizer import WORDS, write_tokenizer  # noqa: E402

TOKENIZER_DIR = os.path.join(MODEL_DIR, "tokenizer")
WEIGHTS = os.path.join(TRAIN_DIR, "weights-fp16.pt")  # the committed, resumable UNet checkpoint
TEXT_WEIGHTS = os.path.join(TRAIN_DIR, "text-encoder-fp16.pt")  # the pretrained, frozen text encoder


def words() -> list[str]:
    """tiny-shapes' words (its prompts keep tokenising the same way) plus this world's colours and shapes."""
    extra = [w for w in (*world.COLOURS, *world.SHAPES) if w not in WORDS]
    return WORDS + extra


def tokenizer() -> ClipTokenizer:
    """The CLIP tokenizer over this model's files, written first when missing."""
    if not os.path.exists(os.path.join(TOKENIZER_DIR, "vocab.json")):
        return write_tokenizer(TOKENIZER_DIR, words())
    tok = ClipTokenizer(TOKENIZER_DIR)
    for w in words():
        assert len(tok.encode(w)) == 1, (w, tok.tokens(w))
    return tok
