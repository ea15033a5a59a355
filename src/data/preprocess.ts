// A drawing or photo of a digit -> a 28x28 MNIST-style image, as MNIST's digits were made: the
// digit's bounding box scaled into 20x20 keeping its aspect ratio (area averaging, so edges come out
// grey, anti-aliased), then placed in 28x28 so that its centre of mass is at the centre (pixel 14,
// 14, where MNIST's sits). White digit on black, like MNIST. Platform-neutral: plain arrays in and out.
import { IMAGE_SIDE, PIXELS } from "../model/geometry.js";

/** Pixels, row-major: one grey value 0..255 each, or four (RGBA, as in a canvas's ImageData). */
export interface DigitImage {
  width: number;
  height: number;
  data: ArrayLike<number>;
}

/** Side of the box the digit is scaled into, as in MNIST. */
const BOX = 20;

/** A picture with no digit in it: blank, or ink too faint or too small to be one. */
export class NoDigitError extends Error {
  override readonly name = "NoDigitError";
}

/** Ink weaker than this (of 255, against the background) is noise, not a stroke: a blank page's grain, a JPEG's ringing. */
export const MIN_INK = 32;
/** A background (the median of a picture's edge) above this grey level is light paper: dark ink on it is inverted. */
const LIGHT = 127.5;
/** Strong ink (at least half the strongest) spanning less than this fraction of the picture's larger side is a speck, not a digit. */
const MIN_EXTENT = 0.02;

/**
 * The 28x28 uint8 MNIST-style image of the digit in `image` (either polarity: a light background is
 * detected and inverted), or null when there is no digit: a blank picture, ink fainter than 32/255,
 * or strong ink spanning less than 2% of the picture (a speck). Any pixel brighter than the
 * background (after inversion) is ink; contrast is stretched so the darkest ink is 255.
 */
export function findDigit(image: DigitImage): Uint8Array | null {
  const { width, height } = image;
  const ink = inkOf(image);
  // Bounding box of the ink.
  let x0 = width, y0 = height, x1 = -1, y1 = -1, max = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = ink[y * width + x]!;
      if (v <= 0) continue;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
      if (v > max) max = v;
    }
  }
  if (max < MIN_INK) return null;
  // The extent of the strong ink: a speck or a stray dot is not a digit.
  let sx0 = width, sy0 = height, sx1 = -1, sy1 = -1;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      if (ink[y * width + x]! < max / 2) continue;
      sx0 = Math.min(sx0, x); sx1 = Math.max(sx1, x); sy0 = Math.min(sy0, y); sy1 = Math.max(sy1, y);
    }
  }
  if (Math.max(sx1 - sx0 + 1, sy1 - sy0 + 1) < Math.max(2, MIN_EXTENT * Math.max(width, height))) return null;
  const out = new Uint8Array(PIXELS);
  // Into BOX x BOX, aspect ratio kept.
  const bw = x1 - x0 + 1, bh = y1 - y0 + 1;
  const scale = BOX / Math.max(bw, bh);
  const ow = Math.max(1, Math.round(bw * scale)), oh = Math.max(1, Math.round(bh * scale));
  const rows = new Float32Array(bh * ow); // horizontal pass, then vertical
  const wx = areaWeights(bw, ow), wy = areaWeights(bh, oh);
  for (let y = 0; y < bh; y++) {
    for (let ox = 0; ox < ow; ox++) {
      let s = 0;
      for (const [j, w] of wx[ox]!) s += w * ink[(y0 + y) * width + x0 + j]!;
      rows[y * ow + ox] = s;
    }
  }
  const box = new Float32Array(oh * ow);
  let mass = 0, mx = 0, my = 0;
  for (let oy = 0; oy < oh; oy++) {
    for (let ox = 0; ox < ow; ox++) {
      let s = 0;
      for (const [j, w] of wy[oy]!) s += w * rows[j * ow + ox]!;
      const v = (s * 255) / max;
      box[oy * ow + ox] = v;
      mass += v; mx += v * ox; my += v * oy;
    }
  }
  // Centre of mass (pixel-index coordinates) onto pixel (14, 14).
  const dx = Math.round(IMAGE_SIDE / 2 - mx / mass), dy = Math.round(IMAGE_SIDE / 2 - my / mass);
  for (let oy = 0; oy < oh; oy++) {
    const y = oy + dy;
    if (y < 0 || y >= IMAGE_SIDE) continue;
    for (let ox = 0; ox < ow; ox++) {
      const x = ox + dx;
      if (x >= 0 && x < IMAGE_SIDE) out[y * IMAGE_SIDE + x] = Math.min(255, Math.round(box[oy * ow + ox]!));
    }
  }
  return out;
}

