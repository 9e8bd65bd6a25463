// Minimal PNG encoder (8-bit RGB/RGBA/grey, no interlace) so run records and hovers need no image dependency.
import * as zlib from 'node:zlib';

export interface RasterImage {
  width: number;
  height: number;
  /** 1 = grey, 3 = RGB, 4 = RGBA; row-major, channel-interleaved. */
  channels: 1 | 3 | 4;
  data: Uint8Array;
}

const COLOR_TYPE: Record<RasterImage['channels'], number> = { 1: 0, 3: 2, 4: 6 };

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32(bytes: Uint8Array, crc = 0xffffffff): number {
  let c = crc;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return c >>> 0;
}

// Node's own CRC-32 (from Node 20.15): a run record's pictures checksum megabytes.
const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;

/** The standard CRC-32 of `bytes` (finalised, as PNG chunks store it). */
function checksum(bytes: Uint8Array): number {
  return nativeCrc32 ? nativeCrc32(bytes) >>> 0 : (crc32(bytes) ^ 0xffffffff) >>> 0;
}

function chunk(type: string, body: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + body.length);
  out.writeUInt32BE(body.length, 0);
  out.write(type, 4, 'ascii');
  out.set(body, 8);
  out.writeUInt32BE(checksum(out.subarray(4, 8 + body.length)), 8 + body.length);
  return out;
}

export interface PngOptions {
  /**
   * Each row's PNG filter: 'none' suits blocky pictures (enlarged cells repeat bytes zlib finds anyway); 'sub'
   * (each byte minus the one a pixel to its left) suits smooth ones such as overlays, which then compress smaller
   * and faster.
   */
  filter?: 'none' | 'sub';
  /** zlib's level, 1 (fastest) to 9; default 6. */
  level?: number;
}

const FILTER_TYPE = { none: 0, sub: 1 } as const;

export function encodePng(image: RasterImage, options: PngOptions = {}): Buffer {
  const { width, height, channels, data } = image;
  if (data.length !== width * height * channels) {
    throw new Error(`encodePng: expected ${width * height * channels} bytes, got ${data.length}`);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8;
  header[9] = COLOR_TYPE[channels];
  const filter = options.filter ?? 'none';
  const stride = width * channels;
  const raw = Buffer.allocUnsafe((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    const from = y * stride;
    const to = y * (stride + 1) + 1;
    raw[to - 1] = FILTER_TYPE[filter];
    if (filter === 'none') {
      raw.set(data.subarray(from, from + stride), to);
      continue;
    }
    for (let i = 0; i < channels; i++) raw[to + i] = data[from + i];
    for (let i = channels; i < stride; i++) raw[to + i] = (data[from + i] - data[from + i - channels]) & 0xff;
  }
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const idat = zlib.deflateSync(raw, options.level === undefined ? {} : { level: options.level });
  return Buffer.concat([signature, chunk('IHDR', header), chunk('IDAT', idat), chunk('IEND', new Uint8Array(0))]);
}
