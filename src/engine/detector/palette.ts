// The colour space the detector classifies pixels in, and a world's palette seen from a background.
//
// Colour and shape names are a world's vocabulary (world.ts); here they are plain strings.

export type Colour = string;
export type Shape = string;

export type Rgb = readonly [number, number, number];

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
 * Palette hues and chromas relative to `background`, in the order of `colours`. Everything the worlds'
 * generators draw is an anti-aliased mix `cov * colour + (1 - cov) * background`, so `pixel - background`
 * points exactly at the colour's hue and its length along it, divided by the colour's chroma, is the coverage.
 */
export function paletteFrom(background: Rgb, colours: readonly Colour[], palette: Readonly<Record<Colour, Rgb>>): PaletteEntry[] {
  return colours.map((colour) => {
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
