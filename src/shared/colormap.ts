// Heat colouring for attention maps: a perceptually ordered ramp (inferno-like) sampled from anchor colours.
export const INFERNO_ANCHORS: readonly (readonly [number, number, number])[] = [
  [0, 0, 4], [40, 11, 84], [101, 21, 110], [159, 42, 99], [212, 72, 66], [245, 125, 21], [250, 193, 39], [252, 255, 164],
];

/** Colour for v in [0, 1] (clamped). */
export function inferno(v: number): [number, number, number] {
  const rgb: [number, number, number] = [0, 0, 0];
  infernoInto(v, rgb, 0);
  return rgb;
}

/** `inferno(v)` written to `out[at..at+2]`: no allocation, for per-pixel loops. */
export function infernoInto(v: number, out: { [i: number]: number }, at: number): void {
  const x = Math.min(1, Math.max(0, Number.isFinite(v) ? v : 0)) * (INFERNO_ANCHORS.length - 1);
  const i = Math.min(INFERNO_ANCHORS.length - 2, Math.floor(x));
  const f = x - i;
  const a = INFERNO_ANCHORS[i];
  const b = INFERNO_ANCHORS[i + 1];
  out[at] = Math.round(a[0] + (b[0] - a[0]) * f);
  out[at + 1] = Math.round(a[1] + (b[1] - a[1]) * f);
  out[at + 2] = Math.round(a[2] + (b[2] - a[2]) * f);
}
