// Int8 inference of the model: quantizeRows and the kernels' weight layouts, quantize() and
// LeNet5Int8 on the shipped model (the accuracy on all 10,000 MNIST test images, the model file).
// The kernels are tested in test/kernels/int8.test.ts; the CLI's --int8 in test/e2e/int8-cli.test.ts.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { argmax } from "../../src/model/batches.js";
import { LeNet5Int8, packConvWeightPixels, packConvWeightRows, quantize, quantizeRows } from "../../src/model/int8.js";
import { CLASSES, PIXELS } from "../../src/model/geometry.js";
import { LeNet5 } from "../../src/model/lenet.js";
import { decodeInt8Model, decodeModel, encodeInt8Model, isInt8Model } from "../../src/io/model-file.js";
import { rngFor } from "../kernels/kernel-harness.js";
import { mnist } from "../helpers.js";

const MODEL_FILE = fileURLToPath(new URL("../../examples/web/lenet5.safetensors", import.meta.url));
const CALIBRATION = 1000; // training images, as the CLI's --int8

describe("quantizeRows, packConvWeightRows and packConvWeightPixels", () => {
  it("per-row scales: |q| <= 127, each row's largest weight maps to +-127, error <= scale / 2", () => {
    const rng = rngFor("quantizeRows");
    const w = Float32Array.from({ length: 6 * 25 }, (_, i) => (rng() * 2 - 1) * (1 + Math.floor(i / 25))); // rows of different ranges
    w.fill(0, 125); // an all-zero row
    const { weight, weightScale } = quantizeRows(w, 6);
    for (let r = 0; r < 6; r++) {
      const row = Array.from(weight.subarray(r * 25, r * 25 + 25));
      if (r === 5) { expect(row.every((q) => q === 0)).toBe(true); continue; }
      expect(Math.max(...row.map(Math.abs))).toBe(127);
      for (let i = 0; i < 25; i++) expect(Math.abs(row[i]! * weightScale[r]! - w[r * 25 + i]!)).toBeLessThanOrEqual(weightScale[r]! / 2 + 1e-7);
    }
  });
  it("rows: packs each kernel row as neighbour pairs, a zero after odd K", () => {
    expect(Array.from(packConvWeightRows(Int8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]), 3))).toEqual([1, 2, 3, 0, 4, 5, 6, 0, 7, 8, 9, 0]);
    expect(Array.from(packConvWeightRows(Int8Array.from([1, 2, 3, 4]), 2))).toEqual([1, 2, 3, 4]);
  });
  it("pixels: per channel pair and tap, every output channel's two weights; a zero for an odd last channel", () => {
    // OC=2, C=3, K=1: w[oc][c] = 10 * oc + c
    expect(Array.from(packConvWeightPixels(Int8Array.from([0, 1, 2, 10, 11, 12]), 3, 1))).toEqual([0, 1, 10, 11, 2, 0, 12, 0]);
  });
});

