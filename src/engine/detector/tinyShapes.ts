// The tiny-shapes world (prompt_lens_py/tiny_shapes/scenes.py): 4 colours, 3 shapes drawn upright but
// classified by rotation-invariant moments (shape.ts), so its calls do not depend on orientation.
//
// Values mirror scenes.py (RGB in [0, 1] there, 0-255 here); the scene fixture records the generator's
// palette and a unit test checks that the two agree.
import { classifyShape } from './shape';
import type { DetectorWorld } from './world';

export const TINY_SHAPES: DetectorWorld = {
  name: 'tiny-shapes',
  colours: ['red', 'green', 'blue', 'yellow'],
  shapes: ['circle', 'square', 'triangle'],
  // scenes.RGB * 255: red (0.90, 0.10, 0.10), green (0.10, 0.75, 0.15), blue (0.10, 0.20, 0.95), yellow (0.95, 0.90, 0.10)
  palette: {
    red: [229.5, 25.5, 25.5],
    green: [25.5, 191.25, 38.25],
    blue: [25.5, 51, 242.25],
    yellow: [242.25, 229.5, 25.5],
  },
  // scenes.BACKGROUND (0.5, 0.5, 0.5): mid-grey, 0 in the model's [-1, 1] space
  background: [127.5, 127.5, 127.5],
  classify: (_seg, _region, features) => {
    const d = classifyShape(features);
    return { shape: d.shape, scores: { triangle: d.triangleScore, square: d.squareScore } };
  },
};
