/**
 * Area downsampling as PyTorch's `F.adaptive_avg_pool2d`: output cell i covers
 * source rows floor(i*in/out) .. ceil((i+1)*in/out)-1. For 16 -> 8 that is an
 * exact 2x2 mean, so coarse previews keep each token's total mass.
 */
import { bicubicResize } from './bicubic';

export function adaptiveAvgPool(
  src: ArrayLike<number>,
  planes: number,
  inH: number,
  inW: number,
  outH: number,
  outW: number,
): Float64Array {
  if (src.length !== planes * inH * inW) {
    throw new Error(`adaptiveAvgPool: expected ${planes}x${inH}x${inW} values, got ${src.length}`);
  }
  const out = new Float64Array(planes * outH * outW);
  for (let p = 0; p < planes; p++) {
    const base = p * inH * inW;
    for (let oy = 0; oy < outH; oy++) {
      const y0 = Math.floor((oy * inH) / outH);
      const y1 = Math.ceil(((oy + 1) * inH) / outH);
      for (let ox = 0; ox < outW; ox++) {
        const x0 = Math.floor((ox * inW) / outW);
        const x1 = Math.ceil(((ox + 1) * inW) / outW);
        let s = 0;
        for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) s += src[base + y * inW + x];
        out[p * outH * outW + oy * outW + ox] = s / ((y1 - y0) * (x1 - x0));
      }
    }
  }
  return out;
}

/** Area-averages when shrinking, bicubic when growing (per axis pair), identity when equal. */
export function resizeMaps(
  src: ArrayLike<number>,
  planes: number,
  inH: number,
  inW: number,
  outH: number,
  outW: number,
): Float64Array {
  if (inH === outH && inW === outW) return Float64Array.from(src);
  if (outH <= inH && outW <= inW) return adaptiveAvgPool(src, planes, inH, inW, outH, outW);
  return bicubicResize(src, planes, inH, inW, outH, outW);
}
