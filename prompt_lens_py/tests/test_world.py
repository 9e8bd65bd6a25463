"""neglect-shapes' data design: the split of shape pairs, the shares of scene kinds, determinism."""
from __future__ import annotations

import json
import os
import unittest

import numpy as np

from prompt_lens_py.neglect_shapes import world
from prompt_lens_py.paths import NEGLECT_SHAPES


class WorldTest(unittest.TestCase):
    def test_split(self):
        seen, held = world.pair_split()
        self.assertEqual((len(seen), len(held)), (15, 30))
        degree = {s: sum(s in p for p in seen) for s in world.SHAPES}
        self.assertEqual(set(degree.values()), {world.SEEN_DEGREE}, degree)
        with open(os.path.join(NEGLECT_SHAPES, "pairs.json")) as f:
            stored = json.load(f)
        self.assertEqual(stored, json.loads(json.dumps(world.split_record())),
                         "pairs.json is stale: python3 -m prompt_lens_py.neglect_shapes.world --write-pairs")

    def test_held_out_pairs_never_appear(self, n: int = 3000):
        rng = np.random.default_rng(5)
        kinds = {"one": 0, "two": 0, "omitted": 0, "absent": 0}
        for _ in range(n):
            s = world.make_scene(rng)
            for objs in (s["objects"], s["named"]):
                if len(objs) == 2:
                    (c1, a), (c2, b) = objs
                    self.assertTrue(world.is_seen(a, b) and a != b and c1 != c2, objs)
            self.assertEqual(s["caption"], world.caption_for(s["named"]))
            self.assertEqual(s["image"].shape, (3, world.SIZE, world.SIZE))
            self.assertEqual(s["masks"].shape[0], len(s["objects"]))
            self.assertTrue(all(m.sum() >= 20 for m in s["masks"]), "every object is visible")
            kinds["two" if len(s["objects"]) == 2 else "one"] += 1
            if s["noise"]:
                kinds[s["noise"]] += 1
        self.assertLess(abs(kinds["two"] / n - world.P_TWO), 0.03, kinds)
        self.assertLess(abs(kinds["omitted"] / n - world.P_TWO * world.P_OMIT), 0.015, kinds)
        self.assertLess(abs(kinds["absent"] / n - (1 - world.P_TWO) * world.P_ABSENT), 0.015, kinds)

    def test_deterministic(self):
        a = world.make_batch(np.random.default_rng([0, 7]), 8)
        b = world.make_batch(np.random.default_rng([0, 7]), 8)
        self.assertEqual(a[1], b[1])
        self.assertTrue(np.array_equal(a[0], b[0]))

    def test_caption_template(self):
        self.assertEqual(world.caption_for([("red", "star")]), "a red star")
        self.assertEqual(world.caption_for([("red", "star"), ("blue", "ring")]), "a red star and a blue ring")


if __name__ == "__main__":
    unittest.main()
