// The convolution kernels against test/ref/kernels.ts (see kernel-harness.ts for what every case
// checks): conv2d_fwd/bwd_input/bwd_weight (through im2col), the weight gradients read from the input
// (conv2d_bwd_weight_rows/packed), and the convolutions without im2col: conv2d_fwd_rows/pixels,
// conv2d_tanh_pool_rows/pixels, conv2d_weight_t.
import { beforeAll, describe, expect, it } from "vitest";

import type { Kernels } from "../../src/wasm/kernels.js";
import {
  Arena, expectClose, expectSameBits, loadTestKernels, plus, randF32, range, RELAXED, rngFor, RTOL, sumAtol,
} from "./kernel-harness.js";
import {
  avgpool2d_fwd_ref,
  conv2d_bwd_weight_ref,
  conv2d_bwd_input_ref,
  conv2d_fwd_ref,
  tanh_fwd_ref,
} from "../ref/kernels.js";
import { C3 } from "../../src/model/geometry.js";
import { LENET5 } from "../../src/model/networks.js";

let k: Kernels;
beforeAll(async () => {
  k = await loadTestKernels();
});

// ---------------------------------------------------------------------------------------------
// conv2d ('valid', stride 1: the reference with pad = 0)

/** inp (B,C,H,W) -> col (B, C*K*K, OH*OW): col[b, (c,kh,kw), (oh,ow)] = inp[b, c, oh+kh, ow+kw]. */
function im2col(inp: Float64Array, B: number, C: number, H: number, W: number, K: number): Float64Array {
  const OH = H - K + 1, OW = W - K + 1, R = C * K * K, P = OH * OW;
  const col = new Float64Array(B * R * P);
  for (let b = 0; b < B; b++)
    for (let c = 0; c < C; c++)
      for (let kh = 0; kh < K; kh++)
        for (let kw = 0; kw < K; kw++)
          for (let oh = 0; oh < OH; oh++)
            for (let ow = 0; ow < OW; ow++)
              col[((b * R + (c * K + kh) * K + kw) * P) + oh * OW + ow] = inp[((b * C + c) * H + oh + kh) * W + ow + kw];
  return col;
}

interface ConvCase { B: number; C: number; H: number; W: number; OC: number; K: number; label: string }

function convCase(B: number, C: number, H: number, W: number, OC: number, K: number): ConvCase {
  return { B, C, H, W, OC, K, label: `B=${B} C=${C} H=${H} W=${W} OC=${OC} K=${K} (OH=${H - K + 1} OW=${W - K + 1})` };
}

// The patch rows (im2col) copy along the output width (OW = 1..17: 4-wide blocks, scalar tail); the
// GEMMs run along the output plane P = OH*OW (16- and 4-wide blocks, scalar tail: P = 1..68 here) in
// pairs of rows (OC and C*K*K odd and even). Each OW comes with two kernel sizes from 1..5, output
// heights 1..4 (so odd and even H), C and OC 1..3. Input widths W = OW+K-1 run 1..21: every W % 16
// and two 16-column groups for conv2d_bwd_input's row sums.
const convSweep: ConvCase[] = [];
for (const OW of range(1, 17)) {
  for (const K of new Set([1 + ((OW - 1) % 5), 5 - ((OW - 1) % 5)])) {
    const OH = 1 + ((OW + K) % 4);
    convSweep.push(convCase(1 + (OW % 2), 1 + (OW % 3), OH + K - 1, OW + K - 1, 1 + ((OW + K) % 3), K));
  }
}
// LeNet: conv1 on the 'same'-padded 32x32 input, conv2 on pool1's 6x14x14.
const conv1 = (B: number) => convCase(B, 1, 32, 32, 6, 5);
const conv2 = (B: number) => convCase(B, 6, 14, 14, 16, 5);
/** it.each rows [label, case], so titles show the label unquoted. */
const labelled = (cases: ConvCase[]) => cases.map((c) => [c.label, c] as [string, ConvCase]);

