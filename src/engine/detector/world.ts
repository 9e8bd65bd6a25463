// A world: the scenes a model draws, as the detector needs to know them. Its colours (with the RGB its
// generator paints them in), its shapes, and the classifier that names a region's shape. A model folder
// chooses its world in prompt_lens.json ("detector": "<name>"); see worlds.ts for the registry.
import type { Colour, Rgb, Shape } from './palette';
import type { Region, Segmentation } from './regions';
import type { ShapeFeatures } from './shape';

export interface ShapeCall {
  shape: Shape;
  /** Per shape (the classifier's own figures): about 1 for a clean render of that shape, lower the less alike. */
  scores: Readonly<Record<Shape, number>>;
}

export interface DetectorWorld {
  /** The name a model's prompt_lens.json gives ("tiny-shapes"). */
  readonly name: string;
  /** Colour words, in the order of segmentation labels. */
  readonly colours: readonly Colour[];
  readonly shapes: readonly Shape[];
  /** The generator's RGB per colour (0-255). */
  readonly palette: Readonly<Record<Colour, Rgb>>;
  /** The generator's background: only a fallback, the detector estimates it from the border. */
  readonly background: Rgb;
  /** Names a segmented region's shape; `features` are the world-independent region features (shape.ts). */
  classify(seg: Segmentation, region: Region, features: ShapeFeatures): ShapeCall;
}

export function isColourOf(world: DetectorWorld, word: string): boolean {
  return world.colours.includes(word);
}

export function isShapeOf(world: DetectorWorld, word: string): boolean {
  return world.shapes.includes(word);
}
