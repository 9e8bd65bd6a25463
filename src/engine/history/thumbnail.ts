// Small PNG thumbnails for hovers: decode the run's (8-bit, non-interlaced) PNG, shrink it with
// nearest-neighbour sampling and re-encode, so a hover carries tens of KB instead of a full overlay.
import { inflateSync } from 'node:zlib';
import { encodePng, type RasterImage } from '../image/png';
import { resizeNearest } from '../image/raster';

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const CHANNELS: Record<number, RasterImage['channels']> = { 0: 1, 2: 3, 6: 4 };
const PALETTE = 3;

/** Palette indices as the RGB colours they name. */
function paletteColours(width: number, height: number, indices: Uint8Array, palette: Buffer | undefined): RasterImage {
  if (!palette) throw new Error('palette PNG without a PLTE chunk');
  const data = new Uint8Array(indices.length * 3);
  for (let p = 0; p < indices.length; p++) {
    const at = indices[p] * 3;
    if (at + 3 > palette.length) throw new Error(`palette index ${indices[p]} is past the ${palette.length / 3}-colour palette`);
    data[p * 3] = palette[at];
    data[p * 3 + 1] = palette[at + 1];
    data[p * 3 + 2] = palette[at + 2];
  }
  return { width, height, channels: 3, data };
}

/** Decodes 8-bit grey, RGB, RGBA or palette PNGs without interlacing (what `encodePng` and `encodeIndexedPng` write); palette pictures come back as RGB. */
export function decodePng(bytes: Uint8Array): RasterImage {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 8 || SIGNATURE.some((b, i) => buf[i] !== b)) throw new Error('not a PNG file');
  let width = 0;
  let height = 0;
  let channels: RasterImage['channels'] | undefined;
  let palette: Buffer | undefined;
  let indexed = false;
  const idat: Buffer[] = [];
  for (let at = 8; at + 8 <= buf.length; ) {
    const length = buf.readUInt32BE(at);
    const type = buf.toString('ascii', at + 4, at + 8);
    const body = buf.subarray(at + 8, at + 8 + length);
    if (body.length !== length) throw new Error('truncated PNG chunk');
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      const depth = body[8];
      indexed = body[9] === PALETTE;
      channels = indexed ? 1 : CHANNELS[body[9]];
      if (depth !== 8 || !channels) throw new Error(`unsupported PNG: bit depth ${depth}, colour type ${body[9]}`);
      if (body[12] !== 0) throw new Error('unsupported PNG: interlaced');
    } else if (type === 'PLTE') {
      palette = body;
    } else if (type === 'IDAT') {
      idat.push(body);
    } else if (type === 'IEND') {
      break;
    }
    at += 12 + length;
  }
  if (!channels || width === 0 || height === 0) throw new Error('PNG without a header');
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  if (raw.length < (stride + 1) * height) throw new Error('PNG data is shorter than its size');
  const data = new Uint8Array(stride * height);
  const bpp = channels;
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const src = y * (stride + 1) + 1;
    const row = y * stride;
    const prev = row - stride;
    for (let x = 0; x < stride; x++) {
      const a = x >= bpp ? data[row + x - bpp] : 0;
      const b = y > 0 ? data[prev + x] : 0;
      const c = x >= bpp && y > 0 ? data[prev + x - bpp] : 0;
      let predictor: number;
      switch (filter) {
        case 0:
          predictor = 0;
          break;
        case 1:
          predictor = a;
          break;
        case 2:
          predictor = b;
          break;
        case 3:
          predictor = (a + b) >> 1;
          break;
        case 4: {
          const p = a + b - c;
          const pa = Math.abs(p - a);
          const pb = Math.abs(p - b);
          const pc = Math.abs(p - c);
          predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          break;
        }
        default:
          throw new Error(`bad PNG filter ${filter} on row ${y}`);
      }
      data[row + x] = (raw[src + x] + predictor) & 0xff;
    }
  }
  return indexed ? paletteColours(width, height, data, palette) : { width, height, channels, data };
}

/**
 * A PNG no larger than `maxSide` on its longer side. Files already that small, or ones this
 * decoder does not read, come back unchanged.
 */
export function thumbnailPng(png: Uint8Array, maxSide: number): Uint8Array {
  let image: RasterImage;
  try {
    image = decodePng(png);
  } catch {
    return png;
  }
  const side = Math.max(image.width, image.height);
  if (side <= maxSide) return png;
  const scale = maxSide / side;
  const width = Math.max(1, Math.round(image.width * scale));
  const height = Math.max(1, Math.round(image.height * scale));
  return encodePng(resizeNearest(image, width, height));
}
