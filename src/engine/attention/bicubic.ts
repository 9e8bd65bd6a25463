/**
 * Bicubic resizing that matches PyTorch's
 * `F.interpolate(x, size, mode='bicubic', align_corners=False)`:
 * Keys' cubic convolution with a = -0.75, source coordinate
 * `(dst + 0.5) * in / out - 0.5` (not clamped, unlike bilinear), and the four
 * taps clamped to the border. DAAM upsamples with exactly this call.
 */

const A = -0.75;

/** Weight of a tap at distance |x| <= 1. */
function near(x: number): number {
  return ((A + 2) * x - (A + 3)) * x * x + 1;
}

/** Weight of a tap at distance 1 < |x| < 2. */
function far(x: number): number {
  return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
}

/** The four (clamped) source indices and weights of each output index along one axis. */
export interface CubicTaps {
  readonly index: Int32Array; // [out, 4]
  readonly weight: Float64Array; // [out, 4]
}

export function cubicTaps(inSize: number, outSize: number): CubicTaps {
  const key = `${inSize}>${outSize}`;
  const cached = tapsCache.get(key);
  if (cached) return cached;
  const index = new Int32Array(outSize * 4);
  const weight = new Float64Array(outSize * 4);
  const scale = inSize / outSize;
  const clamp = (i: number): number => Math.min(Math.max(i, 0), inSize - 1);
  for (let o = 0; o < outSize; o++) {
    // Same size: PyTorch copies; the formula below gives t = 0, i.e. weights 0,1,0,0 anyway.
    const src = inSize === outSize ? o : (o + 0.5) * scale - 0.5;
    const i0 = Math.floor(src);
    const t = src - i0;
    weight[o * 4] = far(t + 1);
    weight[o * 4 + 1] = near(t);
    weight[o * 4 + 2] = near(1 - t);
    weight[o * 4 + 3] = far(2 - t);
    for (let k = 0; k < 4; k++) index[o * 4 + k] = clamp(i0 - 1 + k);
  }
  const taps = { index, weight };
  tapsCache.set(key, taps);
  return taps;
}

/** Taps per (in, out) size pair: the aggregators resize the same few grid pairs for every head, layer and run. */
const tapsCache = new Map<string, CubicTaps>();

/**
 * Resizes `planes` maps laid out `[planes, inH, inW]` to `[planes, outH, outW]`.
 * Separable: rows first, then columns (PyTorch interpolates x then y too).
 * Same size is a copy, as in PyTorch: the taps' weights are then exactly 0, 1, 0, 0.
 */
export function bicubicResize(
  src: ArrayLike<number>,
  planes: number,
  inH: number,
  inW: number,
  outH: number,
  outW: number,
): Float64Array {
  if (src.length !== planes * inH * inW) {
    throw new Error(`bicubicResize: expected ${planes}x${inH}x${inW} values, got ${src.length}`);
  }
  if (inH === outH && inW === outW) return Float64Array.from(src);
  const tx = cubicTaps(inW, outW);
  const ty = cubicTaps(inH, outH);
  const out = new Float64Array(planes * outH * outW);
  const rows = new Float64Array(inH * outW);
  const { index: xi, weight: xw } = tx;
  const { index: yi, weight: yw } = ty;
  for (let p = 0; p < planes; p++) {
    const base = p * inH * inW;
    for (let y = 0; y < inH; y++) {
      const row = base + y * inW;
      for (let x = 0, t = 0; x < outW; x++, t += 4) {
        let s = 0;
        s += xw[t] * src[row + xi[t]];
        s += xw[t + 1] * src[row + xi[t + 1]];
        s += xw[t + 2] * src[row + xi[t + 2]];
        s += xw[t + 3] * src[row + xi[t + 3]];
        rows[y * outW + x] = s;
      }
    }
    const obase = p * outH * outW;
    for (let y = 0, t = 0; y < outH; y++, t += 4) {
      const r0 = yi[t] * outW;
      const r1 = yi[t + 1] * outW;
      const r2 = yi[t + 2] * outW;
      const r3 = yi[t + 3] * outW;
      for (let x = 0; x < outW; x++) {
        let s = 0;
        s += yw[t] * rows[r0 + x];
        s += yw[t + 1] * rows[r1 + x];
        s += yw[t + 2] * rows[r2 + x];
        s += yw[t + 3] * rows[r3 + x];
        out[obase + y * outW + x] = s;
      }
    }
  }
  return out;
}
