"""Pure-Python mirror of the engine's generator (src/engine/random/), bit for bit.

xoshiro128** seeded by splitmix32, 53-bit doubles, Box-Muller normals rounded to float32; the exact
algorithm is documented in src/engine/random/rng.ts. ln, sin and cos use only +, -, *, / in the
same order as src/engine/random/detMath.ts, so both sides get identical doubles on any platform
(math.log/sin/cos and V8's Math.* may differ in the last bit).

Initial noise for seed s: Rng(s).normals_np(C * H * W).reshape(C, H, W).

Run `python3 -m prompt_lens_py.prng --vectors` to print the test vectors in test/unit/random/vectors.json.
"""

import json
import math
import struct
import sys

M32 = 0xFFFFFFFF

LN2_HI = 6.93147180369123816490e-01
LN2_LO = 1.90821492927058770002e-10
HALF_PI = 1.5707963267948966

# Float literals throughout: int / int in Python is the exact quotient rounded once, JS divides doubles.
ATANH_COEFFS = [1.0 / 3.0, 1.0 / 5.0, 1.0 / 7.0, 1.0 / 9.0, 1.0 / 11.0, 1.0 / 13.0, 1.0 / 15.0,
                1.0 / 17.0, 1.0 / 19.0, 1.0 / 21.0, 1.0 / 23.0]
SIN_COEFFS = [-1.0 / 6.0, 1.0 / 120.0, -1.0 / 5040.0, 1.0 / 362880.0, -1.0 / 39916800.0,
              1.0 / 6227020800.0, -1.0 / 1307674368000.0, 1.0 / 355687428096000.0,
              -1.0 / 121645100408832000.0]
COS_COEFFS = [-1.0 / 2.0, 1.0 / 24.0, -1.0 / 720.0, 1.0 / 40320.0, -1.0 / 3628800.0,
              1.0 / 479001600.0, -1.0 / 87178291200.0, 1.0 / 20922789888000.0,
              -1.0 / 6402373705728000.0]


def _horner(coeffs, z):
    p = coeffs[-1]
    for c in reversed(coeffs[:-1]):
        p = p * z + c
    return p


def det_log(x):
    m, e = math.frexp(x)
    if m < math.sqrt(0.5):
        m *= 2.0
        e -= 1
    s = (m - 1.0) / (m + 1.0)
    z = s * s
    t = 2.0 * s
    return e * LN2_HI + (t + (t * z * _horner(ATANH_COEFFS, z) + e * LN2_LO))


def det_sin_cos_2pi(u):
    q = math.floor(u * 4.0 + 0.5)
    t = (u * 4.0 - q) * HALF_PI
    z = t * t
    s = t + t * z * _horner(SIN_COEFFS, z)
    c = 1.0 + z * _horner(COS_COEFFS, z)
    quadrant = q & 3
    if quadrant == 0:
        return s, c
    if quadrant == 1:
        return c, -s
    if quadrant == 2:
        return -s, -c
    return -c, s


def _rotl(x, k):
    return ((x << k) | (x >> (32 - k))) & M32


def _to_float32(x):
    return struct.unpack('<f', struct.pack('<f', x))[0]


class Rng:
    def __init__(self, seed):
        if not isinstance(seed, int) or seed < 0 or seed > M32:
            raise ValueError('seed must be an integer from 0 to 4294967295, got %r' % (seed,))
        x = seed
        state = []
        for _ in range(4):
            x = (x + 0x9E3779B9) & M32
            z = ((x ^ (x >> 16)) * 0x85EBCA6B) & M32
            z = ((z ^ (z >> 13)) * 0xC2B2AE35) & M32
            state.append(z ^ (z >> 16))
        self.s = state

    def next_uint32(self):
        s = self.s
        result = (_rotl((s[1] * 5) & M32, 7) * 9) & M32
        t = (s[1] << 9) & M32
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = _rotl(s[3], 11)
        return result

    def next_float64(self):
        a = self.next_uint32() >> 5
        b = self.next_uint32() >> 6
        return (a * 67108864.0 + b) / 9007199254740992.0

    def normals(self, n):
        """n standard normals as a list of Python floats, each exactly a float32 value."""
        out = []
        for i in range(0, n, 2):
            u1 = self.next_float64()
            u2 = self.next_float64()
            r = math.sqrt(-2.0 * det_log(1.0 - u1))
            sin, cos = det_sin_cos_2pi(u2)
            out.append(_to_float32(r * cos))
            if i + 1 < n:
                out.append(_to_float32(r * sin))
        return out

    def normals_np(self, n):
        """The same values as a numpy float32 array."""
        import numpy as np
        return np.array(self.normals(n), dtype=np.float32)


def fnv1a_float32(values):
    """FNV-1a (32-bit) over the little-endian float32 bytes: a cheap fingerprint of a long stream."""
    h = 0x811C9DC5
    for byte in struct.pack('<%df' % len(values), *values):
        h = ((h ^ byte) * 0x01000193) & M32
    return h


def test_vectors():
    seeds = [0, 1, 42, 2 ** 31 - 1]
    cases = []
    for seed in seeds:
        ints = Rng(seed)
        normals = Rng(seed)
        cases.append({
            'seed': seed,
            'uint32': [ints.next_uint32() for _ in range(16)],
            'normals': normals.normals(16),
        })
    noise = Rng(42).normals(3 * 32 * 32)
    fingerprint = {'seed': 42, 'count': len(noise), 'fnv1a': fnv1a_float32(noise)}
    return {'generator': 'xoshiro128** seeded by splitmix32, Box-Muller float32 normals',
            'source': 'python3 -m prompt_lens_py.prng --vectors', 'cases': cases,
            'fingerprint': fingerprint}


if __name__ == '__main__':
    if sys.argv[1:] == ['--vectors']:
        json.dump(test_vectors(), sys.stdout, indent=1)
        sys.stdout.write('\n')
    else:
        sys.exit('usage: python3 -m prompt_lens_py.prng --vectors')
