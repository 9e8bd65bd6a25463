// The detector's worlds by name, as a model's prompt_lens.json names them ("detector": "neglect-shapes").
import { NEGLECT_SHAPES_WORLD } from './neglectShapes';
import { TINY_SHAPES } from './tinyShapes';
import type { DetectorWorld } from './world';

export const DETECTOR_WORLDS: readonly DetectorWorld[] = [TINY_SHAPES, NEGLECT_SHAPES_WORLD];

/** A model folder without a "detector" key gets tiny-shapes' world (the first embedded model's). */
export const DEFAULT_DETECTOR_WORLD = TINY_SHAPES;

export function detectorWorldNames(): string[] {
  return DETECTOR_WORLDS.map((w) => w.name);
}

/** The world of this name, or undefined. */
export function findDetectorWorld(name: string): DetectorWorld | undefined {
  return DETECTOR_WORLDS.find((w) => w.name === name);
}
