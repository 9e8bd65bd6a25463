import { detLog, detSinCos2Pi } from './detMath';

/**
 * The project's seeded generator, bit-exact with prompt_lens_py/prng.py.
 *
 * Algorithm (32-bit unsigned arithmetic, all sums and products modulo 2^32):
 * - Seeding, splitmix32: x = seed; four times: x += 0x9e3779b9; z = x; z = (z ^ z>>16) * 0x85ebca6b;
 *   z = (z ^ z>>13) * 0xc2b2ae35; z ^= z>>16; the four z are the state s0..s3.
 * - nextUint32, xoshiro128** (Blackman & Vigna): result = rotl(s1 * 5, 7) * 9; t = s1 << 9;
 *   s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = rotl(s3, 11).
 * - nextFloat64: a = next >> 5, b = next >> 6 (27 + 26 bits), (a * 2^26 + b) / 2^53, in [0, 1) with
 *   53 random bits (the same construction as numpy's random_double).
 * - normals: Box-Muller in float64, per pair u1 = nextFloat64(), u2 = nextFloat64(),
 *   r = sqrt(-2 ln(1 - u1)), emit r*cos(2 pi u2) then r*sin(2 pi u2), each rounded to float32.
 *   ln, sin and cos come from ./detMath so every platform gets the same doubles. An odd count
 *   drops the last sine; nothing is carried over to the next call.
 */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** seed: an integer in [0, 2^32 - 1]. */
  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new RangeError(`seed must be an integer from 0 to 4294967295, got ${seed}`);
    }
    let x = seed;
    const splitmix32 = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = splitmix32();
    this.s1 = splitmix32();
    this.s2 = splitmix32();
    this.s3 = splitmix32();
  }

  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits (consumes two uint32). */
  nextFloat64(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** n standard normals rounded to float32 (consumes four uint32 per pair). */
  normals(n: number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i += 2) {
      const u1 = this.nextFloat64();
      const u2 = this.nextFloat64();
      const r = Math.sqrt(-2 * detLog(1 - u1));
      const [sin, cos] = detSinCos2Pi(u2);
      out[i] = r * cos;
      if (i + 1 < n) {
        out[i + 1] = r * sin;
      }
    }
    return out;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
