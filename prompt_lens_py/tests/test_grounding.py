"""Known values of the token grounding loss: python3 -m prompt_lens_py.tests.test_grounding"""
import os

import numpy as np
import torch

from prompt_lens_py.paths import TINY_SHAPES
from prompt_lens_py.tiny_shapes.train import word_positions
from prompt_lens_py.training.grounding import pixel_loss, token_loss
from prompt_lens_py.clip_tokenizer import ClipTokenizer


def test_word_positions_follow_caption_order():
    tok = ClipTokenizer(os.path.join(TINY_SHAPES, "tokenizer"))
    ids = np.asarray(tok("a photo of a red circle and a red square"))
    # start, a, photo, of, a, red(5), circle(6), and, a, red(9), square(10)
    assert word_positions(ids, [("red", "circle"), ("red", "square")], tok.encoder) == [(0, 5), (0, 6), (1, 9), (1, 10)]


def test_token_loss_known_values():
    grid, tokens, heads = 4, 5, 2
    cov = np.zeros((1, 32, 32), np.float32)
    cov[0, :8, :8] = 1  # the top-left cell of the 4x4 grid: area share 1/16
    probs = torch.full((heads, grid * grid, tokens), 1.0 / tokens)  # uniform over pixels for every token
    uniform = float(token_loss([probs], [cov], [[(0, 2)]]))
    assert abs(uniform - (1 - 1 / 16) ** 2) < 1e-6
    inside = probs.clone()
    inside[:, 1:, 2] = 0  # token 2 attends only inside its object
    assert float(token_loss([inside], [cov], [[(0, 2)]])) < 1e-12
    assert float(token_loss([probs], [cov], [[]])) == 0.0  # nothing grounded (a dropped caption)


def test_pixel_loss_known_values():
    grid, tokens, heads = 4, 5, 2
    cov = np.zeros((1, 32, 32), np.float32)
    cov[0, :8, :8] = 1
    half = torch.full((heads, grid * grid, tokens), 0.5)  # BCE(0.5, m) = log 2 whatever m is
    assert abs(float(pixel_loss([half], [cov], [[(0, 2)]])) - np.log(2)) < 1e-6
    exact = torch.zeros((heads, grid * grid, tokens))
    exact[:, 0, 2] = 1  # the word's map is its mask
    assert float(pixel_loss([exact], [cov], [[(0, 2)]])) < 1e-5


if __name__ == "__main__":
    test_word_positions_follow_caption_order()
    test_token_loss_known_values()
    test_pixel_loss_known_values()
    print("ok")
