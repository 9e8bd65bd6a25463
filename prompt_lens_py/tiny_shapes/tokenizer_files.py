"""CLIP-format byte-level BPE tokenizer files for tiny-shapes, and a Python CLIP tokenizer.

`write_files(dir)` writes vocab.json, merges.txt, tokenizer_config.json and
special_tokens_map.json exactly in the format of openai/clip-vit-* and SD 1.x
(`tokenizer/` folder), with a tiny vocabulary:

  ids 0..255     CLIP's byte-level unicode characters (bytes_to_unicode order)
  ids 256..511   the same characters with "</w>" (end of word)
  512..          one token per merge, in merge order (intermediates and whole words)
  last two ids   <|startoftext|>, <|endoftext|>

The merges build every vocabulary word left to right. They are constructed
incrementally: for each word, CLIP's BPE with the merges so far is run and the
resulting pieces are joined left to right by new merges appended at the end. A
merge appended later has a higher rank than all earlier ones, so it can never
fire inside an earlier word (BPE always finds an earlier, lower-ranked pair
there), and every vocabulary word becomes exactly one token (checked).

`ClipTokenizer` is CLIP's algorithm (lower-case, whitespace clean-up, CLIP's
pre-tokenisation regex restricted to what Python's `re` can express, BPE with
ranks), giving the ids a standard CLIP tokenizer gives with these files. Padding
is the end token (as SD 1.x), max length 16.
"""
from __future__ import annotations

import html
import json
import os
import re
from functools import lru_cache

MODEL_MAX_LENGTH = 16
SOT = "<|startoftext|>"
EOT = "<|endoftext|>"

WORDS = [
    "a", "an", "and", "the", "of", "photo", "with", ",", ".",
    "red", "green", "blue", "yellow",
    "circle", "square", "triangle",
    "circles", "squares", "triangles",
    "shape", "shapes", "two", "three", "one", "on", "grey", "background",
]


@lru_cache()
def bytes_to_unicode() -> dict[int, str]:
    """CLIP / GPT-2 byte -> unicode character table."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(2**8):
        if b not in bs:
            bs.append(b)
            cs.append(2**8 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def get_pairs(word: tuple[str, ...]) -> set[tuple[str, str]]:
    return {(word[i], word[i + 1]) for i in range(len(word) - 1)}


def bpe(token: str, ranks: dict[tuple[str, str], int]) -> list[str]:
    """CLIP's BPE on one pre-token (already byte-encoded); returns the pieces."""
    word = tuple(token[:-1]) + (token[-1] + "</w>",)
    pairs = get_pairs(word)
    if not pairs:
        return [token + "</w>"]
    while True:
        bigram = min(pairs, key=lambda p: ranks.get(p, float("inf")))
        if bigram not in ranks:
            break
        first, second = bigram
        new_word: list[str] = []
        i = 0
        while i < len(word):
            try:
                j = word.index(first, i)
                new_word.extend(word[i:j])
                i = j
            except ValueError:
                new_word.extend(word[i:])
                break
            if word[i] == first and i < len(word) - 1 and word[i + 1] == second:
                new_word.append(first + second)
                i += 2
            else:
                new_word.append(word[i])
                i += 1
        word = tuple(new_word)
        if len(word) == 1:
            break
        pairs = get_pairs(word)
    return list(word)


def build_merges(words: list[str]) -> list[tuple[str, str]]:
    b2u = bytes_to_unicode()
    merges: list[tuple[str, str]] = []
    ranks: dict[tuple[str, str], int] = {}
    for w in words:
        enc = "".join(b2u[b] for b in w.encode("utf-8"))
        pieces = bpe(enc, ranks)
        while len(pieces) > 1:
            pair = (pieces[0], pieces[1])
            if pair not in ranks:
                ranks[pair] = len(merges)
                merges.append(pair)
            pieces = [pieces[0] + pieces[1]] + pieces[2:]
    return merges


def build_vocab(merges: list[tuple[str, str]]) -> dict[str, int]:
    chars = list(bytes_to_unicode().values())
    vocab_list = chars + [c + "</w>" for c in chars]
    for a, b in merges:
        vocab_list.append(a + b)
    vocab_list += [SOT, EOT]
    return {t: i for i, t in enumerate(vocab_list)}


