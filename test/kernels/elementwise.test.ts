// The elementwise kernels against test/ref/kernels.ts or exact f32 arithmetic (see kernel-harness.ts
// for what every case checks): tanh, the int8 models' tanh, the 1998 LeNet-5's squash, add_f32, count_nonfinite, mask_f32,
// scale_f32, images_to_input and pixels_to_slots.
import { beforeAll, describe, expect, it } from "vitest";

import type { Kernels } from "../../src/wasm/kernels.js";
import {
  Arena, expectClose, expectSameBits, loadTestKernels, randF32, range, rngFor, RTOL,
} from "./kernel-harness.js";
import {
  squash_bwd_ref,
  squash_fwd_ref,
  tanh_bwd_ref,
  tanh_fwd_ref,
  tanh_i8_ref,
  tanh_v_ref,
} from "../ref/kernels.js";

let k: Kernels;
beforeAll(async () => {
  k = await loadTestKernels();
});

// ---------------------------------------------------------------------------------------------
// tanh

/** tanh_fwd returns x itself below this (assembly/activation.ts: q rounds to 1 there, and x p to x). */
const TANH_IS_X_BELOW = 3.5e-4;
/** tanh_fwd's clamp (assembly/activation.ts): the first f32 at which it gives 1. */
const TANH_CLAMP = 7.91033935546875;

describe("tanh_fwd", () => {
  it("is its f32 formula bit for bit, within 1e-6 of Math.tanh over [-12, 12] and special values; odd; |tanh| <= 1", () => {
    const { xs, got, fails, maxErr, maxAt, n, at } = sweepTanh("tanh_fwd");
    // Every f32 from 3.4e-4 up to 3.5e-4 is among the points (tanhSweep), and values down to 1e-40.
    const notX: string[] = [];
    for (let i = 0; i < n - 1; i++) if (Math.abs(xs[i]) < TANH_IS_X_BELOW && !Object.is(got[i], xs[i])) notX.push(`tanh_fwd(${xs[i]}) = ${got[i]}`);
    expect(notX.slice(0, 5), "tanh(x) returns x below 3.5e-4, subnormals too").toEqual([]);
    expect([at(Infinity), at(1e30), at(20), at(TANH_CLAMP)], "tanh saturates to exactly 1, from its clamp on").toEqual([1, 1, 1, 1]);
    const early: number[] = [];
    for (let i = 0; i < n - 1; i++) if (xs[i] >= 0 && xs[i] < TANH_CLAMP && got[i] >= 1) early.push(xs[i]);
    expect(early.slice(0, 5), "below its clamp tanh is under 1 (every f32 from 7 to 8 is swept)").toEqual([]);
    expect(fails.slice(0, 5)).toEqual([]);
    console.log(`tanh_fwd: max |tanh_fwd(x) - Math.tanh(x)| = ${maxErr.toExponential(3)} at x = ${maxAt} (${n} points)`);
    expect(maxErr, `max abs error at x = ${maxAt}`).toBeLessThanOrEqual(1e-6);
  });

  it.each([...range(1, 17), 1000])("n=%i", (n) => checkTanhFwd("tanh_fwd", n, false));
  it.each([...range(1, 17), 1000])("n=%i in place (out == inp)", (n) => checkTanhFwd("tanh_fwd", n, true));
});

describe("tanh_i8_fwd (the int8 models' tanh)", () => {
  it("is its f32 formula bit for bit, within 1.5e-5 of Math.tanh (under 1/500 of an int8 step) over [-12, 12] and special values; odd; |tanh| < 1", () => {
    // Below 1 in magnitude (checked by sweepTanh), so calibrated int8 input scales stay at most 1/127.
    const { fails, maxErr, maxAt, n } = sweepTanh("tanh_i8_fwd");
    expect(fails.slice(0, 5)).toEqual([]);
    console.log(`tanh_i8_fwd: max |tanh_i8_fwd(x) - Math.tanh(x)| = ${maxErr.toExponential(3)} at x = ${maxAt} (${n} points)`);
    expect(maxErr, `max abs error at x = ${maxAt}`).toBeLessThanOrEqual(1.5e-5);
  });

  it.each([...range(1, 17), 1000])("n=%i", (n) => checkTanhFwd("tanh_i8_fwd", n, false));
  it.each([...range(1, 17), 1000])("n=%i in place (out == inp)", (n) => checkTanhFwd("tanh_i8_fwd", n, true));
});

