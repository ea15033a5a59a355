// Digit pictures from PNG files (any size, grey, grey+alpha, RGB, RGBA, palette; 1-16 bits) as RGBA
// pixels for preprocessDigit. Platform-neutral (fast-png is pure JS).
import { convertIndexedToRgb, decode, hasPngSignature } from "fast-png";
import type { DigitImage } from "./preprocess.js";

/** A picture that cannot be used: what is wrong, which file, what to do. */
export class ImageError extends Error {
  override readonly name = "ImageError";
  constructor(message: string, readonly file?: string) {
    super(file ? `${file}: ${message}` : message);
  }
}

/** Largest picture accepted (pixels), so a hostile header cannot make us allocate gigabytes. */
const MAX_PIXELS = 40_000_000;

/** Decodes a PNG into RGBA 8-bit pixels. */
export function digitImageFromPng(bytes: Uint8Array, file?: string): DigitImage {
  if (!hasPngSignature(bytes)) throw new ImageError("not a PNG file (no PNG signature). Save the picture as PNG.", file);
  // Width and height sit in the IHDR chunk at bytes 16..23: check them before decoding allocates.
  if (bytes.length >= 24) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const pixels = view.getUint32(16) * view.getUint32(20);
    if (pixels > MAX_PIXELS) throw new ImageError(`a ${view.getUint32(16)}x${view.getUint32(20)} picture is too large (limit ${MAX_PIXELS} pixels). Crop or shrink it.`, file);
  }
  let png;
  try {
    png = decode(bytes);
  } catch (err) {
    throw new ImageError(`cannot decode this PNG (${(err as Error).message}); is it truncated?`, file);
  }
  const { width, height } = png;
  const n = width * height;
  if (n === 0) throw new ImageError("the picture is empty (0 pixels).", file);
  let channels = png.channels;
  let data: ArrayLike<number> = png.data;
  let shift = png.depth === 16 ? 8 : 0; // keep the high byte of 16-bit samples
  let scale = png.depth < 8 ? 255 / ((1 << png.depth) - 1) : 1; // 1, 2, 4-bit grey -> 0..255
  if (png.palette) {
    data = convertIndexedToRgb(png);
    channels = data.length / n;
    shift = 0;
    scale = 1;
  }
  if (png.depth < 8 && !png.palette) {
    // 1, 2 and 4-bit grey come packed, several pixels per byte, each row starting on a byte.
    const d = png.depth, rowBytes = Math.ceil((width * d) / 8), packed = png.data;
    const unpacked = new Uint8Array(n);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const bit = x * d;
        unpacked[y * width + x] = (packed[y * rowBytes + (bit >> 3)]! >> (8 - d - (bit & 7))) & ((1 << d) - 1);
      }
    }
    data = unpacked;
  }
  const rgba = new Uint8Array(n * 4);
  for (let i = 0; i < n; i++) {
    const v = (c: number) => Math.round(((data[i * channels + c]! >>> shift) & 0xffff) * scale);
    const grey = channels < 3;
    rgba[4 * i] = v(0);
    rgba[4 * i + 1] = grey ? v(0) : v(1);
    rgba[4 * i + 2] = grey ? v(0) : v(2);
    rgba[4 * i + 3] = channels === 2 ? v(1) : channels === 4 ? v(3) : 255;
  }
  return { width, height, data: rgba };
}