describe("LeNet5Int8 on the shipped model (examples/web/lenet5.safetensors)", () => {
  let f32: LeNet5, int8: LeNet5Int8;
  const { train, test } = mnist();
  const accuracy = (probs: Float32Array) => {
    let correct = 0;
    for (let i = 0; i < test.count; i++) if (argmax(probs, i * CLASSES, CLASSES) === test.labels[i]) correct++;
    return correct / test.count;
  };
  beforeAll(async () => {
    const { weights } = decodeModel(readFileSync(MODEL_FILE));
    f32 = await LeNet5.create();
    f32.setWeights(weights);
    int8 = await quantize(weights, train.images.subarray(0, CALIBRATION * PIXELS)); // training images only
  });

  it("is within 0.1 percentage points of f32 on all 10,000 test images", () => {
    const want = accuracy(f32.predict(test.images)), got = accuracy(int8.predict(test.images));
    console.log(`f32 ${(100 * want).toFixed(2)}%, int8 ${(100 * got).toFixed(2)}% on ${test.count} test images`);
    expect(want).toBeGreaterThan(0.98); // the right model and data
    expect(Math.abs(got - want)).toBeLessThanOrEqual(0.001);
  });

  it("calibrated activation scales: tanh outputs in [-1, 1], so each input scale is at most 1/127", () => {
    const w = int8.weights;
    expect(w.c1.inputScale).toBe(Math.fround(1 / 255));
    for (const layer of ["c3", "f5", "f6", "out"] as const) {
      expect(w[layer].inputScale).toBeGreaterThan(0.5 / 127);
      expect(w[layer].inputScale).toBeLessThanOrEqual(1 / 127);
    }
  });

  it("predicts probabilities close to f32's; uint8 and [0,1] float images, any batch size, give the same bits", async () => {
    const n = 100, images = test.images.subarray(0, n * PIXELS);
    const p = int8.predict(images), q = f32.predict(images);
    for (let i = 0; i < p.length; i++) expect(Math.abs(p[i]! - q[i]!)).toBeLessThan(0.05);
    for (let i = 0; i < n; i++) expect(p.subarray(i * 10, i * 10 + 10).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(int8.predict(Float32Array.from(images, (v) => v / 255))).toEqual(p);
    const one = await LeNet5Int8.create(int8.weights, { batchSize: 1 });
    expect(one.predict(images)).toEqual(p);
  });

  it("setBatch: images picked by an order give the bits of the same images in a row; an image past the end is a RangeError", () => {
    const order = Uint32Array.from([7, 3, 99, 0, 42]), B = order.length;
    const picked = new Uint8Array(B * PIXELS);
    order.forEach((n, i) => picked.set(test.images.subarray(n * PIXELS, (n + 1) * PIXELS), i * PIXELS));
    const want = int8.predict(picked);
    int8.setBatch({ images: test.images, count: B, start: 0, order });
    expect(int8.predictBatch(B)).toEqual(want);
    expect(() => int8.setBatch({ images: test.images, count: 2, start: test.count - 1 })).toThrow(RangeError);
    expect(() => int8.setBatch({ images: test.images, count: 1, start: 0, order: Uint32Array.from([test.count]) })).toThrow(/past the end/);
  });

  it("saves and loads: the same tensors and predictions, in under a third of the f32 file's bytes", async () => {
    const bytes = encodeInt8Model(int8.weights, { metrics: { test_accuracy: 0.987 } });
    const f32Bytes = readFileSync(MODEL_FILE);
    console.log(`model file: f32 ${f32Bytes.length} bytes, int8 ${bytes.length} bytes`);
    expect(bytes.length).toBeLessThan(f32Bytes.length / 3);
    expect(isInt8Model(bytes)).toBe(true);
    expect(isInt8Model(f32Bytes)).toBe(false);
    const { weights, info } = decodeInt8Model(bytes, "m.safetensors");
    expect(weights).toEqual(int8.weights);
    expect(info.metrics).toEqual({ test_accuracy: 0.987 });
    const loaded = await LeNet5Int8.create(weights);
    const images = test.images.subarray(0, 64 * PIXELS);
    expect(loaded.predict(images)).toEqual(int8.predict(images));
    expect(() => decodeInt8Model(f32Bytes, "f.safetensors")).toThrow(/f\.safetensors: tensor "c1\.weight": expected dtype "I8" but found "F32"/);
    expect(() => decodeModel(bytes, "m.safetensors")).toThrow(/m\.safetensors: an int8 model file .*decodeInt8Model reads int8 files/);
  });

  it("rejects bad quantised weights with a readable error", async () => {
    await expect(LeNet5Int8.create({ ...int8.weights, f5: { ...int8.weights.f5, inputScale: 0 } })).rejects.toThrow(/f5\.inputScale must be a positive number/);
    await expect(LeNet5Int8.create({ ...int8.weights, c3: { ...int8.weights.c3, bias: new Float32Array(3) } })).rejects.toThrow(/c3\.bias needs 16 values, got 3/);
  });
});
