"""Known values of the token and pixel grounding losses, and which caption words are grounded."""
import os
import unittest

import numpy as np
import torch

from prompt_lens_py.clip_tokenizer import ClipTokenizer
from prompt_lens_py.paths import TINY_SHAPES
from prompt_lens_py.tiny_shapes.train import word_positions
from prompt_lens_py.training.grounding import pixel_loss, token_loss


def top_left_object() -> np.ndarray:
    cov = np.zeros((1, 32, 32), np.float32)
    cov[0, :8, :8] = 1  # the top-left cell of a 4x4 grid: area share 1/16
    return cov


class GroundingTest(unittest.TestCase):
    grid, tokens, heads = 4, 5, 2

    def test_word_positions_follow_caption_order(self):
        tok = ClipTokenizer(os.path.join(TINY_SHAPES, "tokenizer"))
        ids = np.asarray(tok("a photo of a red circle and a red square"))
        # start, a, photo, of, a, red(5), circle(6), and, a, red(9), square(10)
        self.assertEqual(word_positions(ids, [("red", "circle"), ("red", "square")], tok.encoder), [(0, 5), (0, 6), (1, 9), (1, 10)])

    def test_token_loss_known_values(self):
        cov = top_left_object()
        probs = torch.full((self.heads, self.grid * self.grid, self.tokens), 1.0 / self.tokens)  # uniform over pixels
        self.assertAlmostEqual(float(token_loss([probs], [cov], [[(0, 2)]])), (1 - 1 / 16) ** 2, delta=1e-6)
        inside = probs.clone()
        inside[:, 1:, 2] = 0  # token 2 attends only inside its object
        self.assertLess(float(token_loss([inside], [cov], [[(0, 2)]])), 1e-12)
        self.assertEqual(float(token_loss([probs], [cov], [[]])), 0.0)  # nothing grounded (a dropped caption)

    def test_pixel_loss_known_values(self):
        cov = top_left_object()
        half = torch.full((self.heads, self.grid * self.grid, self.tokens), 0.5)  # BCE(0.5, m) = log 2 whatever m is
        self.assertAlmostEqual(float(pixel_loss([half], [cov], [[(0, 2)]])), float(np.log(2)), delta=1e-6)
        exact = torch.zeros((self.heads, self.grid * self.grid, self.tokens))
        exact[:, 0, 2] = 1  # the word's map is its mask
        self.assertLess(float(pixel_loss([exact], [cov], [[(0, 2)]])), 1e-5)


if __name__ == "__main__":
    unittest.main()
