// The pictures of a run record (image, its enlargement, each word's heat map and overlay, the overlap map) as PNG
// bytes: most of a record's cost, written with it on the record thread (src/engine/run/saveRun.ts).
import { encodePng, type PngOptions, type RasterImage } from './png';
import { heatmapRgb, mapMax, overlayHeat, resizeMapBilinear, resizeNearest } from './raster';

/** Pictures are stored at least this large so 32 px model outputs stay readable. */
const MIN_PICTURE_SIDE = 256;

export interface PictureSpec {
  image: RasterImage;
  /** The display maps' grid. */
  mapHeight: number;
  mapWidth: number;
  /** `[file name, map]`: a heat map (`heat`) or a heat map over the enlarged image (`overlay`). */
  maps: { file: string; kind: 'heat' | 'overlay'; map: Float32Array }[];
  imageFile: string;
  largeFile: string;
}

/** `[file name, PNG bytes]` of every picture of `spec`, rendered here. */
export function renderPictures(spec: PictureSpec): [string, Uint8Array][] {
  const { image, mapHeight, mapWidth } = spec;
  const scale = Math.max(1, Math.ceil(MIN_PICTURE_SIDE / Math.max(image.width, image.height)));
  const large = resizeNearest(image, image.width * scale, image.height * scale);
  // zlib at level 1 with the filter that suits each kind (measured on tiny-shapes' records, against zlib's default
  // level without a filter): enlarged image and overlays 'sub', 0.4x and 0.8x the bytes in 0.3x and 0.5x the time;
  // heat maps of flat cells unfiltered, 3x the bytes (5 KB) in 0.3x the time.
  const out: [string, Uint8Array][] = [[spec.imageFile, encodePng(image)], [spec.largeFile, encodePng(large, SMOOTH)]];
  for (const { file, kind, map } of spec.maps) {
    if (kind === 'heat') {
      out.push([file, encodePng(resizeNearest(heatmapRgb(map, mapHeight, mapWidth, mapMax(map)), large.width, large.height), FLAT)]);
    } else {
      const resized = resizeMapBilinear(map, mapHeight, mapWidth, large.height, large.width);
      out.push([file, encodePng(overlayHeat(large, resized, mapMax(resized)), SMOOTH)]);
    }
  }
  return out;
}

const SMOOTH: PngOptions = { filter: 'sub', level: 1 };
const FLAT: PngOptions = { level: 1 };
