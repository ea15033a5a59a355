// Random affine distortions of training images (rotation, scale, shear, shift), made on the fly as
// each batch is copied into WASM memory. LeCun et al. (1998) trained on distorted copies too. The
// distortion of an image depends only on (seed, epoch, image number): the same on any thread count
// and after a resume, with no generator state to carry.

import { type ImageWriter } from "../model/batches.js";
import { IMAGE_SIDE as SIDE, PIXELS } from "../model/geometry.js";

/** Largest distortions; each image gets uniform random values within them. */
export interface Distortion {
  /** Rotation, degrees either way. */
  rotate: number;
  /** Relative scale change either way (0.1: 90%..110%). */
  scale: number;
  /** Horizontal shear factor either way. */
  shear: number;
  /** Shift, pixels either way, horizontally and vertically. */
  shift: number;
}

/** Mild distortions that keep digits readable (what --augment uses). */
export const DEFAULT_DISTORTION: Readonly<Distortion> = { rotate: 10, scale: 0.1, shear: 0.15, shift: 2 };

/** Uniform in [-1, 1) from (seed, epoch, image, k): a counter-based hash (splitmix32-style mixing). */
function uniform(seed: number, epoch: number, image: number, k: number): number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(epoch + 1, 0xc2b2ae35) ^ Math.imul(image + 1, 0x27d4eb2f) ^ Math.imul(k + 1, 0x165667b1);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  h ^= h >>> 16;
  return (h >>> 0) / 2147483648 - 1;
}

const C = (SIDE - 1) / 2; // the centre, 13.5

/** Pixel (x, y) of the image starting at `src`, 0 outside it. */
function pixel(images: Uint8Array, src: number, x: number, y: number): number {
  return x < 0 || y < 0 || x >= SIDE || y >= SIDE ? 0 : images[src + y * SIDE + x]!;
}

/**
 * Writes image `n` of `images` (uint8, 28x28 each), distorted by the parameters drawn for
 * (seed, epoch, n), into `dst` from element `at` with rows `stride` apart, as f32 in [0, 1].
 * Bilinear sampling; pixels from outside the image are 0.
 */
export function distortInto(dst: Float32Array, at: number, stride: number, images: Uint8Array, n: number, d: Distortion, seed: number, epoch: number): void {
  const angle = (d.rotate * Math.PI / 180) * uniform(seed, epoch, n, 0);
  const s = 1 + d.scale * uniform(seed, epoch, n, 1), k = d.shear * uniform(seed, epoch, n, 2);
  const tx = d.shift * uniform(seed, epoch, n, 3), ty = d.shift * uniform(seed, epoch, n, 4);
  // Forward map: p' = R (Sh (s p)) + t around the centre; sample through its inverse.
  const cos = Math.cos(angle), sin = Math.sin(angle);
  const a = s * cos, b = s * (cos * k - sin), c = s * sin, e = s * (sin * k + cos); // [[a b] [c e]]
  const det = a * e - b * c;
  const ia = e / det, ib = -b / det, ic = -c / det, ie = a / det;
  const src = n * PIXELS;
  for (let y = 0; y < SIDE; y++) {
    for (let x = 0; x < SIDE; x++) {
      const u = x - C - tx, v = y - C - ty;
      const sx = ia * u + ib * v + C, sy = ic * u + ie * v + C;
      const x0 = Math.floor(sx), y0 = Math.floor(sy), fx = sx - x0, fy = sy - y0;
      const top = pixel(images, src, x0, y0) * (1 - fx) + pixel(images, src, x0 + 1, y0) * fx;
      const bottom = pixel(images, src, x0, y0 + 1) * (1 - fx) + pixel(images, src, x0 + 1, y0 + 1) * fx;
      dst[at + y * stride + x] = (top * (1 - fy) + bottom * fy) / 255;
    }
  }
}

/** Training-time distortion of a batch: which distortions, and the (seed, epoch) they are drawn for. */
export interface DistortBatch {
  distortion: Distortion;
  seed: number;
  epoch: number;
}

/** What LeNet5.setBatch calls to write each image of a batch distorted as `batch` says. */
export function distortion({ distortion: d, seed, epoch }: DistortBatch): ImageWriter {
  return (into, offset, stride, images, n) => distortInto(into, offset, stride, images, n, d, seed, epoch);
}