function checkConvFwd(c: ConvCase): void {
  const { B, C, H, W, OC, K } = c;
  const OH = H - K + 1, OW = W - K + 1;
  const label = `conv2d_fwd ${c.label}`;
  const rng = rngFor(label);
  const inp = randF32(rng, B * C * H * W), weight = randF32(rng, OC * C * K * K), bias = randF32(rng, OC);
  const R = C * K * K, P = OH * OW;
  const a = new Arena(k, { out: B * OC * P, col: B * R * P, inp: inp.length, weight: weight.length, bias: OC });
  a.runTwice(label, ["out", "col"], () => {
    a.input("inp", inp); a.input("weight", weight); a.input("bias", bias); a.fill("out", NaN); a.fill("col", NaN);
  }, () => k.conv2d_fwd(a.ptr("out"), a.ptr("col"), a.ptr("inp"), a.ptr("weight"), a.ptr("bias"), B, C, H, W, OC, K, true));
  const want = conv2d_fwd_ref(inp, weight, bias, B, C, H, W, OC, K, 0);
  expectClose(label, a.read("out"), want, sumAtol(C * K * K + 1), RTOL, [B, OC, OH, OW]);
  expectClose(`${label} col`, a.read("col"), im2col(inp, B, C, H, W, K), 0, 0, [B, R, P]);
  // Inference mode: one image's patch buffer, reused; the output is the same bits.
  const trained = a.read("out");
  const b = new Arena(k, { out: B * OC * P, col: R * P, inp: inp.length, weight: weight.length, bias: OC });
  b.runTwice(`${label} (col not kept)`, ["out"], () => {
    b.input("inp", inp); b.input("weight", weight); b.input("bias", bias); b.fill("out", NaN); b.fill("col", NaN);
  }, () => k.conv2d_fwd(b.ptr("out"), b.ptr("col"), b.ptr("inp"), b.ptr("weight"), b.ptr("bias"), B, C, H, W, OC, K, false));
  expectClose(`${label} (col not kept)`, b.read("out"), trained, 0, 0, [B, OC, OH, OW]);
}

/**
 * conv2d_bwd_input's order in f32, step by step: each patch gradient summed over output channels
 * from 0 (the GEMM), then each input gradient from 0 over its taps in increasing (c, kh, kw) order.
 * The kernel sums an input row in registers rather than adding patch rows in place; this pins that
 * it kept the same bits.
 */
function bwdInputInOrder(dout: Float64Array, weight: Float64Array, B: number, C: number, H: number, W: number, OC: number, K: number): Float32Array {
  const OH = H - K + 1, OW = W - K + 1, f = Math.fround;
  const dinp = new Float32Array(B * C * H * W);
  for (let b = 0; b < B; b++)
    for (let c = 0; c < C; c++)
      for (let kh = 0; kh < K; kh++)
        for (let kw = 0; kw < K; kw++)
          for (let oh = 0; oh < OH; oh++)
            for (let ow = 0; ow < OW; ow++) {
              let g = 0;
              for (let oc = 0; oc < OC; oc++) g = f(g + f(weight[((oc * C + c) * K + kh) * K + kw] * dout[((b * OC + oc) * OH + oh) * OW + ow]));
              const i = ((b * C + c) * H + oh + kh) * W + ow + kw;
              dinp[i] = f(dinp[i] + g);
            }
  return dinp;
}

