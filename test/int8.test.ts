// Int8 inference: the kernels of assembly/int8.ts against test/ref/int8.ts (bit for bit: the sums are
// exact integers and the dequantisation rounds like Math.fround), the quantisation, the model file,
// the accuracy of the shipped model on all 10,000 MNIST test images, and the CLI's --int8.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { argmax } from "../src/model/batches.js";
import { LeNet5Int8, packConvWeightPixels, packConvWeightRows, quantize, quantizeRows } from "../src/model/int8.js";
import { CLASSES, PIXELS } from "../src/model/geometry.js";
import { LeNet5 } from "../src/model/lenet.js";
import { decodeInt8Model, decodeModel, encodeInt8Model, isInt8Model } from "../src/io/model-file.js";
import { loadKernels, type Kernels } from "../src/wasm/kernels.js";
import { Arena, range, rngFor } from "./kernel-harness.js";
import { MNIST_DIR, mnist } from "./helpers.js";
import { conv2d_fwd_i8_ref, dense_fwd_i8_ref, nearestEven, quantize_i8_ref } from "./ref/int8.js";

const MODEL_FILE = fileURLToPath(new URL("../examples/web/lenet5.safetensors", import.meta.url));
const CALIBRATION = 1000; // training images, as the CLI's --int8

let k: Kernels;
beforeAll(async () => {
  k = await loadKernels();
});

/** n integers uniform in lo..hi. */
function randInts(rng: () => number, n: number, lo: number, hi: number): Int32Array {
  return Int32Array.from({ length: n }, () => lo + Math.min(hi - lo, Math.floor(rng() * (hi - lo + 1))));
}

/** Positive f32 scales and f32 biases, one per output channel. */
function scalesAndBiases(rng: () => number, n: number): { scale: Float32Array; bias: Float32Array } {
  return {
    scale: Float32Array.from({ length: n }, () => 1e-4 * (1 + rng())),
    bias: Float32Array.from({ length: n }, () => rng() * 2 - 1),
  };
}

/** Throws naming the kernel, the first differing index, got and want, unless the bits agree. */
function expectExact(label: string, got: ArrayLike<number>, want: ArrayLike<number>): void {
  expect(got.length, `${label}: length`).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], want[i])) throw new Error(`${label}: element ${i}: got ${got[i]}, want ${want[i]}`);
  }
}

describe("quantize_i8", () => {
  function check(n: number, values?: Float32Array, invScale = 127): void {
    const label = `quantize_i8 n=${n}`;
    const inp = values ?? Float32Array.from({ length: n }, (_, i) => Math.fround((rngFor(label)() + i % 7 - 3.5) * 0.4));
    const words = Math.ceil(n / 4) + 1; // a padding word after the n bytes: must keep its fill
    const a = new Arena(k, { out: words, inp: n });
    a.runTwice(label, ["out"], () => {
      a.input("inp", inp); a.fill("out", NaN);
    }, () => k.quantize_i8(a.ptr("out"), a.ptr("inp"), n, invScale));
    expectExact(label, a.narrow("out", "i8", n), quantize_i8_ref(inp, invScale));
    const untouched = new Uint8Array(new Float32Array([NaN]).buffer);
    const after = a.narrow("out", "u8", words * 4).subarray(n);
    after.forEach((b, i) => expect(b, `${label}: wrote byte ${n + i} past the output`).toBe(untouched[(n + i) % 4]));
  }
  it.each([...range(1, 17), 31, 32, 33, 1000])("n=%i matches the reference", (n) => check(n));
  it("rounds halves to even, clamps to -127..127 (never -128) and maps NaN to 0, in the SIMD body and the tail", () => {
    const special = [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 126.5, -126.5, 127.49, 200, -200, -127.5, -128, 1e30, -1e30, 0, -0, 3.4999, NaN, Infinity, -Infinity];
    const values = Float32Array.from([...special, ...special]); // 42: two 16-blocks and a tail of 10
    check(values.length, values, 1);
    expect(Array.from(quantize_i8_ref(values.subarray(0, special.length), 1))).toEqual(
      [0, 2, 2, 0, -2, -2, 126, -126, 127, 127, -127, -127, -127, 127, -127, 0, 0, 3, 0, 127, -127]);
    expect([0.5, 1.5, 2.5, -2.5, -3.5].map(nearestEven)).toEqual([0, 2, 2, -2, -4]);
  });
});

