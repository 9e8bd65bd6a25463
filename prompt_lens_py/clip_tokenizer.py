"""CLIP's byte-level BPE tokenizer files for a small vocabulary, and CLIP's tokenizer over them.

`write_files(dir, words, max_length)` writes vocab.json, merges.txt, tokenizer_config.json and
special_tokens_map.json in the format of openai/clip-vit-* and SD's `tokenizer/` folder:

  ids 0..255     CLIP's byte-level unicode characters (bytes_to_unicode order)
  ids 256..511   the same characters with "</w>" (end of word)
  512..          one token per merge, in merge order (intermediates and whole words)
  last two ids   <|startoftext|>, <|endoftext|> (so the end token has the highest id, as in CLIP)

The merges build every vocabulary word left to right. They are constructed incrementally: for each word,
CLIP's BPE with the merges so far is run and the resulting pieces are joined left to right by new merges
appended at the end. A merge appended later has a higher rank than all earlier ones, so it can never fire
inside an earlier word (BPE always finds an earlier, lower-ranked pair there), and every vocabulary word
becomes exactly one token.

`ClipTokenizer` is CLIP's algorithm (lower-case, whitespace clean-up, CLIP's pre-tokenisation regex restricted
to what Python's `re` can express, BPE with ranks), giving the ids a standard CLIP tokenizer gives with these
files, padded with the files' pad token to their model_max_length.
"""
from __future__ import annotations

import html
import json
import os
import re
from functools import lru_cache

SOT = "<|startoftext|>"
EOT = "<|endoftext|>"


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


def byte_encode(text: str) -> str:
    b2u = bytes_to_unicode()
    return "".join(b2u[b] for b in text.encode("utf-8"))


def build_merges(words: list[str]) -> list[tuple[str, str]]:
    merges: list[tuple[str, str]] = []
    ranks: dict[tuple[str, str], int] = {}
    for w in words:
        pieces = bpe(byte_encode(w), ranks)
        while len(pieces) > 1:
            pair = (pieces[0], pieces[1])
            if pair not in ranks:
                ranks[pair] = len(merges)
                merges.append(pair)
            pieces = [pieces[0] + pieces[1]] + pieces[2:]
    return merges


def build_vocab(merges: list[tuple[str, str]]) -> dict[str, int]:
    chars = list(bytes_to_unicode().values())
    tokens = chars + [c + "</w>" for c in chars] + [a + b for a, b in merges]
    unique = list(dict.fromkeys(tokens))  # two merges can make the same token: its first id, as vocab.json is a dict
    return {t: i for i, t in enumerate(unique + [SOT, EOT])}


def _write_json(path: str, obj: dict, final_newline: bool) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2)
        if final_newline:
            f.write("\n")


def write_files(out_dir: str, words: list[str], max_length: int, pad_token: str = EOT,
                recent_transformers: bool = False) -> dict[str, int]:
    """The four tokenizer files; returns the vocabulary. pad_token: SD 1.x pads with <|endoftext|>, SD 2.x with "!"
    (id 0 in CLIP's vocabulary, and here too: the byte-level characters come first, "!" the first of them).
    recent_transformers: also what a recent transformers' save_pretrained writes (clean_up_tokenization_spaces, the
    special tokens' ids when the pad token is not the end token, final newlines), as the SD fixtures mimic; the
    embedded models' files are the older format."""
    os.makedirs(out_dir, exist_ok=True)
    merges = build_merges(words)
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
        "pad_token": pad_token,
        "unk_token": {"content": EOT, "lstrip": False, "normalized": True, "rstrip": False, "single_word": False},
    }
    config = {
        "add_prefix_space": False,
        "bos_token": special["bos_token"],
        **({"clean_up_tokenization_spaces": True} if recent_transformers else {}),
        "do_lower_case": True,
        "eos_token": special["eos_token"],
        "errors": "replace",
        "model_max_length": max_length,
        "pad_token": pad_token,
        "tokenizer_class": "CLIPTokenizer",
        "unk_token": special["unk_token"],
    }
    if recent_transformers and pad_token != EOT:
        # transformers >= 4.34 saves the special tokens with their ids; SD 2.x's "!" is one of them.
        config["added_tokens_decoder"] = {
            str(vocab[t]): {"content": t, "lstrip": False, "normalized": t != pad_token, "rstrip": False, "single_word": False,
                            "special": True}
            for t in sorted({pad_token, SOT, EOT}, key=vocab.get)
        }
    _write_json(os.path.join(out_dir, "tokenizer_config.json"), config, recent_transformers)
    _write_json(os.path.join(out_dir, "special_tokens_map.json"), special, recent_transformers)
    return vocab


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
        self.sot = self.encoder[SOT]
        self.eot = self.encoder[EOT]
        with open(os.path.join(tok_dir, "tokenizer_config.json"), encoding="utf-8") as f:
            config = json.load(f)
        self.max_length = int(config["model_max_length"])
        self.pad = self.encoder[config["pad_token"]]
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
            ids.extend(self.encoder[p] for p in self._bpe(byte_encode(tok)))
        return ids

    def tokens(self, text: str) -> list[str]:
        return [self.decoder[i] for i in self.encode(text)]

    def __call__(self, text: str) -> list[int]:
        """[SOT] + ids (truncated) + [EOT], padded to max_length."""
        ids = self.encode(text)[: self.max_length - 2]
        ids = [self.sot] + ids + [self.eot]
        return ids + [self.pad] * (self.max_length - len(ids))

    def batch(self, texts: list[str]):
        import numpy as np

        return np.asarray([self(t) for t in texts], dtype=np.int64)