function checkConvBwdInput(c: ConvCase): void {
  const { B, C, H, W, OC, K } = c;
  const OH = H - K + 1, OW = W - K + 1;
  const label = `conv2d_bwd_input ${c.label}`;
  const rng = rngFor(label);
  const dout = randF32(rng, B * OC * OH * OW), weight = randF32(rng, OC * C * K * K);
  const scratch = Math.ceil(k.conv2d_bwd_input_scratch(C, H, W, K) / 4);
  expect(scratch).toBeGreaterThanOrEqual(C * K * K * OH * OW);
  const a = new Arena(k, { dinp: B * C * H * W, scratch, dout: dout.length, weight: weight.length });
  a.runTwice(label, ["dinp"], () => {
    a.input("dout", dout); a.input("weight", weight); a.fill("dinp", NaN); a.fill("scratch", NaN);
  }, () => k.conv2d_bwd_input(a.ptr("dinp"), a.ptr("scratch"), a.ptr("dout"), a.ptr("weight"), B, C, H, W, OC, K));
  const want = conv2d_bwd_input_ref(dout, weight, B, C, H, W, OC, K, 0);
  // Each input-gradient element gathers at most OC*K*K terms.
  expectClose(label, a.read("dinp"), want, sumAtol(OC * K * K), RTOL, [B, C, H, W]);
  // The scratch flush against the end of memory: a read past the size the kernel asks for traps.
  const bytes = k.conv2d_bwd_input_scratch(C, H, W, K), before = a.bits("dinp");
  k.memory.grow(Math.ceil(bytes / 65536));
  k.conv2d_bwd_input(a.ptr("dinp"), k.memory.buffer.byteLength - bytes, a.ptr("dout"), a.ptr("weight"), B, C, H, W, OC, K);
  expectSameBits(`${label}: scratch at the end of memory`, a.bits("dinp"), before);
  // The relaxed build fuses the GEMM's vector multiply-adds, not its scalar tails.
  if (!RELAXED) {
    const inOrder = bwdInputInOrder(dout, weight, B, C, H, W, OC, K);
    expectSameBits(`${label} vs its order in f32`, a.bits("dinp"), new Uint32Array(inOrder.buffer));
  }
}

/**
 * conv2d_bwd_weight reads conv2d_fwd's unrolled patches (col); conv2d_bwd_weight_rows (5x5 kernels,
 * output rows a multiple of 4 wide: c1) and conv2d_bwd_weight_packed (output planes of a multiple of
 * 4: c3) read the input itself, and must also give conv2d_bwd_weight's bits, from the same random
 * starting sums.
 */
function checkConvBwdFilter(c: ConvCase, kernel: "conv2d_bwd_weight" | "conv2d_bwd_weight_rows" | "conv2d_bwd_weight_packed" = "conv2d_bwd_weight"): void {
  const { B, C, H, W, OC, K } = c;
  const OH = H - K + 1, OW = W - K + 1;
  const label = `${kernel} ${c.label}`;
  const rng = rngFor(label);
  const dout = randF32(rng, B * OC * OH * OW), inp = randF32(rng, B * C * H * W);
  // The kernel accumulates (+=): start from random values and add the reference to them.
  const dw0 = randF32(rng, OC * C * K * K), db0 = randF32(rng, OC);
  const col = im2col(inp, B, C, H, W, K);
  const rows4 = 4 * Math.ceil((C * K * K) / 4); // the packed kernel's patch rows, padded
  const a = new Arena(k, {
    dweight: dw0.length, dbias: OC, viaCol: dw0.length, biasViaCol: OC, dout: dout.length, inp: inp.length, col: col.length,
    acc: Math.max(4 * dw0.length, 8 * Math.ceil(OC / 2) * rows4), patches: rows4 * OH * OW, // scratch of the rows and packed kernels
  });
  const viaCol = (dweight: "dweight" | "viaCol", dbias: "dbias" | "biasViaCol") =>
    k.conv2d_bwd_weight(a.ptr(dweight), a.ptr(dbias), a.ptr("dout"), a.ptr("col"), B, C, H, W, OC, K);
  a.runTwice(label, ["dweight", "dbias"], () => {
    a.input("dout", dout); a.input("col", col); a.input("inp", inp); a.fill("dweight", dw0); a.fill("dbias", db0);
    a.fill("acc", NaN); a.fill("patches", NaN); // scratch: whatever it held before must not matter
  }, () => {
    if (kernel === "conv2d_bwd_weight") viaCol("dweight", "dbias");
    else if (kernel === "conv2d_bwd_weight_rows") k.conv2d_bwd_weight_rows(a.ptr("dweight"), a.ptr("dbias"), a.ptr("acc"), a.ptr("dout"), a.ptr("inp"), B, C, H, W, OC);
    else k.conv2d_bwd_weight_packed(a.ptr("dweight"), a.ptr("dbias"), a.ptr("acc"), a.ptr("patches"), a.ptr("dout"), a.ptr("inp"), B, C, H, W, OC, K);
  });
  const want = conv2d_bwd_weight_ref(dout, inp, B, C, H, W, OC, K, 0);
  // Both sum over the batch and the output plane: B*OH*OW terms (25k for conv1 at B = 32).
  const atol = sumAtol(B * OH * OW + 1);
  expectClose(`${label} dweight`, a.read("dweight"), plus(dw0, want.dweight), atol, RTOL, [OC, C, K, K]);
  expectClose(`${label} dbias`, a.read("dbias"), plus(db0, want.dbias), atol, RTOL);
  // The relaxed build fuses the vector multiply-adds of both kernels alike, but not the GEMM's scalar tails.
  if (kernel !== "conv2d_bwd_weight" && !RELAXED) {
    a.fill("viaCol", dw0); a.fill("biasViaCol", db0);
    viaCol("viaCol", "biasViaCol");
    expectSameBits(`${label} dweight vs conv2d_bwd_weight`, a.bits("dweight"), a.bits("viaCol"));
    expectSameBits(`${label} dbias vs conv2d_bwd_weight`, a.bits("dbias"), a.bits("biasViaCol"));
  }
}