def write_files(out_dir: str) -> None:
    os.makedirs(out_dir, exist_ok=True)
    merges = build_merges(WORDS)
    vocab = build_vocab(merges)
    with open(os.path.join(out_dir, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump(vocab, f, ensure_ascii=False)
    with open(os.path.join(out_dir, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n")
        for a, b in merges:
            f.write(f"{a} {b}\n")
    special = {
        "bos_token": {"content": SOT, "lstrip": False, "normalized": True, "rstrip": False, "single_word": False},
        "eos_token": {"content": EOT, "lstrip": False, "normalized": True, "rstrip": False, "single_word": False},
        "pad_token": EOT,
        "unk_token": {"content": EOT, "lstrip": False, "normalized": True, "rstrip": False, "single_word": False},
    }
    cfg = {
        "add_prefix_space": False,
        "bos_token": special["bos_token"],
        "do_lower_case": True,
        "eos_token": special["eos_token"],
        "errors": "replace",
        "model_max_length": MODEL_MAX_LENGTH,
        "pad_token": EOT,
        "tokenizer_class": "CLIPTokenizer",
        "unk_token": special["unk_token"],
    }
    with open(os.path.join(out_dir, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(cfg, f, indent=2)
    with open(os.path.join(out_dir, "special_tokens_map.json"), "w", encoding="utf-8") as f:
        json.dump(special, f, indent=2)


# CLIP: r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"""
# Python's re has no \p{..}: letters = [^\W\d_], numbers = \d (one digit), other = [^\s\w]|_ runs.
PAT = re.compile(
    r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[^\W\d_]+|\d|(?:[^\s\w]|_)+""",
    re.IGNORECASE,
)


def basic_clean(text: str) -> str:
    text = html.unescape(html.unescape(text))
    return text.strip()


def whitespace_clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


class ClipTokenizer:
    def __init__(self, tok_dir: str):
        with open(os.path.join(tok_dir, "vocab.json"), encoding="utf-8") as f:
            self.encoder: dict[str, int] = json.load(f)
        self.decoder = {v: k for k, v in self.encoder.items()}
        with open(os.path.join(tok_dir, "merges.txt"), encoding="utf-8") as f:
            lines = f.read().split("\n")
        merges = [tuple(l.split()) for l in lines[1:] if l.strip()]
        self.ranks = {m: i for i, m in enumerate(merges)}
        self.b2u = bytes_to_unicode()
        self.u2b = {v: k for k, v in self.b2u.items()}
        self.sot = self.encoder[SOT]
        self.eot = self.encoder[EOT]
        with open(os.path.join(tok_dir, "tokenizer_config.json"), encoding="utf-8") as f:
            self.max_length = int(json.load(f)["model_max_length"])
        self.cache: dict[str, list[str]] = {}

    def _bpe(self, token: str) -> list[str]:
        if token not in self.cache:
            self.cache[token] = bpe(token, self.ranks)
        return self.cache[token]

    def encode(self, text: str) -> list[int]:
        """Token ids without start/end tokens."""
        text = whitespace_clean(basic_clean(text)).lower()
        ids: list[int] = []
        for tok in PAT.findall(text):
            enc = "".join(self.b2u[b] for b in tok.encode("utf-8"))
            ids.extend(self.encoder[p] for p in self._bpe(enc))
        return ids

    def tokens(self, text: str) -> list[str]:
        return [self.decoder[i] for i in self.encode(text)]

    def __call__(self, text: str) -> list[int]:
        """[SOT] + ids (truncated) + [EOT], padded with EOT to max_length (SD 1.x)."""
        ids = self.encode(text)[: self.max_length - 2]
        ids = [self.sot] + ids + [self.eot]
        return ids + [self.eot] * (self.max_length - len(ids))

    def batch(self, texts: list[str]):
        import numpy as np

        return np.asarray([self(t) for t in texts], dtype=np.int64)


if __name__ == "__main__":
    import sys

    from prompt_lens_py.paths import TINY_SHAPES

    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(TINY_SHAPES, "tokenizer")
    write_files(out)
    tok = ClipTokenizer(out)
    for w in WORDS:
        assert len(tok.encode(w)) == 1, (w, tok.tokens(w))
    print("vocab", len(tok.encoder), "sot", tok.sot, "eot", tok.eot)
    for t in ["a red circle", "A photo of a red circle, a green triangle and a blue square.", "", "a purple hexagon"]:
        print(repr(t), tok(t), tok.tokens(t))
