// The neglect-shapes world (prompt_lens_py/neglect_shapes/world.py): 5 colours, 10 shapes drawn at a fixed
// orientation (triangle apex up, arrow up, diamond a tall rhombus, crescent opening to the upper right), so
// shapes are told apart by fitting each one's template as drawn (templates.ts); moments that ignore
// orientation and stretch would make a diamond a square.
import { NEGLECT_SHAPES, type NeglectShape, insideNeglectShape } from './neglectGeometry';
import { templateClassifier } from './templates';
import type { DetectorWorld } from './world';

const classifier = templateClassifier(NEGLECT_SHAPES, (shape, u, v) => insideNeglectShape(shape as NeglectShape, u, v));

export const NEGLECT_SHAPES_WORLD: DetectorWorld = {
  name: 'neglect-shapes',
  colours: ['red', 'blue', 'green', 'yellow', 'purple'],
  shapes: NEGLECT_SHAPES,
  // world.RGB * 255: red (0.90, 0.10, 0.10), blue (0.10, 0.20, 0.95), green (0.10, 0.75, 0.15),
  // yellow (0.95, 0.90, 0.10), purple (0.78, 0.12, 0.82): hue midway between red and blue
  palette: {
    red: [229.5, 25.5, 25.5],
    blue: [25.5, 51, 242.25],
    green: [25.5, 191.25, 38.25],
    yellow: [242.25, 229.5, 25.5],
    purple: [198.9, 30.6, 209.1],
  },
  // world.BACKGROUND (0.5, 0.5, 0.5)
  background: [127.5, 127.5, 127.5],
  classify: (seg, region, features) => classifier.classify(seg, region, features.peak, features.bbox),
};