/**
 * Runs a tanh kernel on tanhSweep()'s points and checks what both kernels promise: every value but
 * the NaN has the bits of the kernel's formula in f32 (tanh_v_ref, tanh_i8_ref; the engines do not
 * fix NaN's sign bit), NaN stays NaN, tanh(+-0) = +-0. Collects, for the caller to assert: values outside [-1, 1] (for tanh_i8_fwd,
 * outside (-1, 1)), odd symmetry broken bitwise (tanh(-x) must be tanh(x) with the sign bit
 * flipped), and the largest error against Math.tanh.
 */
function sweepTanh(kernel: "tanh_fwd" | "tanh_i8_fwd") {
  const { xs, m } = tanhSweep();
  const n = xs.length;
  const a = new Arena(k, { out: n, inp: n });
  a.runTwice(`${kernel} sweep`, ["out"], () => {
    a.input("inp", xs); a.fill("out", NaN);
  }, () => k[kernel](a.ptr("out"), a.ptr("inp"), n));
  const got = a.read("out"), bits = a.bits("out");
  const strict = kernel === "tanh_i8_fwd";
  let maxErr = 0, maxAt = 0;
  const fails: string[] = [];
  for (let i = 0; i < n - 1; i++) {
    const x = xs[i], y = got[i];
    if (strict ? !(Math.abs(y) < 1) : !(Math.abs(y) <= 1)) fails.push(`|${kernel}(${x})| = |${y}| ${strict ? ">=" : ">"} 1`);
    const err = Math.abs(y - Math.tanh(x));
    if (!(err <= maxErr)) { maxErr = err; maxAt = x; }
  }
  for (let i = 0; i < m; i++) {
    if (((bits[i] ^ 0x80000000) >>> 0) !== bits[m + i]) fails.push(`${kernel}(${xs[m + i]}) = ${got[m + i]} but ${kernel}(${xs[i]}) = ${got[i]}`);
  }
  expectSameBits(`${kernel} against its formula`, bits.subarray(0, n - 1), new Uint32Array(tanhFormula(kernel)(xs).buffer, 0, n - 1));
  const at = (x: number) => got[xs.indexOf(Math.fround(x))];
  expect(Number.isNaN(got[n - 1]), `${kernel}(NaN) = ${got[n - 1]}`).toBe(true);
  expect(Object.is(at(0), 0) && Object.is(got[m], -0), `${kernel}(+-0) = ${at(0)}, ${got[m]}`).toBe(true);
  return { xs, got, fails, maxErr, maxAt, n, at };
}

/** The reference that computes a tanh kernel's formula step by step in f32. */
const tanhFormula = (kernel: "tanh_fwd" | "tanh_i8_fwd") => (kernel === "tanh_fwd" ? tanh_v_ref : tanh_i8_ref);

/** Every f32 from lo (rounded to f32) up to below hi: positive values are ordered as their bits. */
function everyF32(lo: number, hi: number): Float32Array {
  const bits = new Uint32Array(1), f = new Float32Array(bits.buffer);
  f[0] = lo; const first = bits[0]; f[0] = hi;
  const out = new Uint32Array(bits[0] - first);
  for (let i = 0; i < out.length; i++) out[i] = first + i;
  return new Float32Array(out.buffer);
}

/**
 * Sample points for the tanh kernels' sweeps: non-negative ones (a dense grid of step 2^-13, exact
 * in f32, log-spaced small values down to 1e-12, the region around tanh_i8_fwd's clamp (6), every f32
 * from 3.4e-4 to 3.5e-4 and from 7 to 8 (tanh_fwd's clamp is 7.91), special values),
 * (the first m), then their negations, then NaN last.
 */
