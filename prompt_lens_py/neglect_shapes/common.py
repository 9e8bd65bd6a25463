"""Shared set-up for the neglect-shapes scripts: paths, one CPU thread, the vocabulary.

neglect-shapes reuses tiny-shapes' model, tokenizer, export, training helpers and reference sampler
(prompt_lens_py.tiny_shapes, prompt_lens_py.reference); only the vocabulary differs, and `use_vocabulary()` swaps it
in. Import this module before torch: it limits the thread pools first.
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

from prompt_lens_py.neglect_shapes import world  # noqa: E402
from prompt_lens_py.tiny_shapes import tokenizer_files  # noqa: E402

TOKENIZER_DIR = os.path.join(MODEL_DIR, "tokenizer")
WEIGHTS = os.path.join(TRAIN_DIR, "weights-fp16.pt")  # the committed, resumable UNet checkpoint
TEXT_WEIGHTS = os.path.join(TRAIN_DIR, "text-encoder-fp16.pt")  # the pretrained, frozen text encoder


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