describe("conv2d_fwd", () => {
  it.each(labelled(convSweep))("sweep %s", (_, c) => checkConvFwd(c));
  it.each(labelled([conv1(4), conv2(4)]))("LeNet %s", (_, c) => checkConvFwd(c));
});

describe("conv2d_bwd_input", () => {
  it.each(labelled(convSweep))("sweep %s", (_, c) => checkConvBwdInput(c));
  it.each(labelled([conv2(4), conv1(4)]))("LeNet %s", (_, c) => checkConvBwdInput(c));
  it("has the scratch the networks give it at c3's shape", () => {
    expect(LENET5.scratch.dcol3 * 4).toBe(k.conv2d_bwd_input_scratch(C3.C, C3.H, C3.W, C3.K));
  });
});

describe("conv2d_bwd_weight", () => {
  it.each(labelled(convSweep))("sweep %s", (_, c) => checkConvBwdFilter(c));
  // The batch is part of this kernel's reduction, so test the real training batch.
  it.each(labelled([conv1(32), conv2(32)]))("LeNet %s", (_, c) => checkConvBwdFilter(c));
});

describe("conv2d_bwd_weight_rows", () => {
  // Output widths 4..28 in steps of 4 (rows of 1..7 vectors), heights 1..4, 1..3 input channels,
  // 1..4 output channels (odd: the last computed twice, stored once), batches of 1..3.
  const sweep = range(1, 7).map((v) => convCase(1 + (v % 3), 1 + (v % 3), 1 + (v % 4) + 4, 4 * v + 4, 1 + (v % 4), 5));
  it.each(labelled(sweep))("sweep %s", (_, c) => checkConvBwdFilter(c, "conv2d_bwd_weight_rows"));
  it.each(labelled([conv1(32)]))("LeNet %s", (_, c) => checkConvBwdFilter(c, "conv2d_bwd_weight_rows"));
  it("traps on output rows that are not a multiple of 4 wide (a row's last vector would run into the next)", () => {
    const C = 1, H = 7, W = 10, OC = 2, K = 5; // 3x6 outputs
    const a = new Arena(k, { dweight: OC * C * K * K, dbias: OC, acc: 4 * OC * C * K * K, dout: OC * 18, inp: C * H * W });
    expect(() => k.conv2d_bwd_weight_rows(a.ptr("dweight"), a.ptr("dbias"), a.ptr("acc"), a.ptr("dout"), a.ptr("inp"), 1, C, H, W, OC)).toThrow(WebAssembly.RuntimeError);
  });
});