interface ConvCase { B: number; C: number; H: number; W: number; OC: number; K: number; unsigned: boolean; label: string }
const convCase = (B: number, C: number, H: number, W: number, OC: number, K: number, unsigned: boolean): ConvCase =>
  ({ B, C, H, W, OC, K, unsigned, label: `B=${B} C=${C} H=${H} W=${W} OC=${OC} K=${K} ${unsigned ? "u8" : "i8"} (OH=${H - K + 1} OW=${W - K + 1})` });

// The rows kernel (c1): OW = 2..19 straddles its 8-, 4- and 2-pixel blocks (odd widths drop a
// column); each width with two kernel sizes from 1..5 (odd K pads each kernel row's last pair),
// 1..3 pooled rows (an odd count leaves the 4-pixel column's last row alone), C 1..3, OC 1..3 (odd:
// the last channel pairs with itself), signed and unsigned inputs.
const rowsSweep: ConvCase[] = [];
for (const OW of range(2, 19)) {
  for (const K of new Set([1 + ((OW - 1) % 5), 5 - ((OW - 1) % 5)])) {
    const OH = 2 + ((OW + K) % 5);
    rowsSweep.push(convCase(1 + (OW % 2), 1 + (OW % 3), OH + K - 1, OW + K - 1, 1 + ((OW + K) % 3), K, OW % 2 === 0));
  }
}
// The pixels kernel (c3): OC 4..20 (its 8- and 4-channel blocks), C 1..7 (odd: the last channel
// pairs with a zero), K 1..5, outputs 2..7 wide and high (odd ones drop a row or column).
const pixelsSweep: ConvCase[] = [];
for (const C of range(1, 7)) {
  for (const OC of [4, 8, 12, 16, 20]) {
    const K = 1 + ((C + OC / 4) % 5), OH = 2 + ((C + OC) % 6), OW = 2 + ((C * 3 + OC / 4) % 6);
    pixelsSweep.push(convCase(1 + (C % 2), C, OH + K - 1, OW + K - 1, OC, K, false));
  }
}

/**
 * Runs conv2d_tanh_pool_rows_i8 (c1's layout) or conv2d_tanh_pool_pixels_i8 (c3's) on `inp` and
 * checks it bit for bit against the plain convolution of the reference followed by the module's own
 * tanh_fwd and avgpool2d_fwd: what the model computed with them as three steps.
 */
