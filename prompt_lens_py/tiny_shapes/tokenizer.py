"""tiny-shapes' tokenizer: CLIP's BPE files (prompt_lens_py.clip_tokenizer) over the words of its captions, every
word one token; padding is the end token (as SD 1.x), 16 positions.

    python3 -m prompt_lens_py.tiny_shapes.tokenizer [DIR]   # writes the files (default models/tiny-shapes/tokenizer)
"""
from __future__ import annotations

import os
import sys

from prompt_lens_py.clip_tokenizer import ClipTokenizer, write_files
from prompt_lens_py.paths import TINY_SHAPES

MODEL_MAX_LENGTH = 16

WORDS = [
    "a", "an", "and", "the", "of", "photo", "with", ",", ".",
    "red", "green", "blue", "yellow",
    "circle", "square", "triangle",
    "circles", "squares", "triangles",
    "shape", "shapes", "two", "three", "one", "on", "grey", "background",
]


def write_tokenizer(out_dir: str, words: list[str] = WORDS) -> ClipTokenizer:
    """Writes the files and checks that every word is one token."""
    write_files(out_dir, words, MODEL_MAX_LENGTH)
    tok = ClipTokenizer(out_dir)
    for w in words:
        assert len(tok.encode(w)) == 1, (w, tok.tokens(w))
    return tok


if __name__ == "__main__":
    tok = write_tokenizer(sys.argv[1] if len(sys.argv) > 1 else os.path.join(TINY_SHAPES, "tokenizer"))
    print("vocab", len(tok.encoder), "sot", tok.sot, "eot", tok.eot)
    for t in ["a red circle", "A photo of a red circle, a green triangle and a blue square.", "", "a purple hexagon"]:
        print(repr(t), tok(t), tok.tokens(t))