describe("conv2d_bwd_weight_packed", () => {
  // Output planes of 4..48 values whose rows (OW = 1..13) start anywhere in a 4-value chunk, so chunks
  // lie in one row or span two or more; 1..5-wide kernels (patch rows C*K*K a multiple of 4 or not),
  // 1..3 input channels, 1..4 output channels (odd: the last computed twice, stored once), batches of 1..3.
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  const sweep = range(1, 13).map((OW) => {
    const K = 1 + (OW % 5), OH = (4 / gcd(OW, 4)) * (1 + (OW % 2));
    return convCase(1 + (OW % 3), 1 + (OW % 3), OH + K - 1, OW + K - 1, 1 + (OW % 4), K);
  });
  it.each(labelled(sweep))("sweep %s", (_, c) => checkConvBwdFilter(c, "conv2d_bwd_weight_packed"));
  it.each(labelled([conv2(32)]))("LeNet %s", (_, c) => checkConvBwdFilter(c, "conv2d_bwd_weight_packed"));
  it("traps on output planes that are not a multiple of 4 values (it would leave the last ones out)", () => {
    const C = 1, H = 7, W = 7, OC = 2, K = 5; // 3x3 = 9 outputs
    const a = new Arena(k, { dweight: OC * C * K * K, dbias: OC, acc: 32 * OC * 7, patches: 28 * 9, dout: OC * 9, inp: C * H * W });
    expect(() => k.conv2d_bwd_weight_packed(a.ptr("dweight"), a.ptr("dbias"), a.ptr("acc"), a.ptr("patches"), a.ptr("dout"), a.ptr("inp"), 1, C, H, W, OC, K)).toThrow(WebAssembly.RuntimeError);
  });
});

// ---------------------------------------------------------------------------------------------
// Inference convolutions without im2col (conv2d_direct.ts): against the reference, and bit for bit
// against conv2d_fwd (then tanh_fwd and avgpool2d_fwd for the fused forms), which training uses: a
// prediction must not depend on the path.

/** Which direct kernel: its layout ("rows" or "pixels", which reads transposed weights) and whether tanh and pooling are fused in. */
function checkDirect(c: ConvCase, layout: "rows" | "pixels", fused: boolean): void {
  const { B, C, H, W, OC, K } = c;
  const OH = H - K + 1, OW = W - K + 1, R = C * K * K, P = OH * OW, PH = OH >> 1, PW = OW >> 1;
  const kernel = fused ? (`conv2d_tanh_pool_${layout}` as const) : (`conv2d_fwd_${layout}` as const);
  const label = `${kernel} ${c.label}`;
  const rng = rngFor(label);
  const inp = randF32(rng, B * C * H * W), weight = randF32(rng, OC * R), bias = randF32(rng, OC);
  const n = fused ? B * OC * PH * PW : B * OC * P;
  const a = new Arena(k, { out: n, steps: n, conv: B * OC * P, col: R * P, weightT: OC * R, inp: inp.length, weight: weight.length, bias: OC });
  // The training path, one kernel after another: the bits to match.
  a.input("inp", inp); a.input("weight", weight); a.input("bias", bias); a.fill("steps", NaN);
  k.conv2d_fwd(a.ptr(fused ? "conv" : "steps"), a.ptr("col"), a.ptr("inp"), a.ptr("weight"), a.ptr("bias"), B, C, H, W, OC, K, false);
  if (fused) {
    k.tanh_fwd(a.ptr("conv"), a.ptr("conv"), B * OC * P);
    k.avgpool2d_fwd(a.ptr("steps"), a.ptr("conv"), B, OC, OH, OW);
  }
  a.runTwice(label, ["out"], () => {
    a.input("inp", inp); a.input("weight", weight); a.input("bias", bias); a.fill("out", NaN); a.fill("weightT", NaN);
  }, () => {
    if (layout === "pixels") k.conv2d_weight_t(a.ptr("weightT"), a.ptr("weight"), OC, R);
    k[kernel](a.ptr("out"), a.ptr("inp"), a.ptr(layout === "pixels" ? "weightT" : "weight"), a.ptr("bias"), B, C, H, W, OC, K);
  });
  const conv = conv2d_fwd_ref(inp, weight, bias, B, C, H, W, OC, K, 0);
  const want = fused ? avgpool2d_fwd_ref(tanh_fwd_ref(conv), B, OC, OH, OW) : conv;
  expectClose(label, a.read("out"), want, sumAtol(R + 1) + (fused ? 1e-6 : 0), RTOL, fused ? [B, OC, PH, PW] : [B, OC, OH, OW]);
  // The relaxed build fuses vector multiply-adds but not conv2d_fwd's scalar tails: close, not equal.
  if (!RELAXED) expectSameBits(`${label} vs the training path's kernels`, a.bits("out"), a.bits("steps"));
}

