// A model's pairs.json (prompt_lens_py/neglect_shapes/world.py writes it): which shape pairs its training data
// showed together and which it held out, with the training frequencies. The benchmarks that measure the
// unseen-combinations regime read it from here.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { DetectorWorld } from '../src/engine/detector';
import type { Rng } from '../src/engine/random';
import type { ShapeObject } from './neglectSplits';

export interface PairsFile {
  shapes: string[];
  colours: string[];
  shape_frequency: Record<string, number>;
  seen_pairs: [string, string][];
  held_out_pairs: [string, string][];
}

/** The model's pairs.json, or undefined when it has none (tiny-shapes: every pair was seen). */
export async function readPairsFile(model: string, world: DetectorWorld): Promise<PairsFile | undefined> {
  const file = path.join(model, 'pairs.json');
  const text = await fs.readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const pairs = JSON.parse(text) as PairsFile;
  const unknown = [...pairs.shapes.filter((s) => !world.shapes.includes(s)), ...pairs.colours.filter((c) => !world.colours.includes(c))];
  if (unknown.length > 0) {
    throw new Error(`${file} names ${unknown.join(', ')}, which the model's detector world (${world.name}) does not know: set "detector" in its prompt_lens.json`);
  }
  return pairs;
}

/** `count` colourings of a shape pair (two different colours each, word order drawn), from one fixed stream. */
export function colourings(pair: readonly [string, string], colours: readonly string[], count: number, rng: Rng): ShapeObject[][] {
  const pick = (n: number): number => Math.floor(rng.nextFloat64() * n);
  return Array.from({ length: count }, () => {
    const a = colours[pick(colours.length)];
    const rest = colours.filter((c) => c !== a);
    const b = rest[pick(rest.length)];
    const objects = [{ colour: a, shape: pair[0] }, { colour: b, shape: pair[1] }];
    return pick(2) === 0 ? objects : [objects[1], objects[0]];
  });
}
