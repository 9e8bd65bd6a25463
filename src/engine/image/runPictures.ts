// The pictures of a run record (image, its enlargement, each word's heat map and overlay, the overlap map) as PNG
// bytes: most of a record's cost, written with it on the record thread (src/engine/run/saveRun.ts).
import { encodeIndexedPng, encodePng, type PngOptions, type RasterImage } from './png';
import { heatmapIndexed, mapMax, overlayHeat, resizeIndexed, resizeMapBilinear, resizeNearest } from './raster';

/** The enlarged image is stored at least this large so 32 px model outputs stay readable (the report's hero size). */
const MIN_LARGE_SIDE = 256;
/**
 * Heat maps and overlays at least this large: the size the hover shows them at (the report shows them at 80 px).
 * A 32 px model's overlays at 256 px took 0.6 of its record's time.
 */
const MIN_MAP_SIDE = 128;

export interface PictureSpec {
  image: RasterImage;
  /** The display maps' grid. */
  mapHeight: number;
  mapWidth: number;
  /** `[file name, map]`: a heat map (`heat`) or a heat map over the image (`overlay`), both at least MIN_MAP_SIDE. */
  maps: { file: string; kind: 'heat' | 'overlay'; map: Float32Array }[];
  imageFile: string;
  largeFile: string;
}

/** `[file name, PNG bytes]` of every picture of `spec`, rendered here. */
export function renderPictures(spec: PictureSpec): [string, Uint8Array][] {
  const { image, mapHeight, mapWidth } = spec;
  const enlarged = (side: number): RasterImage => {
    const scale = Math.max(1, Math.ceil(side / Math.max(image.width, image.height)));
    return scale === 1 ? image : resizeNearest(image, image.width * scale, image.height * scale);
  };
  const large = enlarged(MIN_LARGE_SIDE);
  const base = enlarged(MIN_MAP_SIDE);
  // zlib at level 1 with the filter that suits each kind (measured on tiny-shapes' records, against zlib's default
  // level without a filter): the enlarged image 'sub', 0.4x the bytes in 0.3x the time; overlays 'sub' with
  // entropy coding alone (PngOptions.strategy); heat maps as inferno palette indices, unfiltered (flat cells).
  const out: [string, Uint8Array][] = [[spec.imageFile, encodePng(image)], [spec.largeFile, encodePng(large, SMOOTH)]];
  for (const { file, kind, map } of spec.maps) {
    if (kind === 'heat') {
      out.push([file, encodeIndexedPng(resizeIndexed(heatmapIndexed(map, mapHeight, mapWidth, mapMax(map)), base.width, base.height), FLAT)]);
    } else {
      const resized = resizeMapBilinear(map, mapHeight, mapWidth, base.height, base.width);
      out.push([file, encodePng(overlayHeat(base, resized, mapMax(resized)), OVERLAY)]);
    }
  }
  return out;
}

const SMOOTH: PngOptions = { filter: 'sub', level: 1 };
const OVERLAY: PngOptions = { filter: 'sub', strategy: 'huffman' };
const FLAT: PngOptions = { level: 1 };
