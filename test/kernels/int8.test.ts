// Int8 inference kernels: the kernels of assembly/int8.ts (quantize_i8, conv2d_tanh_pool_rows_i8,
// conv2d_tanh_pool_pixels_i8, dense_fwd_i8) against test/ref/int8.ts, bit for bit: the sums are exact
// integers and the dequantisation rounds like Math.fround. The quantisation of the model, its file
// and accuracy are in test/model/int8.test.ts; the CLI's --int8 in test/e2e/int8-cli.test.ts.
import { beforeAll, describe, expect, it } from "vitest";
import { packConvWeightPixels, packConvWeightRows } from "../../src/model/int8.js";
import { loadKernels, type Kernels } from "../../src/wasm/kernels.js";
import { Arena, range, rngFor } from "./kernel-harness.js";
import { conv2d_i8_ref, dense_fwd_i8_ref, nearestEven, quantize_i8_ref } from "../ref/int8.js";

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
 * tanh_i8_fwd and avgpool2d_fwd: what the model computed with them as three steps.
 */
function checkConvTanhPool(layout: "rows" | "pixels", c: ConvCase, inp: ArrayLike<number>, weight: Int8Array): void {
  const { B, C, H, W, OC, K, unsigned } = c;
  const OH = H - K + 1, OW = W - K + 1, n = B * OC * (OH >> 1) * (OW >> 1);
  const label = `conv2d_tanh_pool_${layout}_i8 ${c.label}`;
  const { scale, bias } = scalesAndBiases(rngFor(label), OC);
  const packed = layout === "rows" ? packConvWeightRows(weight, K) : packConvWeightPixels(weight, C, K);
  const scratch = layout === "rows" ? k.conv2d_tanh_pool_rows_i8_scratch(C, H, W) : k.conv2d_tanh_pool_pixels_i8_scratch(C, H, W);
  const conv = conv2d_i8_ref(inp, weight, scale, bias, B, C, H, W, OC, K);
  const a = new Arena(k, {
    out: n, scratch: scratch / 4, inp: Math.ceil(inp.length / 4), weight: Math.ceil(packed.length / 2), scale: OC, bias: OC,
    conv: conv.length, want: n,
  });
  a.fill("conv", conv);
  k.tanh_i8_fwd(a.ptr("conv"), a.ptr("conv"), conv.length);
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