/**
 * Ink per pixel, >= 0 (0 = background). RGBA whose border is mostly transparent: the alpha channel
 * (strokes on a transparent canvas). Otherwise the grey level (luminance for RGBA), inverted when the background
 * (the median of the border pixels) is light, minus the background.
 */
function inkOf({ width, height, data }: DigitImage): Float32Array {
  const n = width * height;
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0) || (data.length !== n && data.length !== 4 * n)) {
    throw new RangeError(`preprocessDigit: ${width}x${height} needs ${n} grey or ${4 * n} RGBA values, got ${data.length}`);
  }
  const ink = new Float32Array(n);
  if (data.length === 4 * n) {
    // Strokes on a transparent canvas: most of the border is (nearly) transparent.
    let clear = 0, edge = 0;
    for (let i = 0; i < n; i++) {
      const x = i % width, y = (i - x) / width;
      if (x > 0 && y > 0 && x < width - 1 && y < height - 1) continue;
      edge++;
      if (data[4 * i + 3]! < 128) clear++;
    }
    const transparent = clear > edge / 2;
    for (let i = 0; i < n; i++) {
      ink[i] = transparent ? data[4 * i + 3]! : 0.299 * data[4 * i]! + 0.587 * data[4 * i + 1]! + 0.114 * data[4 * i + 2]!;
    }
    if (transparent) return ink;
  } else {
    for (let i = 0; i < n; i++) ink[i] = data[i]!;
  }
  const background = borderMedian(ink, width, height);
  const light = background > LIGHT;
  for (let i = 0; i < n; i++) ink[i] = Math.max(0, light ? background - ink[i]! : ink[i]! - background);
  return ink;
}

/** The median of the values on the picture's edge: its background. */
function borderMedian(values: ArrayLike<number>, width: number, height: number): number {
  const n = width * height, border: number[] = [];
  for (let x = 0; x < width; x++) border.push(values[x]!, values[n - width + x]!);
  for (let y = 0; y < height; y++) border.push(values[y * width]!, values[y * width + width - 1]!);
  border.sort((a, b) => a - b);
  return border[border.length >> 1]!;
}

/** The picture's grey levels when it is 28x28 and grey (one value a pixel, or opaque RGBA with R = G = B), else null. */
export function mnistPixels({ width, height, data }: DigitImage): Uint8Array | null {
  if (width !== IMAGE_SIDE || height !== IMAGE_SIDE) return null;
  if (data.length === PIXELS) return Uint8Array.from(data);
  if (data.length !== 4 * PIXELS) return null;
  const grey = new Uint8Array(PIXELS);
  for (let i = 0; i < PIXELS; i++) {
    const [r, g, b, a] = [data[4 * i]!, data[4 * i + 1]!, data[4 * i + 2]!, data[4 * i + 3]!];
    if (r !== g || g !== b || a !== 255) return null;
    grey[i] = r;
  }
  return grey;
}

/**
 * The 28x28 MNIST-style image of a picture, or null when it holds no digit. A 28x28 grey picture
 * on a dark background is one already (an MNIST or Fashion-MNIST image saved as PNG): its pixels
 * are taken as they are, and it is empty when no pixel reaches MIN_INK. Any other picture
 * (another size, colour, a light background) is findDigit's.
 */
export function toMnistImage(image: DigitImage): Uint8Array | null {
  const grey = mnistPixels(image);
  if (grey === null || borderMedian(grey, IMAGE_SIDE, IMAGE_SIDE) > LIGHT) return findDigit(image);
  return grey.some((v) => v >= MIN_INK) ? grey : null;
}

/**
 * For each of `nOut` output cells, the input cells it overlaps and their weights (overlap / cell
 * width), when `nIn` cells are resampled to `nOut` by area averaging.
 */
function areaWeights(nIn: number, nOut: number): [number, number][][] {
  const f = nIn / nOut;
  return Array.from({ length: nOut }, (_, i) => {
    const from = i * f, to = (i + 1) * f;
    const cells: [number, number][] = [];
    for (let j = Math.floor(from); j < Math.min(nIn, Math.ceil(to)); j++) {
      const overlap = Math.min(j + 1, to) - Math.max(j, from);
      if (overlap > 0) cells.push([j, overlap / f]);
    }
    return cells;
  });
}

/**
 * The 28x28 uint8 MNIST-style image of the digit in `image`: findDigit's, for a picture that must hold one.
 * @throws NoDigitError when there is none (a blank canvas, a speck, faint noise): nothing to classify
 */
export function preprocessDigit(image: DigitImage): Uint8Array {
  const digit = findDigit(image);
  if (digit === null) throw new NoDigitError("no digit: the picture is blank, or its ink is too faint or too small to be a digit");
  return digit;
}