describe("conv2d_fwd_rows", () => {
  // The sweep's OW = 1..17 runs the 16-, 12- and 4-pixel blocks and the one-pixel tail; odd OC the
  // channel computed twice and stored once.
  it.each(labelled(convSweep))("sweep %s", (_, c) => checkDirect(c, "rows", false));
  it.each(labelled([conv1(3), conv2(2)]))("LeNet %s", (_, c) => checkDirect(c, "rows", false));
});

// Output widths 2..21 (for rows: its 8-, 4- and 2-pixel blocks; odd widths and heights drop their
// last column or row, as avgpool2d_fwd does), odd and even channel counts; for pixels, channels in
// blocks of 8 then 4 (OC = 4, 8, 12). Several kernel sizes and input channels.
const poolSweep: ConvCase[] = [];
for (const OW of range(2, 21)) {
  const K = 1 + (OW % 5), OH = 2 + (OW % 4);
  poolSweep.push(convCase(1 + (OW % 2), 1 + (OW % 3), OH + K - 1, OW + K - 1, 1 + ((OW + K) % 3), K));
}

describe("conv2d_tanh_pool_rows", () => {
  it.each(labelled(poolSweep))("sweep %s", (_, c) => checkDirect(c, "rows", true));
  it.each(labelled([conv1(3)]))("LeNet %s", (_, c) => checkDirect(c, "rows", true));
});

/**
 * conv2d_tanh_pool_rows_keep (training's c1: even output sides) also stores tanh(conv) in act: act must
 * have the bits of conv2d_fwd then tanh_fwd, and out those of avgpool2d_fwd on them.
 */
