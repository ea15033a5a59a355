// MNIST-style preprocessing: real test digits, blown up to canvas size in either polarity, come
// back (nearly) as they were and are classified the same by the demo's trained model.
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { argmax } from "../../src/model/batches.js";
import { PIXELS } from "../../src/model/geometry.js";
import { LeNet5 } from "../../src/model/lenet.js";
import { decodeModel } from "../../src/io/model-file.js";
import { findDigit, NoDigitError, preprocessDigit, type DigitImage } from "../../src/data/preprocess.js";
import { mnist } from "../helpers.js";

/** MNIST image n, each pixel a `k` x `k` block (nearest neighbour), on a canvas with margins. */
function upscale(image: Uint8Array, k: number, { invert = false, left = 0, top = 0, width = 28 * k, height = 28 * k } = {}): DigitImage {
  const data = new Uint8Array(width * height).fill(invert ? 255 : 0);
  for (let y = 0; y < 28 * k; y++) {
    for (let x = 0; x < 28 * k; x++) {
      const v = image[Math.floor(y / k) * 28 + Math.floor(x / k)]!;
      data[(top + y) * width + left + x] = invert ? 255 - v : v;
    }
  }
  return { width, height, data };
}

const meanAbsDiff = (a: Uint8Array, b: Uint8Array) => a.reduce((s, v, i) => s + Math.abs(v - b[i]!), 0) / a.length;

describe("preprocessDigit", () => {
  let model: LeNet5;
  const test = () => mnist().test;
  const image = (n: number) => test().images.subarray(n * PIXELS, (n + 1) * PIXELS);
  beforeAll(async () => {
    model = await LeNet5.create();
    model.setWeights(decodeModel(readFileSync(new URL("../../examples/web/lenet5.safetensors", import.meta.url))).weights);
  });

  it("gives back a real MNIST digit upscaled 10x to 280x280 (white on black), classified the same", () => {
    for (let n = 0; n < 50; n++) {
      const out = preprocessDigit(upscale(image(n), 10));
      expect(meanAbsDiff(out, image(n)), `test image ${n}`).toBeLessThan(1);
      expect(argmax(model.predict(out), 0, 10), `test image ${n}`).toBe(argmax(model.predict(image(n)), 0, 10));
    }
  });

  it("inverts black-on-white, ignores where the digit is and a non-integer scale; RGBA like ImageData", () => {
    const counts = { same: 0, total: 0 };
    for (let n = 0; n < 50; n++) {
      const gray = upscale(image(n), 7, { invert: true, left: 31, top: 5, width: 300, height: 210 });
      const rgba = new Uint8ClampedArray(gray.data.length * 4).map((_, i) => (i % 4 === 3 ? 255 : gray.data[i >> 2]!));
      const out = preprocessDigit({ width: 300, height: 210, data: rgba });
      expect(out).toEqual(preprocessDigit(gray));
      expect(meanAbsDiff(out, image(n)), `test image ${n}`).toBeLessThan(1);
      const label = argmax(model.predict(out), 0, 10);
      counts.total++;
      if (label === test().labels[n]) counts.same++;
    }
    expect(counts.same).toBeGreaterThanOrEqual(counts.total - 1);
  });

  it("reads strokes on a transparent canvas from the alpha channel", () => {
    const gray = upscale(image(0), 10);
    const rgba = new Uint8ClampedArray(gray.data.length * 4).map((_, i) => (i % 4 === 3 ? gray.data[i >> 2]! : 0));
    expect([...preprocessDigit({ width: 280, height: 280, data: rgba })]).toEqual([...image(0)]);
  });

  it("scales the bounding box into 20x20 keeping the aspect ratio, centre of mass at (14, 14)", () => {
    // A 100x50 white bar: 20x10 in the output, centred.
    const data = new Uint8Array(200 * 200);
    for (let y = 30; y < 80; y++) data.fill(255, y * 200 + 10, y * 200 + 110);
    const out = preprocessDigit({ width: 200, height: 200, data });
    const rows = Array.from({ length: 28 }, (_, y) => out.subarray(y * 28, y * 28 + 28).reduce((s, v) => s + (v > 0 ? 1 : 0), 0));
    expect(rows.filter((n) => n === 20).length).toBe(10);
    expect(rows.filter((n) => n !== 0 && n !== 20)).toEqual([]);
    expect(out[10 * 28 + 5]).toBe(255); // rows 10..19, columns 5..24: mass centre 9.5 -> 14 (MNIST puts it on pixel index 14)
    expect(out[19 * 28 + 24]).toBe(255);
    expect(out[9 * 28 + 5]).toBe(0);
  });

  it("no digit (null from findDigit, NoDigitError from preprocessDigit) for a blank picture, faint noise or a speck; rejects a buffer of the wrong size", () => {
    const blank = { width: 50, height: 40, data: new Uint8Array(2000).fill(255) };
    expect(findDigit(blank)).toBeNull();
    expect(() => preprocessDigit(blank)).toThrow(NoDigitError);
    expect(() => preprocessDigit(blank)).toThrow(/no digit: the picture is blank, or its ink is too faint or too small/);
    // A transparent canvas (RGBA, alpha 0): blank too.
    expect(findDigit({ width: 20, height: 20, data: new Uint8Array(1600) })).toBeNull();
    // Faint grain: ink below 32/255 against the paper.
    const faint = Uint8Array.from({ length: 2000 }, (_, i) => 255 - ((i * 7) % 31));
    expect(findDigit({ width: 50, height: 40, data: faint })).toBeNull();
    // A 1-pixel speck on 200x200 paper is no digit; a 30-pixel stroke is one.
    const paper = (draw: (x: number, y: number) => boolean) => ({ width: 200, height: 200, data: Uint8Array.from({ length: 40000 }, (_, i) => (draw(i % 200, Math.floor(i / 200)) ? 0 : 255)) });
    expect(findDigit(paper((x, y) => x === 100 && y === 100))).toBeNull();
    expect(findDigit(paper((x, y) => x >= 99 && x <= 101 && y >= 80 && y < 110))).not.toBeNull();
    expect(() => preprocessDigit({ width: 50, height: 40, data: new Uint8Array(1999) })).toThrow(/50x40 needs 2000 grey or 8000 RGBA values, got 1999/);
  });
});
