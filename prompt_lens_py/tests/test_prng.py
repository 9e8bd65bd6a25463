"""The Python PRNG against the vectors the TypeScript engine's tests check (test/unit/random/vectors.json)."""
import json
import os
import unittest

from prompt_lens_py.paths import REPO_ROOT
from prompt_lens_py.prng import test_vectors


class PrngTest(unittest.TestCase):
    def test_matches_the_engines_vectors(self):
        with open(os.path.join(REPO_ROOT, "test", "unit", "random", "vectors.json")) as f:
            self.assertEqual(test_vectors(), json.load(f), "regenerate them: python3 -m prompt_lens_py.prng --vectors")


if __name__ == "__main__":
    unittest.main()
