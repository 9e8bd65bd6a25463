// Deterministic detector of coloured shapes: the embedded model's analogue of the paper's detection
// success (an image succeeds when every named object is found with its colour).
//
//   detectObjects(image)             -> the coloured shapes in an RGB image
//   checkImage(image, caption|objs)  -> per requested object found / wrong-colour / wrong-shape / missing,
//                                       the extra detections, and success
// Both take the model's world in `options.world` (its colours, shapes and shape classifier); default tiny-shapes.
import { type ParsedCaption, type RequestedObject, parseCaption } from './caption';
import { type MatchStatus, assignDetections } from './match';
import type { Colour, Rgb, Shape } from './palette';
import { type RgbImage, type SegmentOptions, segment } from './segment';
import { type ShapeFeatures, regionFeatures } from './shape';
import { TINY_SHAPES } from './tinyShapes';
import { type DetectorWorld, isColourOf, isShapeOf } from './world';

export type DetectorOptions = SegmentOptions;

export interface DetectedObject {
  colour: Colour;
  shape: Shape;
  /** Pixels of the object's half-maximum mask. */
  area: number;
  bbox: { x: number; y: number; width: number; height: number };
  /** Pixel coordinates; pixel (x, y) covers [x, x+1) x [y, y+1). */
  centroid: { x: number; y: number };
  /**
   * The world's shape classifier's figures, ~1 for a clean render of that shape: tiny-shapes gives
   * `triangle` (tri / 0.153) and `square` (quad / 0.099), ~0 for a disc; neglect-shapes each shape's template fit.
   */
  scores: Readonly<Record<Shape, number>>;
  features: ShapeFeatures;
}

export interface Detection {
  width: number;
  height: number;
  /** Background colour used (estimated from the border unless given). */
  background: Rgb;
  /** In scan order of each object's first segmented pixel. */
  objects: DetectedObject[];
  /** Pixels of palette-coloured specks dropped as noise. */
  droppedPixels: number;
}

export function detectObjects(image: RgbImage, options: DetectorOptions = {}): Detection {
  const world = options.world ?? TINY_SHAPES;
  const seg = segment(image, options);
  const objects = seg.regions.map((region): DetectedObject => {
    const features = regionFeatures(seg, region);
    const call = world.classify(seg, region, features);
    return {
      colour: region.colour,
      shape: call.shape,
      area: features.area,
      bbox: features.bbox,
      centroid: features.centroid,
      scores: call.scores,
      features,
    };
  });
  return { width: seg.width, height: seg.height, background: seg.background, objects, droppedPixels: seg.droppedPixels };
}

export interface ObjectMatch {
  requested: RequestedObject;
  status: MatchStatus;
  /** Index into `detections` of the object assigned to this request (absent when missing). */
  detection?: number;
}

export interface DetectionReport {
  objects: ObjectMatch[];
  /** Detected objects assigned to no request (not even as a wrong colour or shape). */
  extra: DetectedObject[];
  detections: DetectedObject[];
  /** Number of detected objects. */
  count: number;
  /** At least one object requested and every requested object found (each detection used at most once). */
  success: boolean;
  background: Rgb;
  /** The parse, when checkImage was given a caption. */
  caption?: ParsedCaption;
}

/** A requested object as callers may hold it (plain strings); checked and lower-cased by `toRequested`. */
export interface ObjectRequest {
  colour?: string;
  shape: string;
}

/** Checks plain-string requests against the world's vocabulary; throws on an unknown colour or shape. */
export function toRequested(requested: readonly ObjectRequest[], world: DetectorWorld = TINY_SHAPES): RequestedObject[] {
  return requested.map((r) => {
    const shape = String(r.shape).toLowerCase();
    if (!isShapeOf(world, shape)) throw new Error(`detector: unknown shape "${String(r.shape)}" (${world.name}: ${world.shapes.join(', ')})`);
    if (r.colour === undefined) return { shape };
    const colour = String(r.colour).toLowerCase();
    if (!isColourOf(world, colour)) throw new Error(`detector: unknown colour "${String(r.colour)}" (${world.name}: ${world.colours.join(', ')})`);
    return { colour, shape };
  });
}

/** Matches requested objects against an existing detection (see match.ts for the assignment rule). */
export function matchDetection(detection: Detection, request: readonly ObjectRequest[], world: DetectorWorld = TINY_SHAPES): DetectionReport {
  const requested = toRequested(request, world);
  const assignments = assignDetections(requested, detection.objects);
  const used = new Set<number>();
  const objects = requested.map((r, i): ObjectMatch => {
    const a = assignments[i];
    if (a.detection !== undefined) used.add(a.detection);
    return a.detection === undefined ? { requested: r, status: a.status } : { requested: r, status: a.status, detection: a.detection };
  });
  return {
    objects,
    extra: detection.objects.filter((_, j) => !used.has(j)),
    detections: detection.objects,
    count: detection.objects.length,
    success: objects.length > 0 && objects.every((o) => o.status === 'found'),
    background: detection.background,
  };
}

/** Detects the shapes in `image` and checks them against a caption or a list of requested objects. */
export function checkImage(
  image: RgbImage,
  request: string | readonly ObjectRequest[],
  options: DetectorOptions = {},
): DetectionReport {
  const world = options.world ?? TINY_SHAPES;
  const parsed = typeof request === 'string' ? parseCaption(request, world) : undefined;
  const report = matchDetection(detectObjects(image, options), parsed ? parsed.objects : (request as readonly ObjectRequest[]), world);
  return parsed ? { ...report, caption: parsed } : report;
}
