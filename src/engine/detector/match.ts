// Requested objects <-> detections: an optimal one-to-one assignment that first maximises the number of
// exact (colour and shape) matches, then the number of half matches (right shape in another colour, or
// right colour as another shape).
import type { RequestedObject } from './caption';
import type { Colour, Shape } from './palette';

export type MatchStatus = 'found' | 'wrong-colour' | 'wrong-shape' | 'missing';

export interface Detected {
  colour: Colour;
  shape: Shape;
}

export interface Assignment {
  status: MatchStatus;
  /** Index of the detection assigned to this request; absent when missing. */
  detection?: number;
}

const FOUND = 1000;
const HALF = 1;

/** How well one detection answers one request (0: not at all). */
export function pairStatus(req: RequestedObject, det: Detected): MatchStatus {
  const shapeOk = req.shape === det.shape;
  if (req.colour === undefined) return shapeOk ? 'found' : 'missing';
  const colourOk = req.colour === det.colour;
  if (shapeOk && colourOk) return 'found';
  if (shapeOk) return 'wrong-colour';
  if (colourOk) return 'wrong-shape';
  return 'missing';
}

function pairScore(status: MatchStatus): number {
  return status === 'found' ? FOUND : status === 'missing' ? 0 : HALF;
}

/**
 * Maximum-weight assignment (Hungarian algorithm, O(n^3) on the padded square matrix). Returns, per row,
 * the column assigned (or -1 when the row gets a padding column). Deterministic.
 */
export function maxWeightAssignment(weights: number[][], cols: number): number[] {
  const rows = weights.length;
  const n = Math.max(rows, cols);
  if (n === 0) return [];
  let maxW = 0;
  for (const r of weights) for (const w of r) maxW = Math.max(maxW, w);
  // cost[i][j] = maxW - w (min-cost form); padding rows/columns cost maxW (weight 0)
  const cost = (i: number, j: number): number => (i < rows && j < cols ? maxW - weights[i][j] : maxW);
  const u = new Float64Array(n + 1);
  const v = new Float64Array(n + 1);
  const p = new Int32Array(n + 1); // p[j]: row (1-based) matched to column j
  const way = new Int32Array(n + 1);
  for (let i = 1; i <= n; i++) {
    p[0] = i;
    let j0 = 0;
    const minv = new Float64Array(n + 1).fill(Infinity);
    const used = new Uint8Array(n + 1);
    do {
      used[j0] = 1;
      const i0 = p[j0];
      let delta = Infinity;
      let j1 = 0;
      for (let j = 1; j <= n; j++) {
        if (used[j]) continue;
        const cur = cost(i0 - 1, j - 1) - u[i0] - v[j];
        if (cur < minv[j]) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j] < delta) {
          delta = minv[j];
          j1 = j;
        }
      }
      for (let j = 0; j <= n; j++) {
        if (used[j]) {
          u[p[j]] += delta;
          v[j] -= delta;
        } else {
          minv[j] -= delta;
        }
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0];
      p[j0] = p[j1];
      j0 = j1;
    } while (j0 !== 0);
  }
  const out = new Array<number>(rows).fill(-1);
  for (let j = 1; j <= n; j++) {
    const i = p[j] - 1;
    if (i >= 0 && i < rows && j - 1 < cols) out[i] = j - 1;
  }
  return out;
}

/**
 * Assigns each request at most one detection and each detection to at most one request, maximising
 * first the exact matches and then the half matches. A request whose assigned pair scores 0 is `missing`
 * and keeps no detection.
 */
export function assignDetections(requested: readonly RequestedObject[], detected: readonly Detected[]): Assignment[] {
  const weights = requested.map((r) => detected.map((d) => pairScore(pairStatus(r, d))));
  const cols = maxWeightAssignment(weights, detected.length);
  return requested.map((r, i) => {
    const j = cols[i];
    if (j < 0) return { status: 'missing' };
    const status = pairStatus(r, detected[j]);
    return status === 'missing' ? { status } : { status, detection: j };
  });
}