function checkKeep(c: ConvCase): void {
  const { B, C, H, W, OC, K } = c;
  const OH = H - K + 1, OW = W - K + 1, R = C * K * K, P = OH * OW, PH = OH >> 1, PW = OW >> 1;
  const label = `conv2d_tanh_pool_rows_keep ${c.label}`;
  const rng = rngFor(label);
  const inp = randF32(rng, B * C * H * W), weight = randF32(rng, OC * R), bias = randF32(rng, OC);
  const a = new Arena(k, { out: B * OC * PH * PW, act: B * OC * P, steps: B * OC * P, pooled: B * OC * PH * PW, col: R * P, inp: inp.length, weight: weight.length, bias: OC });
  a.input("inp", inp); a.input("weight", weight); a.input("bias", bias);
  k.conv2d_fwd(a.ptr("steps"), a.ptr("col"), a.ptr("inp"), a.ptr("weight"), a.ptr("bias"), B, C, H, W, OC, K, false);
  k.tanh_fwd(a.ptr("steps"), a.ptr("steps"), B * OC * P);
  k.avgpool2d_fwd(a.ptr("pooled"), a.ptr("steps"), B, OC, OH, OW);
  a.runTwice(label, ["out", "act"], () => {
    a.input("inp", inp); a.input("weight", weight); a.input("bias", bias); a.fill("out", NaN); a.fill("act", NaN);
  }, () => k.conv2d_tanh_pool_rows_keep!(a.ptr("out"), a.ptr("act"), a.ptr("inp"), a.ptr("weight"), a.ptr("bias"), B, C, H, W, OC, K));
  const act = tanh_fwd_ref(conv2d_fwd_ref(inp, weight, bias, B, C, H, W, OC, K, 0));
  expectClose(`${label} act`, a.read("act"), act, sumAtol(R + 1), RTOL, [B, OC, OH, OW]);
  expectClose(`${label} out`, a.read("out"), avgpool2d_fwd_ref(act, B, OC, OH, OW), sumAtol(R + 1) + 1e-6, RTOL, [B, OC, PH, PW]);
  if (!RELAXED) {
    expectSameBits(`${label} act vs conv2d_fwd, tanh_fwd`, a.bits("act"), a.bits("steps"));
    expectSameBits(`${label} out vs avgpool2d_fwd`, a.bits("out"), a.bits("pooled"));
  }
}

describe("conv2d_tanh_pool_rows_keep", () => {
  // Even output sides 2..20 (8-pixel blocks, the 4-pixel column in pairs of pooled rows or alone, the
  // 2-pixel column), odd and even channel counts, several kernel sizes and input channels.
  const sweep = range(1, 10).map((v) => {
    const K = 1 + (v % 5), OW = 2 * v, OH = 2 * (1 + (v % 3));
    return convCase(1 + (v % 2), 1 + (v % 3), OH + K - 1, OW + K - 1, 1 + (v % 3), K);
  });
  it.each(labelled(sweep))("sweep %s", (_, c) => checkKeep(c));
  it.each(labelled([conv1(3)]))("LeNet %s", (_, c) => checkKeep(c));
  // The rows kernels fill a table of 4096 words with each tap's offset and weights, 3 words a tap:
  // more taps trap instead of writing past it.
  it("conv2d_fwd_rows, conv2d_tanh_pool_rows and _keep trap beyond 1365 taps (C*K*K)", () => {
    const K = 1, H = 2, W = 2, OC = 2, C = 1366; // 1366 taps
    const a = new Arena(k, { out: OC * 4, act: OC * 4, inp: C * H * W, weight: OC * C * K * K, bias: OC });
    expect(() => k.conv2d_fwd_rows(a.ptr("out"), a.ptr("inp"), a.ptr("weight"), a.ptr("bias"), 1, C, H, W, OC, K)).toThrow(WebAssembly.RuntimeError);
    expect(() => k.conv2d_tanh_pool_rows(a.ptr("out"), a.ptr("inp"), a.ptr("weight"), a.ptr("bias"), 1, C, H, W, OC, K)).toThrow(WebAssembly.RuntimeError);
    expect(() => k.conv2d_tanh_pool_rows_keep!(a.ptr("out"), a.ptr("act"), a.ptr("inp"), a.ptr("weight"), a.ptr("bias"), 1, C, H, W, OC, K)).toThrow(WebAssembly.RuntimeError);
    const ok = 1365; // exactly the table
    k.conv2d_fwd_rows(a.ptr("out"), a.ptr("inp"), a.ptr("weight"), a.ptr("bias"), 1, ok, H, W, OC, K);
    k.conv2d_tanh_pool_rows(a.ptr("out"), a.ptr("inp"), a.ptr("weight"), a.ptr("bias"), 1, ok, H, W, OC, K);
  });
  it("traps on odd output sides (act's last row or column would be left unwritten)", () => {
    const C = 1, H = 9, W = 10, OC = 2, K = 5; // 5x6 outputs
    const a = new Arena(k, { out: OC * 6, act: OC * 30, inp: C * H * W, weight: OC * C * K * K, bias: OC });
    expect(() => k.conv2d_tanh_pool_rows_keep!(a.ptr("out"), a.ptr("act"), a.ptr("inp"), a.ptr("weight"), a.ptr("bias"), 1, C, H, W, OC, K)).toThrow(WebAssembly.RuntimeError);
  });
});

