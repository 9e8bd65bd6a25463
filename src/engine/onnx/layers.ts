/** Turns structural matches into described layers: diffusers-style names and the head geometry. */
import type { AttentionMatch } from './findAttention';
import type { GraphIndex } from './graph';
import { DataType } from './proto';
import { tensorDims } from './tensorData';
import { InstrumentError, type KeyDtype } from './types';

export interface LayerPlan {
  match: AttentionMatch;
  name: string;
  heads: number;
  headDim: number;
  innerDim: number;
  textDim: number;
  keyShape: [number, number];
  keyDtype: KeyDtype;
}

/** `/down_blocks.1/attentions.0/transformer_blocks.0/attn2/Softmax` -> `down_blocks.1.attentions.0.transformer_blocks.0.attn2`. */
export function scopeOf(nodeName: string | undefined, dropTrailing: string[] = []): string | undefined {
  if (!nodeName || !nodeName.includes('/')) return undefined;
  const parts = nodeName.split('/').filter(Boolean);
  parts.pop(); // the op's own name
  while (parts.length && dropTrailing.includes(parts[parts.length - 1])) parts.pop();
  return parts.length ? parts.join('.') : undefined;
}

function layerName(match: AttentionMatch, index: number): string {
  return scopeOf(match.softmax.name) ?? scopeOf(match.keyProjection.name, ['to_k']) ?? `cross_attention.${index}`;
}

export function planLayers(index: GraphIndex, matches: AttentionMatch[], headsOverride?: number): LayerPlan[] {
  const used = new Map<string, number>();
  return matches.map((match, i) => {
    let name = layerName(match, i);
    const seen = used.get(name) ?? 0;
    used.set(name, seen + 1);
    if (seen) name = `${name}.${seen}`;

    const weight = index.initializers.get(match.keyWeight)!;
    const dims = tensorDims(weight);
    if (dims.length !== 2) throw new InstrumentError(`${name}: key weight ${match.keyWeight} has shape [${dims}], expected 2-D`);
    const [textDim, innerDim] = match.keyTransposed ? dims : [dims[1], dims[0]];
    const keyDtype: KeyDtype | undefined = weight.dataType === DataType.FLOAT ? 'float32' : weight.dataType === DataType.FLOAT16 ? 'float16' : undefined;
    if (!keyDtype) throw new InstrumentError(`${name}: key weight ${match.keyWeight} has ONNX data type ${weight.dataType}; only float32 and float16 are supported`);

    const { heads, headDim } = headGeometry(name, match, innerDim, headsOverride);
    return { match, name, heads, headDim, innerDim, textDim, keyShape: [dims[0], dims[1]], keyDtype };
  });
}

/** Heads from a constant head reshape, else d_head from scale = 1/sqrt(d_head), else the caller's override. */
function headGeometry(name: string, m: AttentionMatch, inner: number, override?: number): { heads: number; headDim: number } {
  const ok = (h: number) => Number.isInteger(h) && h > 0 && inner % h === 0;
  if (m.reshapeHeads && ok(m.reshapeHeads)) return { heads: m.reshapeHeads, headDim: inner / m.reshapeHeads };
  if (m.reshapeHeadDim && ok(inner / m.reshapeHeadDim)) return { heads: inner / m.reshapeHeadDim, headDim: m.reshapeHeadDim };
  if (m.scale && m.scale > 0) {
    const d = Math.round(1 / (m.scale * m.scale));
    if (Math.abs(1 / Math.sqrt(d) - m.scale) < 1e-3 * m.scale && ok(inner / d)) return { heads: inner / d, headDim: d };
  }
  if (override && ok(override)) return { heads: override, headDim: inner / override };
  throw new InstrumentError(
    `${name}: cannot tell the number of attention heads (no constant head reshape, no 1/sqrt(d_head) scale` +
      `${m.scale ? ` — found scale ${m.scale}` : ''}); pass options.heads`,
  );
}