function checkConvTanhPool(layout: "rows" | "pixels", c: ConvCase, inp: ArrayLike<number>, weight: Int8Array): void {
  const { B, C, H, W, OC, K, unsigned } = c;
  const OH = H - K + 1, OW = W - K + 1, n = B * OC * (OH >> 1) * (OW >> 1);
  const label = `conv2d_tanh_pool_${layout}_i8 ${c.label}`;
  const { scale, bias } = scalesAndBiases(rngFor(label), OC);
  const packed = layout === "rows" ? packConvWeightRows(weight, K) : packConvWeightPixels(weight, C, K);
  const scratch = layout === "rows" ? k.conv2d_tanh_pool_rows_i8_scratch(C, H, W) : k.conv2d_tanh_pool_pixels_i8_scratch(C, H, W);
  const conv = conv2d_fwd_i8_ref(inp, weight, scale, bias, B, C, H, W, OC, K);
  const a = new Arena(k, {
    out: n, scratch: scratch / 4, inp: Math.ceil(inp.length / 4), weight: Math.ceil(packed.length / 2), scale: OC, bias: OC,
    conv: conv.length, want: n,
  });
  a.fill("conv", conv);
  k.tanh_fwd(a.ptr("conv"), a.ptr("conv"), conv.length);
  k.avgpool2d_fwd(a.ptr("want"), a.ptr("conv"), B, OC, OH, OW);
  const want = a.f32("want").slice();
  a.runTwice(label, ["out"], () => {
    a.input("inp", inp, unsigned ? "u8" : "i8"); a.input("weight", packed, "i16"); a.input("scale", scale); a.input("bias", bias);
    a.fill("out", NaN); a.fill("scratch", NaN);
  }, () => layout === "rows"
    ? k.conv2d_tanh_pool_rows_i8(a.ptr("out"), a.ptr("scratch"), a.ptr("inp"), a.ptr("weight"), a.ptr("scale"), a.ptr("bias"), B, C, H, W, OC, K, unsigned)
    : k.conv2d_tanh_pool_pixels_i8(a.ptr("out"), a.ptr("scratch"), a.ptr("inp"), a.ptr("weight"), a.ptr("scale"), a.ptr("bias"), B, C, H, W, OC, K));
  expectExact(label, a.f32("out"), want);
}

function checkRandom(layout: "rows" | "pixels", c: ConvCase): void {
  const rng = rngFor(`${layout} ${c.label}`);
  const inp = c.unsigned ? randInts(rng, c.B * c.C * c.H * c.W, 0, 255) : randInts(rng, c.B * c.C * c.H * c.W, -127, 127);
  checkConvTanhPool(layout, c, inp, Int8Array.from(randInts(rng, c.OC * c.C * c.K * c.K, -127, 127)));
}

describe("conv2d_tanh_pool_rows_i8 (c1: conv, tanh and 2x2 pooling in one pass)", () => {
  it.each(rowsSweep.map((c) => [c.label, c] as const))("sweep %s", (_, c) => checkRandom("rows", c));
  it("LeNet c1: 32x32 uint8 pixels, 6 channels", () => checkRandom("rows", convCase(4, 1, 32, 32, 6, 5, true)));
  it("extreme values: 255 x -127 products summed over all 25 terms stay exact", () => {
    const c = convCase(1, 1, 32, 32, 6, 5, true);
    checkConvTanhPool("rows", c, new Int32Array(32 * 32).fill(255), new Int8Array(6 * 25).fill(-127));
  });
});

describe("conv2d_tanh_pool_pixels_i8 (c3: conv, tanh and 2x2 pooling in one pass)", () => {
  it.each(pixelsSweep.map((c) => [c.label, c] as const))("sweep %s", (_, c) => checkRandom("pixels", c));
  it("LeNet c3: 6x14x14 int8, 16 channels", () => checkRandom("pixels", convCase(4, 6, 14, 14, 16, 5, false)));
  it("extreme values: -127 x -127 products summed over all 150 terms stay exact", () => {
    const c = convCase(1, 6, 14, 14, 16, 5, false);
    checkConvTanhPool("pixels", c, new Int32Array(6 * 14 * 14).fill(-127), new Int8Array(16 * 150).fill(-127));
  });
});

describe("dense_fwd_i8", () => {
  function check(B: number, K: number, N: number): void {
    const label = `dense_fwd_i8 B=${B} K=${K} N=${N}`;
    const rng = rngFor(label);
    const inp = randInts(rng, B * K, -127, 127), weight = randInts(rng, N * K, -127, 127);
    const { scale, bias } = scalesAndBiases(rng, N);
    const a = new Arena(k, { out: B * N, inp: Math.ceil(B * K / 4), weight: Math.ceil(N * K / 4), scale: N, bias: N });
    a.runTwice(label, ["out"], () => {
      a.input("inp", inp, "i8"); a.input("weight", weight, "i8"); a.input("scale", scale); a.input("bias", bias); a.fill("out", NaN);
    }, () => k.dense_fwd_i8(a.ptr("out"), a.ptr("inp"), a.ptr("weight"), a.ptr("scale"), a.ptr("bias"), B, K, N));
    expectExact(label, a.f32("out"), dense_fwd_i8_ref(inp, weight, scale, bias, B, K, N));
  }
  // K is the vectorised dimension (8 per dot); 4 batch rows share each weight load, so B = 1..9.
  it.each(range(1, 17))("sweep K=%i, B=1..9, N=1..5", (K) => {
    for (const B of range(1, 9)) for (const N of range(1, 5)) check(B, K, N);
  });
  it.each([[32, 400, 120], [7, 120, 84], [5, 84, 10]])("LeNet B=%i K=%i N=%i", check);
});

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