function tanhSweep(): { xs: Float64Array; m: number } {
  if (sweepPoints !== undefined) return sweepPoints;
  const pos: number[] = [];
  for (let i = 0; i <= 12 * 8192; i++) pos.push(i / 8192);
  for (let e = -12; e <= 0; e += 1 / 256) pos.push(Math.fround(10 ** e));
  for (let x = 5.9; x <= 6.1; x += 1e-5) pos.push(Math.fround(x));
  // Every f32 where tanh_fwd's promises are tightest: just below TANH_IS_X_BELOW, and up to its clamp.
  for (const x of [...everyF32(3.4e-4, TANH_IS_X_BELOW), ...everyF32(7, 8)]) pos.push(x);
  pos.push(1e-40, 1e-8, 4e-4, 7.9, TANH_CLAMP, 20, 1e30, 3.4e38, Infinity);
  const m = pos.length, xs = new Float64Array(2 * m + 1);
  for (let i = 0; i < m; i++) xs[m + i] = -(xs[i] = Math.fround(pos[i]));
  xs[2 * m] = NaN;
  return (sweepPoints = { xs, m });
}
let sweepPoints: { xs: Float64Array; m: number } | undefined;

/** tanh_fwd or tanh_i8_fwd on n random values, out of place or in place: the same bits, as the reference gives. */
function checkTanhFwd(kernel: "tanh_fwd" | "tanh_i8_fwd", n: number, inPlace: boolean): void {
  const label = `${kernel} n=${n}${inPlace ? " in place" : ""}`;
  const x = randF32(rngFor(label), n, -10, 10);
  const a = new Arena(k, { out: n, inp: n });
  if (inPlace) {
    // out == inp: must give the same bits as the out-of-place call.
    a.runTwice(label, ["out"], () => a.fill("out", x), () => k[kernel](a.ptr("out"), a.ptr("out"), n));
    const inPlaceBits = a.bits("out");
    a.input("inp", x); a.fill("out", NaN);
    k[kernel](a.ptr("out"), a.ptr("inp"), n);
    a.verify(label);
    expectSameBits(`${label}: in-place vs out-of-place`, inPlaceBits, a.bits("out"));
  } else {
    a.runTwice(label, ["out"], () => {
      a.input("inp", x); a.fill("out", NaN);
    }, () => k[kernel](a.ptr("out"), a.ptr("inp"), n));
  }
  if (kernel === "tanh_fwd") expectClose(label, a.read("out"), tanh_fwd_ref(x), 1e-6, 0);
  expectSameBits(label, a.bits("out"), new Uint32Array(tanhFormula(kernel)(x).buffer));
}


describe("tanh_bwd", () => {
  function checkTanhBwd(n: number, inPlace: boolean): void {
    const label = `tanh_bwd n=${n}${inPlace ? " in place" : ""}`;
    const rng = rngFor(label);
    const dout = randF32(rng, n), out = randF32(rng, n, -4, 4).map((x) => Math.fround(Math.tanh(x)));
    // 1 - y*y loses digits for |y| near 1 (y*y is rounded to f32): absolute error ~ u * |dout|.
    const want = tanh_bwd_ref(dout, out);
    const a = new Arena(k, { dinp: n, dout: n, out: n });
    if (inPlace) {
      a.runTwice(label, ["dout"], () => {
        a.fill("dout", dout); a.input("out", out);
      }, () => k.tanh_bwd(a.ptr("dout"), a.ptr("dout"), a.ptr("out"), n));
      const inPlaceBits = a.bits("dout");
      a.input("dout", dout); a.fill("dinp", NaN);
      k.tanh_bwd(a.ptr("dinp"), a.ptr("dout"), a.ptr("out"), n);
      a.verify(label);
      expectSameBits(`${label}: in-place vs out-of-place`, inPlaceBits, a.bits("dinp"));
    } else {
      a.runTwice(label, ["dinp"], () => {
        a.input("dout", dout); a.input("out", out); a.fill("dinp", NaN);
      }, () => k.tanh_bwd(a.ptr("dinp"), a.ptr("dout"), a.ptr("out"), n));
    }
    expectClose(label, a.read("dinp"), want, 1e-6, RTOL);
  }

  it.each([...range(1, 17), 1000])("n=%i", (n) => checkTanhBwd(n, false));
  it.each([...range(1, 17), 1000])("n=%i in place (dinp == dout)", (n) => checkTanhBwd(n, true));
});

// ---------------------------------------------------------------------------------------------
// squash (the 1998 LeNet-5's activation: 1.7159 tanh(2a/3))