describe("conv2d_tanh_pool_pixels", () => {
  const pixelPoolSweep = poolSweep.map((c, i) => convCase(c.B, c.C, c.H, c.W, 4 * (1 + (i % 3)), c.K));
  it.each(labelled(pixelPoolSweep))("sweep %s", (_, c) => checkDirect(c, "pixels", true));
  it.each(labelled([conv2(3)]))("LeNet %s", (_, c) => checkDirect(c, "pixels", true));
});

describe("conv2d_fwd_pixels", () => {
  // Output channels in blocks of 16 then 4 (OC = 4..36); planes of odd and even size (an odd last
  // pixel is computed twice and stored once).
  const pixelSweep = convSweep.map((c, i) => convCase(c.B, c.C, c.H, c.W, 4 * (1 + (i % 9)), c.K));
  it.each(labelled(pixelSweep))("sweep %s", (_, c) => checkDirect(c, "pixels", false));
  // c3 as used, and c1's shape with 8 channels (the pixels kernel needs a multiple of 4).
  it.each(labelled([conv2(3), convCase(2, 1, 32, 32, 8, 5)]))("LeNet %s", (_, c) => checkDirect(c, "pixels", false));
  // The pixels kernels read each tap's offset from a table of 4096 (assembly/conv2d_direct.ts): more
  // taps trap instead of reading past it.
  it("conv2d_fwd_pixels and conv2d_tanh_pool_pixels trap beyond 4096 taps (C*K*K)", () => {
    const C = 164, K = 5, H = 6, W = 6, OC = 4; // 4100 taps
    const a = new Arena(k, { out: OC * 4, inp: C * H * W, weightT: C * K * K * OC, bias: OC });
    expect(() => k.conv2d_fwd_pixels(a.ptr("out"), a.ptr("inp"), a.ptr("weightT"), a.ptr("bias"), 1, C, H, W, OC, K)).toThrow(WebAssembly.RuntimeError);
    expect(() => k.conv2d_tanh_pool_pixels(a.ptr("out"), a.ptr("inp"), a.ptr("weightT"), a.ptr("bias"), 1, C, H, W, OC, K)).toThrow(WebAssembly.RuntimeError);
    const ok = 163; // 4075 taps: within the table
    k.conv2d_fwd_pixels(a.ptr("out"), a.ptr("inp"), a.ptr("weightT"), a.ptr("bias"), 1, ok, H, W, OC, K);
  });
  // 4x4 tiles, then the last R % 4 columns and OC % 4 rows one value at a time.
  it.each([[16, 150], [6, 25], [7, 9], [1, 3], [4, 4], [5, 1]])("conv2d_weight_t transposes (OC=%i, R=%i) exactly", (OC, R) => {
    const weight = randF32(rngFor(`conv2d_weight_t ${OC} ${R}`), OC * R);
    const a = new Arena(k, { weightT: OC * R, weight: OC * R });
    a.runTwice("conv2d_weight_t", ["weightT"], () => {
      a.input("weight", weight); a.fill("weightT", NaN);
    }, () => k.conv2d_weight_t(a.ptr("weightT"), a.ptr("weight"), OC, R));
    const want = new Float64Array(OC * R);
    for (let o = 0; o < OC; o++) for (let r = 0; r < R; r++) want[r * OC + o] = weight[o * R + r]!;
    expectClose("conv2d_weight_t", a.read("weightT"), want, 0, 0, [R, OC]);
  });
});