describe("lenet-wasm evaluate/predict --int8", () => {
  const CLI = fileURLToPath(new URL("../build/cli/main.js", import.meta.url));
  const run = (...args: string[]) => {
    const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 120_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  it("evaluate --int8 on the 10,000 test images agrees with f32 within 0.1 points; an int8 file runs as int8", async () => {
    const f32 = JSON.parse(run("evaluate", "--model", MODEL_FILE, "--json").stdout);
    const r = run("evaluate", "--model", MODEL_FILE, "--int8", "--json");
    expect(r.code, r.stderr).toBe(0);
    const int8 = JSON.parse(r.stdout);
    expect([f32.int8, int8.int8, int8.count]).toEqual([false, true, 10000]);
    expect(Math.abs(int8.test_accuracy - f32.test_accuracy)).toBeLessThanOrEqual(0.001);

    // The same quantisation through the API (first 1000 training images), saved: the CLI runs the file as int8.
    const { weights } = decodeModel(readFileSync(MODEL_FILE));
    const model = await quantize(weights, mnist().train.images.subarray(0, CALIBRATION * PIXELS));
    const file = join(mkdtempSync(join(tmpdir(), "lenet-int8-")), "int8.safetensors");
    writeFileSync(file, encodeInt8Model(model.weights));
    const fromFile = JSON.parse(run("evaluate", "--model", file, "--json").stdout);
    expect(fromFile.int8).toBe(true);
    expect(fromFile.test_accuracy).toBe(int8.test_accuracy);
    expect(run("evaluate", "--model", file).stdout).toMatch(/^Test accuracy \(int8\): \d+\.\d\d%/);
    // export --format int8 writes that same file.
    const exported = join(mkdtempSync(join(tmpdir(), "lenet-int8-")), "exported.int8.safetensors");
    const e = run("export", "--format", "int8", MODEL_FILE, "-o", exported);
    expect(e.code, e.stderr).toBe(0);
    expect(e.stdout).toMatch(/int8 model \(\d+\.\d KB; the f32 file has \d+\.\d KB of weights\) written to/);
    expect(() => decodeModel(new Uint8Array(readFileSync(exported)), exported)).toThrow(/an int8 model file \(export --format int8\): this needs the f32 model/);
    await expect(quantize((await LeNet5.create({ arch: "lenet5-1998" })).getWeights(), mnist().train.images.subarray(0, 784)))
      .rejects.toThrow(/int8 runs the article's lenet5 network with 10 classes only/);
    const back = decodeInt8Model(new Uint8Array(readFileSync(exported)), exported);
    expect(back.weights).toEqual(model.weights);
    expect(back.info.metrics).toEqual(decodeModel(readFileSync(MODEL_FILE)).info.metrics); // the story travels along

    const p = run("predict", "--model", MODEL_FILE, "--int8", "--data", MNIST_DIR, "--idx", join(MNIST_DIR, "t10k-images-idx3-ubyte"), "--index", "0", "--json");
    expect(p.code, p.stderr).toBe(0);
    expect(JSON.parse(p.stdout).predictions[0].prediction).toBe(mnist().test.labels[0]);
    expect(run("report", "--model", MODEL_FILE, "--int8").stderr).toMatch(/--int8 is not an option of report/);
  });
});