describe("squash", () => {
  function checkSquash(n: number): void {
    const label = `squash_fwd/bwd n=${n}`;
    const rng = rngFor(label);
    const x = randF32(rng, n, -6, 6), dout = randF32(rng, n);
    const a = new Arena(k, { out: n, inp: n, dinp: n, dout: n });
    a.runTwice(label, ["out"], () => {
      a.input("inp", x); a.fill("out", NaN);
    }, () => k.squash_fwd(a.ptr("out"), a.ptr("inp"), n));
    // tanh_fwd's 1e-6, times A = 1.7159, plus the rounding of S x and of the product.
    expectClose(`${label} fwd`, a.read("out"), squash_fwd_ref(x), 3e-6, 0);
    const out = a.read("out");
    a.runTwice(label, ["dinp"], () => {
      a.input("dout", dout); a.input("out", out); a.fill("dinp", NaN);
    }, () => k.squash_bwd(a.ptr("dinp"), a.ptr("dout"), a.ptr("out"), n));
    expectClose(`${label} bwd`, a.read("dinp"), squash_bwd_ref(dout, out), 1e-6, RTOL);
  }
  it.each([...range(1, 17), 1000])("n=%i", checkSquash);
  it("in place, as the model runs it (out == inp, dinp == dout)", () => {
    const n = 13, x = randF32(rngFor("squash in place"), n, -3, 3);
    const a = new Arena(k, { v: n, out: n });
    a.input("v", x);
    k.squash_fwd(a.ptr("v"), a.ptr("v"), n);
    const y = a.read("v");
    expectClose("squash_fwd in place", y, squash_fwd_ref(x), 3e-6, 0);
    a.fill("out", y);
    a.fill("v", 1);
    k.squash_bwd(a.ptr("v"), a.ptr("v"), a.ptr("out"), n);
    expectClose("squash_bwd in place", a.read("v"), squash_bwd_ref(new Float64Array(n).fill(1), y), 1e-6, RTOL);
  });
});

// ---------------------------------------------------------------------------------------------
// add_f32 (sums shard gradients in multi-core training): exact f32 addition, element by element

function checkAdd(n: number): void {
  const label = `add_f32 n=${n}`;
  const rng = rngFor(label);
  const dst = randF32(rng, n), src = randF32(rng, n);
  const a = new Arena(k, { dst: n, src: n });
  a.runTwice(label, ["dst"], () => {
    a.fill("dst", dst); a.input("src", src);
  }, () => k.add_f32(a.ptr("dst"), a.ptr("src"), n));
  // The reference: each sum rounded once to f32, which is what f32 addition must give, bit for bit.
  expectClose(label, a.read("dst"), dst.map((x, i) => Math.fround(x + src[i])), 0, 0);
}

describe("add_f32", () => {
  it.each(range(1, 17))("n=%i", (n) => checkAdd(n));
  it("LeNet: the whole 61,720-float gradient block", () => checkAdd(61720));
});

// ---------------------------------------------------------------------------------------------
// count_nonfinite (the numerical guard): NaN and +-Infinity anywhere, including the scalar tail

describe("count_nonfinite", () => {
  const specials = [NaN, Infinity, -Infinity];
  it.each(range(1, 17))("n=%i: counts every NaN/Infinity and nothing else", (n) => {
    const label = `count_nonfinite n=${n}`;
    const rng = rngFor(label);
    const x = randF32(rng, n, -3e38, 3e38); // huge but finite values must not count
    const a = new Arena(k, { x: n });
    a.input("x", x);
    expect(k.count_nonfinite(a.ptr("x"), n), label).toBe(0);
    let expected = 0;
    for (let i = 0; i < n; i += 1 + (i % 3)) {
      x[i] = specials[i % 3]!;
      expected++;
    }
    a.input("x", x);
    expect(k.count_nonfinite(a.ptr("x"), n), label).toBe(expected);
  });
});

// ---------------------------------------------------------------------------------------------
// mask_f32 (masks C3's gradient with the connection table): +0 where the mask is 0, never -0

