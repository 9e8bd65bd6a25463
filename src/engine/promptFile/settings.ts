import { isScalar, isSeq, type Node } from 'yaml';
import { GUIDANCE_EXPECTED, isGuidanceScale } from './guidance';
import type { ImageSize, SettingKey } from './types';

/** A setting's value, or why it is wrong and (for list items) which node to underline. */
export type Checked<T> = { value: T } | { error: string; node?: Node };

const MAX_SEED = 0xffffffff; // the PRNG takes a 32-bit seed

function scalarValue(node: Node | null): unknown {
  return node && isScalar(node) ? node.value : undefined;
}

function show(node: Node | null): string {
  if (!node || (isScalar(node) && node.value === null)) return 'nothing';
  if (isSeq(node)) return 'a list';
  if (!isScalar(node)) return 'a mapping';
  return JSON.stringify(node.value);
}

function isSeed(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= MAX_SEED;
}

function number(node: Node | null, ok: (v: number) => boolean, expected: string): Checked<number> {
  const v = scalarValue(node);
  return typeof v === 'number' && ok(v) ? { value: v } : { error: `${expected}, got ${show(node)}` };
}

function size(node: Node | null): Checked<ImageSize> {
  const v = scalarValue(node);
  const expected = 'a multiple of 8 (e.g. 512) or WIDTHxHEIGHT (e.g. 512x768)';
  let dims: number[] | undefined;
  if (typeof v === 'number') dims = [v, v];
  const m = typeof v === 'string' ? /^\s*(\d+)\s*[xX×]\s*(\d+)\s*$/.exec(v) : null;
  if (m) dims = [Number(m[1]), Number(m[2])];
  if (!dims || !dims.every((d) => Number.isInteger(d) && d >= 8 && d % 8 === 0)) {
    return { error: `${expected}, got ${show(node)}` };
  }
  return { value: { width: dims[0], height: dims[1] } };
}

/** Validators per key; each message starts after `"key" must be `. */
export const settingCheckers: { [K in SettingKey]: (node: Node | null) => Checked<unknown> } = {
  model(node) {
    const v = scalarValue(node);
    return typeof v === 'string' && v.trim() !== ''
      ? { value: v.trim() }
      : { error: `a model name (e.g. tiny-shapes) or a folder path, got ${show(node)}` };
  },
  seed(node) {
    const expected = `a non-negative integer up to ${MAX_SEED}, or a list of them`;
    if (node && isSeq(node)) {
      if (node.items.length === 0) return { error: `${expected}, got an empty list` };
      const seeds: number[] = [];
      for (const item of node.items as Node[]) {
        const v = scalarValue(item);
        if (!isSeed(v)) return { error: `${expected}, got ${show(item)} in the list`, node: item };
        seeds.push(v);
      }
      return { value: seeds };
    }
    const v = scalarValue(node);
    return isSeed(v) ? { value: [v] } : { error: `${expected}, got ${show(node)}` };
  },
  steps: (node) => number(node, (v) => Number.isInteger(v) && v >= 1 && v <= 1000, 'an integer from 1 to 1000'),
  guidance: (node) => number(node, isGuidanceScale, GUIDANCE_EXPECTED),
  scheduler(node) {
    return scalarValue(node) === 'ddim' ? { value: 'ddim' } : { error: `"ddim" (the only scheduler so far), got ${show(node)}` };
  },
  size,
  eta: (node) => number(node, (v) => v >= 0 && v <= 1, 'a number from 0 to 1'),
  negative(node) {
    const v = scalarValue(node);
    return typeof v === 'string' ? { value: v } : { error: `a string (the negative prompt), got ${show(node)}` };
  },
};

export const settingKeys = Object.keys(settingCheckers) as SettingKey[];

/** The known key a mistyped one most likely meant: same letters up to case, a close spelling, or a part of it. */
export function suggestKey(key: string): SettingKey | undefined {
  const k = key.toLowerCase();
  let best: SettingKey | undefined;
  let bestDistance = Infinity;
  for (const known of settingKeys) {
    const d = editDistance(k, known);
    if (d < bestDistance) {
      bestDistance = d;
      best = known;
    }
  }
  if (best && bestDistance <= Math.max(1, Math.floor(best.length / 3))) return best;
  // guidance_scale, num_inference_steps, negative_prompt: diffusers' names for these settings.
  return settingKeys.find((known) => k.includes(known));
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}
