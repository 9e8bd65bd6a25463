/**
 * Natural log and sine/cosine built from IEEE-754 +, -, *, / only, evaluated in a fixed order.
 *
 * Math.log/sin/cos are only accurate to about 1 ulp and differ between V8 (fdlibm) and the C
 * libraries Python uses, so a normal could round to a different float32 on another platform.
 * These versions give the same double everywhere, in TypeScript and in the Python mirror
 * (prompt_lens_py/prng.py), which repeats every operation in the same order.
 * Accuracy is within a few ulps, ample for Gaussian noise.
 */

// fdlibm's split of ln 2: LN2_HI has 32 trailing zero bits, so e * LN2_HI is exact.
const LN2_HI = 6.93147180369123816490e-01;
const LN2_LO = 1.90821492927058770002e-10;
const HALF_PI = 1.5707963267948966;

/** 1/3, 1/5, ..., 1/23: the series of 2*atanh(s)/(2s) - 1 in powers of s^2, enough for |s| <= 0.1716. */
const ATANH_COEFFS = [1 / 3, 1 / 5, 1 / 7, 1 / 9, 1 / 11, 1 / 13, 1 / 15, 1 / 17, 1 / 19, 1 / 21, 1 / 23];
/** Taylor coefficients of sin(t)/t - 1 and cos(t) - 1 in powers of t^2, enough for |t| <= pi/4. */
const SIN_COEFFS = [
  -1 / 6, 1 / 120, -1 / 5040, 1 / 362880, -1 / 39916800, 1 / 6227020800, -1 / 1307674368000,
  1 / 355687428096000, -1 / 121645100408832000,
];
const COS_COEFFS = [
  -1 / 2, 1 / 24, -1 / 720, 1 / 40320, -1 / 3628800, 1 / 479001600, -1 / 87178291200,
  1 / 20922789888000, -1 / 6402373705728000,
];

const scratch = new DataView(new ArrayBuffer(8));

/** Horner evaluation of c[0] + z*c[1] + z^2*c[2] + ..., innermost (highest power) first. */
function horner(coeffs: readonly number[], z: number): number {
  let p = coeffs[coeffs.length - 1];
  for (let i = coeffs.length - 2; i >= 0; i--) {
    p = p * z + coeffs[i];
  }
  return p;
}

/** ln(x) for a positive normal double x (the generator only asks for x in [2^-53, 1]). */
export function detLog(x: number): number {
  // frexp: x = m * 2^e with m in [0.5, 1), done on the bits so it is exact (Python: math.frexp).
  scratch.setFloat64(0, x);
  const hi = scratch.getUint32(0);
  let e = ((hi >>> 20) & 0x7ff) - 1022;
  scratch.setUint32(0, (hi & 0x800fffff) | (1022 << 20));
  let m = scratch.getFloat64(0);
  if (m < Math.SQRT1_2) {
    m *= 2;
    e -= 1;
  }
  // ln(m) = 2*atanh(s) with s = (m-1)/(m+1), |s| <= 3 - 2*sqrt(2).
  const s = (m - 1) / (m + 1);
  const z = s * s;
  const t = 2 * s;
  return e * LN2_HI + (t + (t * z * horner(ATANH_COEFFS, z) + e * LN2_LO));
}

/** [sin(2*pi*u), cos(2*pi*u)] for u in [0, 1). */
export function detSinCos2Pi(u: number): [number, number] {
  // Nearest quarter turn; u*4 - q is exact, so the reduced angle carries no rounding from the reduction.
  const q = Math.floor(u * 4 + 0.5);
  const t = (u * 4 - q) * HALF_PI;
  const z = t * t;
  const s = t + t * z * horner(SIN_COEFFS, z);
  const c = 1 + z * horner(COS_COEFFS, z);
  switch (q & 3) {
    case 0:
      return [s, c];
    case 1:
      return [c, -s];
    case 2:
      return [-s, -c];
    default:
      return [-c, s];
  }
}
