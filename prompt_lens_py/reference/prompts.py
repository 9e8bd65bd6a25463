"""Prompts of the Separate-and-Enhance references: pair prompts from a template, and each object's token positions,
found in the tokenised prompt (never hard-coded)."""
from __future__ import annotations

import re

from prompt_lens_py.clip_tokenizer import ClipTokenizer


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z]+", text.lower())


def default_objects(prompt: str) -> list[str]:
    """Last word of each phrase split on ',' and the word 'and': the object nouns."""
    phrases = re.split(r",|\band\b", prompt.lower())
    objs = []
    for ph in phrases:
        w = _words(ph)
        if w:
            objs.append(w[-1])
    return objs


def object_positions(tok: ClipTokenizer, prompt: str, objects: list[str] | None = None) -> list[list[int]]:
    """Token positions (in the padded id sequence, start token = 0) of each object word, in prompt order.

    Each object's tokens are searched left to right after the previous object's, so a repeated word
    ("a red circle and a green circle") gets its own occurrence. Raises when a word is not in the
    (truncated) prompt."""
    objects = objects if objects is not None else default_objects(prompt)
    ids = tok(prompt)
    n_real = 1 + min(len(tok.encode(prompt)), tok.max_length - 2)  # sot + words (truncated)
    out, cursor = [], 1
    for w in objects:
        sub = tok.encode(w)
        if not sub:
            raise ValueError(f"object {w!r} has no tokens")
        found = -1
        for i in range(cursor, n_real - len(sub) + 1):
            if ids[i:i + len(sub)] == sub:
                found = i
                break
        if found < 0:
            raise ValueError(f"object word {w!r} is not in prompt {prompt!r} (after token {cursor})")
        out.append(list(range(found, found + len(sub))))
        cursor = found + len(sub)
    return out


def read_pairs(text: str) -> list[tuple[str, str]]:
    """Pairs 'red circle|blue square' separated by ';' or newlines ('#' starts a comment)."""
    pairs = []
    for line in re.split(r"[;\n]", text):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = [p.strip() for p in re.split(r"\|", line)]
        if len(parts) != 2 or not all(parts):
            raise ValueError(f"a pair is 'A|B', got {line!r}")
        pairs.append((parts[0], parts[1]))
    return pairs


def pair_prompt(a: str, b: str, template: str = "a {A} and a {B}") -> str:
    return template.replace("{A}", a).replace("{B}", b)

