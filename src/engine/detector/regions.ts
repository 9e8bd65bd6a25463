// What segmentation yields: coloured regions over a world's palette. Its own module so the world, shape
// and template modules can name it without importing the segmenter (which defaults to the tiny-shapes world).
import type { Colour, Rgb } from './palette';

export interface Region {
  colour: Colour;
  /** Pixel indices (y * width + x), ascending. */
  pixels: number[];
}

export interface Segmentation {
  width: number;
  height: number;
  background: Rgb;
  /** The world's colours: labels and coverageByColour index them. */
  colours: readonly Colour[];
  /** Per pixel: index into `colours`, or -1 for background / off-palette. */
  labels: Int8Array;
  /** Per pixel: coverage estimate along its nearest palette hue (can exceed 1 or be negative). */
  coverage: Float32Array;
  /** Per pixel and palette colour: coverage along that colour, `[pixel * colours.length + k]`. */
  coverageByColour: Float32Array;
  regions: Region[];
  /** Pixels of fragments dropped as specks. */
  droppedPixels: number;
}
