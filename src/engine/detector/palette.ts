// The tiny-shapes vocabulary and the colour space the detector classifies pixels in.
//
// Values mirror models/tiny-shapes/train/scenes.py (RGB in [0, 1] there, 0-255 here); the scene
// fixture records the generator's palette and a unit test checks that the two agree.

export const COLOURS = ['red', 'green', 'blue', 'yellow'] as const;
export const SHAPES = ['circle', 'square', 'triangle'] as const;
export type Colour = (typeof COLOURS)[number];
export type Shape = (typeof SHAPES)[number];

export type Rgb = readonly [number, number, number];

/** scenes.RGB * 255: red (0.90, 0.10, 0.10), green (0.10, 0.75, 0.15), blue (0.10, 0.20, 0.95), yellow (0.95, 0.90, 0.10). */
export const PALETTE: Readonly<Record<Colour, Rgb>> = {
  red: [229.5, 25.5, 25.5],
  green: [25.5, 191.25, 38.25],
  blue: [25.5, 51, 242.25],
  yellow: [242.25, 229.5, 25.5],
};

/** scenes.BACKGROUND (0.5, 0.5, 0.5): mid-grey, 0 in the model's [-1, 1] space. Only a fallback: the detector estimates it. */
export const DEFAULT_BACKGROUND: Rgb = [127.5, 127.5, 127.5];

export function isColour(word: string): word is Colour {
  return (COLOURS as readonly string[]).includes(word);
}

export function isShape(word: string): word is Shape {
  return (SHAPES as readonly string[]).includes(word);
}

/**
 * Chroma-plane coordinates of an RGB difference (the hexagonal hue/chroma plane of HSV/HSL, without its
 * piecewise folding): `a` along red, `b` along green-minus-blue. Hue = atan2(b, a); chroma = hypot(a, b).
 * Luminance changes (towards white or black) have no component here.
 */
export function chromaPlane(dr: number, dg: number, db: number): [number, number] {
  return [dr - 0.5 * (dg + db), (Math.sqrt(3) / 2) * (dg - db)];
}

/** One palette colour seen from a given background: its hue angle (radians) and chroma (0-255 units). */
export interface PaletteEntry {
  colour: Colour;
  hue: number;
  chroma: number;
}

/**
 * Palette hues and chromas relative to `background`. Everything scenes.py draws is an anti-aliased mix
 * `cov * colour + (1 - cov) * background`, so `pixel - background` points exactly at the colour's hue
 * and its length along it, divided by the colour's chroma, is the coverage.
 */
export function paletteFrom(background: Rgb, palette: Readonly<Record<Colour, Rgb>> = PALETTE): PaletteEntry[] {
  return COLOURS.map((colour) => {
    const [r, g, b] = palette[colour];
    const [a, c] = chromaPlane(r - background[0], g - background[1], b - background[2]);
    return { colour, hue: Math.atan2(c, a), chroma: Math.hypot(a, c) };
  });
}

/** Absolute difference of two angles in radians, folded to [0, pi]. */
export function angleBetween(a: number, b: number): number {
  let d = Math.abs(a - b) % (2 * Math.PI);
  if (d > Math.PI) d = 2 * Math.PI - d;
  return d;
}
