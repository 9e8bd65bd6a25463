// The neglect-shapes world's ten shapes, ported from prompt_lens_py/neglect_shapes/world.py (`inside`):
// each in units of its circumscribed radius, centred at 0, u to the right and v down, never rotated.
// A unit test renders the world's own scenes with this port and compares them with world.py's pixels.

export const NEGLECT_SHAPES = ['circle', 'square', 'star', 'triangle', 'heart', 'ring', 'cross', 'diamond', 'crescent', 'arrow'] as const;
export type NeglectShape = (typeof NEGLECT_SHAPES)[number];

type Vertices = readonly (readonly [number, number])[];

/** world._regular: a regular polygon or star (alternating radii), first vertex at startDeg, y down. */
function regular(n: number, startDeg: number, radii: readonly number[] = [1]): Vertices {
  const k = n * radii.length;
  return Array.from({ length: k }, (_, i) => {
    const a = ((startDeg + (360 * i) / k) * Math.PI) / 180;
    const r = radii[i % radii.length];
    return [r * Math.cos(a), r * Math.sin(a)] as const;
  });
}

const POLYGONS: Readonly<Partial<Record<NeglectShape, Vertices>>> = {
  square: regular(4, 45),
  triangle: regular(3, -90), // apex up, centroid at the centre
  diamond: [
    [0, -1],
    [0.65, 0],
    [0, 1],
    [-0.65, 0],
  ],
  arrow: [
    [0, -1],
    [0.62, -0.1],
    [0.24, -0.1],
    [0.24, 0.95],
    [-0.24, 0.95],
    [-0.24, -0.1],
    [-0.62, -0.1],
  ], // pointing up
  star: regular(5, -90, [1, 0.5]),
};
const CROSS_HALF_WIDTH = 0.32;
const CROSS_ARM = Math.sqrt(1 - CROSS_HALF_WIDTH ** 2);
const RING_INNER = 0.55;
/** Centre x, y and radius of the disc cut out of the unit disc (the crescent opens to the upper right). */
const CRESCENT_CUT = [0.42, -0.12, 0.78] as const;
/** world._heart_frame(): scale and vertical offset that put the curve (x²+y²-1)³ <= x² y³ in the unit circle. */
const HEART_SCALE = 1.336731087391926;
const HEART_OFFSET = 0.11749999999999994;

/** world._polygon: even-odd point-in-polygon. */
function inPolygon(u: number, v: number, verts: Vertices): boolean {
  let inside = false;
  for (let i = 0; i < verts.length; i++) {
    const [x1, y1] = verts[i];
    const [x2, y2] = verts[(i + 1) % verts.length];
    if (y1 === y2) continue;
    if (y1 > v !== y2 > v && u < x1 + ((v - y1) * (x2 - x1)) / (y2 - y1)) inside = !inside;
  }
  return inside;
}

/** Whether (u, v) lies inside `shape` of circumscribed radius 1 centred at 0 (world.inside). */
export function insideNeglectShape(shape: NeglectShape, u: number, v: number): boolean {
  const polygon = POLYGONS[shape];
  if (polygon) return inPolygon(u, v, polygon);
  const d2 = u * u + v * v;
  switch (shape) {
    case 'circle':
      return d2 <= 1;
    case 'ring':
      return d2 <= 1 && d2 >= RING_INNER * RING_INNER;
    case 'cross': {
      const au = Math.abs(u);
      const av = Math.abs(v);
      return (au <= CROSS_HALF_WIDTH && av <= CROSS_ARM) || (av <= CROSS_HALF_WIDTH && au <= CROSS_ARM);
    }
    case 'crescent': {
      const [cx, cy, cr] = CRESCENT_CUT;
      return d2 <= 1 && (u - cx) ** 2 + (v - cy) ** 2 > cr * cr;
    }
    case 'heart': {
      const x = u * HEART_SCALE;
      const y = -v * HEART_SCALE + HEART_OFFSET;
      return (x * x + y * y - 1) ** 3 - x * x * y ** 3 <= 0;
    }
    default:
      throw new Error(`neglect-shapes: no geometry for "${shape}"`);
  }
}