describe("mask_f32", () => {
  it.each([...range(1, 17), 2400])("n=%i", (n) => {
    const label = `mask_f32 n=${n}`;
    const rng = rngFor(label);
    const dst = randF32(rng, n), mask = randF32(rng, n).map((x) => (x > 0 ? 1 : 0));
    const a = new Arena(k, { dst: n, mask: n });
    a.runTwice(label, ["dst"], () => {
      a.fill("dst", dst); a.input("mask", mask);
    }, () => k.mask_f32(a.ptr("dst"), a.ptr("mask"), n));
    const got = a.read("dst");
    for (let i = 0; i < n; i++) expect(Object.is(got[i], mask[i] ? dst[i] : 0), `${label} [${i}]: ${got[i]}`).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// scale_f32 (decoupled weight decay): exact f32 products with one factor

describe("scale_f32", () => {
  it.each([...range(1, 17), 61720])("n=%i", (n) => {
    const label = `scale_f32 n=${n}`;
    const rng = rngFor(label);
    const x = randF32(rng, n), factor = Math.fround(1 - 1e-3 * 0.1);
    const a = new Arena(k, { x: n });
    a.runTwice(label, ["x"], () => a.fill("x", x), () => k.scale_f32(a.ptr("x"), n, factor));
    expectClose(label, a.read("x"), x.map((v) => Math.fround(v * factor)), 0, 0);
  });
});

// ---------------------------------------------------------------------------------------------
// images_to_input: uint8 images through a 256-entry table into the interiors of input slots

describe("images_to_input", () => {
  // LeNet-5's 28x28 in 32x32 slots, and other sizes (side a multiple of 4), to show nothing is hard-coded.
  it.each([[1, 28, 32], [2, 28, 32], [5, 28, 32], [32, 28, 32], [3, 8, 14], [2, 4, 4]])(
    "B=%i, images of side %i in slots of side %i: every pixel is table[byte], in its slot's interior; the border is left alone", (B, side, slot) => {
      const label = `images_to_input B=${B} side=${side} slot=${slot}`;
      const rng = rngFor(label);
      const area = side * side, slotArea = slot * slot, pad = (slot - side) / 2;
      const pixels = Uint8Array.from({ length: B * area }, () => Math.floor(rng() * 256));
      const table = randF32(rng, 256, -2, 2);
      const border = 7.25;
      const a = new Arena(k, { input: B * slotArea, pixels: Math.ceil((B * area) / 4), table: 256 });
      a.runTwice(label, ["input"], () => {
        a.input("pixels", pixels, "u8"); a.input("table", table); a.fill("input", border);
      }, () => k.images_to_input(a.ptr("input"), a.ptr("pixels"), a.ptr("table"), B, side, slot));
      const want = new Float64Array(B * slotArea).fill(border);
      for (let b = 0; b < B; b++) {
        for (let i = 0; i < area; i++) want[b * slotArea + (pad + Math.floor(i / side)) * slot + pad + (i % side)] = table[pixels[b * area + i]!]!;
      }
      expectClose(label, a.read("input"), want, 0, 0, [B, slot, slot]);
    });
});

// pixels_to_slots: uint8 images, the bytes themselves, into the interiors of uint8 input slots

describe("pixels_to_slots", () => {
  // LeNet-5's 28x28 in 32x32 slots (rows of 16 + 4 x 3 bytes), and sizes that take every path of a
  // row (16-, 4- and 1-byte copies) or only some.
  it.each([[1, 28, 32], [3, 28, 32], [32, 28, 32], [2, 5, 9], [3, 16, 16], [2, 19, 23], [1, 1, 3]])(
    "B=%i, images of side %i in slots of side %i: every byte lands in its slot's interior; the border and what lies past the slots are left alone", (B, side, slot) => {
      const label = `pixels_to_slots B=${B} side=${side} slot=${slot}`;
      const rng = rngFor(label);
      const area = side * side, slotArea = slot * slot, pad = (slot - side) >> 1;
      const pixels = Uint8Array.from({ length: B * area }, () => Math.floor(rng() * 256));
      const border = 0xa5, words = Math.ceil((B * slotArea) / 4) + 4; // 16 bytes past the slots, watched too
      const a = new Arena(k, { slots: words, pixels: Math.ceil((B * area) / 4) });
      const bytes = () => new Uint8Array(k.memory.buffer, a.ptr("slots"), words * 4);
      a.runTwice(label, ["slots"], () => {
        a.input("pixels", pixels, "u8"); bytes().fill(border);
      }, () => k.pixels_to_slots(a.ptr("slots"), a.ptr("pixels"), B, side, slot));
      const want = new Uint8Array(words * 4).fill(border);
      for (let b = 0; b < B; b++) {
        for (let i = 0; i < area; i++) want[b * slotArea + (pad + Math.floor(i / side)) * slot + pad + (i % side)] = pixels[b * area + i]!;
      }
      expect(Array.from(bytes())).toEqual(Array.from(want));
    });
});
