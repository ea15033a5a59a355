// How images get into a model and probabilities out of it, the same for LeNet5 (f32) and
// LeNet5Int8: the batch a setBatch call describes, the checks on it, where each image lands in the
// 32x32 input slots, and the chunked loop of predict() and evaluation.
import { INPUT_SIDE, PAD, PIXELS } from "./geometry.js";

/** Images the caller hands in, 28x28 each, row-major, one after another: uint8 pixels 0..255 (MNIST bytes) or floats in [0,1]. */
export type Images = Uint8Array | Float32Array;

/**
 * Writes image `n` of `images` (uint8, 28x28 each) as floats in [0,1] into `into` from element
 * `offset`, rows `stride` apart: how training distorts its images (train/augment.ts's distortion()).
 */
export type ImageWriter = (into: Float32Array, offset: number, stride: number, images: Uint8Array, n: number) => void;

/** What setBatch copies into a model: `count` images, and their labels when given. */
export interface Batch {
  images: Images;
  /** Labels of all the images (indexed like them), for training and evaluation; none to predict. */
  labels?: Uint8Array | null;
  count: number;
  /** Batch image i is image `start + i` of `images`, or image `order[start + i]` when `order` is given. Default 0. */
  start?: number;
  order?: Uint32Array;
  /** Writes each (uint8) image distorted instead of as it is: training-time augmentation. */
  distort?: ImageWriter;
}

/** What evaluation and prediction need of a model: LeNet5 and LeNet5Int8 are both one. */
export interface Classifier {
  /** Largest batch per call. */
  readonly capacity: number;
  /** Classes it tells apart: the length of each probability row. */
  readonly classes: number;
  /** Copies a batch (at most `capacity` images) into the model. */
  setBatch(batch: Batch): void;
  /** Summed cross-entropy loss of the first `B` images of the batch (set with labels); batchProbabilities then gives their probabilities. */
  evaluateBatch(B: number): number;
  /** Live view of the class probabilities (B x classes) of the last batch evaluated or predicted; copy what you keep. */
  batchProbabilities(B: number): Float32Array;
  /** Class probabilities of the first `B` images of the batch (set without labels), as batchProbabilities gives them. */
  predictBatch(B: number): Float32Array;
}

/** Images per forward call in predict() and evaluation: small enough that all activations stay in cache. */
export const INFERENCE_CHUNK = 32;

/** Floats (f32 model) or bytes (int8 model) of one input slot: a 32x32 field. */
export const SLOT = INPUT_SIDE * INPUT_SIDE;

/** Offset of the first interior pixel of input slot `i`, slots of SLOT elements from `base`: the 28x28 image sits in a blank 2-pixel border. */
export const slotInterior = (base: number, i: number): number => base + i * SLOT + PAD * INPUT_SIDE + PAD;

/** Number of the image that is image `i` of `batch`. */
export const imageNumber = (batch: Batch, i: number): number => (batch.order ? batch.order[(batch.start ?? 0) + i]! : (batch.start ?? 0) + i);

/** A batch's size must be 1..capacity. */
export function checkBatchSize(count: number, capacity: number): void {
  if (!(count >= 1 && count <= capacity)) throw new RangeError(`batch of ${count} images: must be 1..${capacity}`);
}

/** The first pixel of image `n`, which must lie within `images`. */
export function imageStart(images: Images, n: number): number {
  const src = n * PIXELS;
  if (src + PIXELS > images.length) throw new RangeError(`image ${n} is past the end of the images (${images.length / PIXELS} images)`);
  return src;
}

/**
 * Stages the batch's uint8 images as they are, image i at byte `at + i * PIXELS` of `u8`, for the
 * kernel that lays them into the input slots (images_to_input, pixels_to_slots): consecutive
 * images (no `order`) in one copy, else one copy each. A RangeError for an image past the end.
 */
export function stageImages(u8: Uint8Array, images: Uint8Array, batch: Batch, at: number): void {
  const start = batch.start ?? 0, { count } = batch;
  if (!batch.order && (start + count) * PIXELS <= images.length) {
    u8.set(images.subarray(start * PIXELS, (start + count) * PIXELS), at);
    return;
  }
  for (let i = 0; i < count; i++) {
    const src = imageStart(images, imageNumber(batch, i));
    u8.set(images.subarray(src, src + PIXELS), at + i * PIXELS);
  }
}

/** Label of image `n`, which must be below `classes`. */
export function labelOf(labels: Uint8Array, n: number, classes: number): number {
  const label = labels[n]!;
  if (label >= classes) throw new RangeError(`label ${label} of image ${n} is outside 0..${classes - 1}`);
  return label;
}

/** `count` images, default all whole ones; a RangeError when `images` holds fewer. */
export function imageCount(images: Images, count = Math.floor(images.length / PIXELS)): number {
  if (count * PIXELS > images.length) throw new RangeError(`predict: ${count} images need ${count * PIXELS} values, got ${images.length}`);
  return count;
}

/** Calls `run(start, B)` for consecutive chunks of at most min(capacity, INFERENCE_CHUNK) of `count` images. */
export function forEachChunk(count: number, capacity: number, run: (start: number, B: number) => void): void {
  const chunk = Math.min(capacity, INFERENCE_CHUNK);
  for (let start = 0; start < count; start += chunk) run(start, Math.min(chunk, count - start));
}

/** Class probabilities of `count` images, chunk by chunk: count x classes values in a new array. */
export function predictAll(model: Classifier, images: Images, count: number): Float32Array {
  const out = new Float32Array(count * model.classes);
  const batch: Batch = { images, count: 0, start: 0 };
  forEachChunk(count, model.capacity, (start, B) => {
    batch.start = start;
    batch.count = B;
    model.setBatch(batch);
    out.set(model.predictBatch(B), start * model.classes);
  });
  return out;
}

/** Index of the largest of n values at `offset` (the first one on ties). */
export function argmax(values: ArrayLike<number>, offset: number, n: number): number {
  let best = 0;
  for (let j = 1; j < n; j++) if (values[offset + j]! > values[offset + best]!) best = j;
  return best;
}
