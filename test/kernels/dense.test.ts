// The dense (fully connected) kernels against test/ref/kernels.ts (see kernel-harness.ts for what
// every case checks), and dense_fwd's row paths giving the same bits.
import { beforeAll, describe, it } from "vitest";

import type { Kernels } from "../../src/wasm/kernels.js";
import {
  Arena, expectClose, loadTestKernels, plus, randF32, range, rngFor, RTOL, sumAtol,
} from "./kernel-harness.js";
import {
  dense_bwd_input_ref,
  dense_bwd_weight_ref,
  dense_fwd_ref,
} from "../ref/kernels.js";

let k: Kernels;
beforeAll(async () => {
  k = await loadTestKernels();
});

// ---------------------------------------------------------------------------------------------
// dense (weight (N,K), PyTorch layout)

function checkDenseFwd(B: number, K: number, N: number): void {
  const label = `dense_fwd B=${B} K=${K} N=${N}`;
  const rng = rngFor(label);
  const inp = randF32(rng, B * K), weight = randF32(rng, N * K), bias = randF32(rng, N);
  const a = new Arena(k, { out: B * N, inp: inp.length, weight: weight.length, bias: N });
  a.runTwice(label, ["out"], () => {
    a.input("inp", inp); a.input("weight", weight); a.input("bias", bias); a.fill("out", NaN);
  }, () => k.dense_fwd(a.ptr("out"), a.ptr("inp"), a.ptr("weight"), a.ptr("bias"), B, K, N));
  expectClose(label, a.read("out"), dense_fwd_ref(inp, weight, bias, B, K, N), sumAtol(K + 1), RTOL, [B, N]);
}

function checkDenseBwdInput(B: number, K: number, N: number): void {
  const label = `dense_bwd_input B=${B} K=${K} N=${N}`;
  const rng = rngFor(label);
  const dout = randF32(rng, B * N), weight = randF32(rng, N * K);
  const a = new Arena(k, { dinp: B * K, dout: dout.length, weight: weight.length });
  a.runTwice(label, ["dinp"], () => {
    a.input("dout", dout); a.input("weight", weight); a.fill("dinp", NaN);
  }, () => k.dense_bwd_input(a.ptr("dinp"), a.ptr("dout"), a.ptr("weight"), B, K, N));
  expectClose(label, a.read("dinp"), dense_bwd_input_ref(dout, weight, B, K, N), sumAtol(N), RTOL, [B, K]);
}

function checkDenseBwdWeight(B: number, K: number, N: number): void {
  const label = `dense_bwd_weight B=${B} K=${K} N=${N}`;
  const rng = rngFor(label);
  const dout = randF32(rng, B * N), inp = randF32(rng, B * K);
  const dw0 = randF32(rng, N * K), db0 = randF32(rng, N); // accumulated into (+=)
  const a = new Arena(k, { dweight: N * K, dbias: N, dout: dout.length, inp: inp.length });
  a.runTwice(label, ["dweight", "dbias"], () => {
    a.input("dout", dout); a.input("inp", inp); a.fill("dweight", dw0); a.fill("dbias", db0);
  }, () => k.dense_bwd_weight(a.ptr("dweight"), a.ptr("dbias"), a.ptr("dout"), a.ptr("inp"), B, K, N));
  const want = dense_bwd_weight_ref(dout, inp, B, K, N);
  expectClose(`${label} dweight`, a.read("dweight"), plus(dw0, want.dweight), sumAtol(B + 1), RTOL, [N, K]);
  expectClose(`${label} dbias`, a.read("dbias"), plus(db0, want.dbias), sumAtol(B + 1), RTOL);
}

// LeNet's three layers (K -> N) at the training batch and at a partial last batch.
const denseLeNet = [[400, 120], [120, 84], [84, 10]].flatMap(([K, N]) => [[32, K, N], [24, K, N]]);

describe.each([
  ["dense_fwd", checkDenseFwd],
  ["dense_bwd_input", checkDenseBwdInput],
  ["dense_bwd_weight", checkDenseBwdWeight],
] as const)("%s", (_name, check) => {
  // K is the vectorised dimension; dense_fwd also blocks 4 batch rows, so B = 1..9 straddles 4 and 8.
  it.each(range(1, 17))("sweep K=%i, B=1..9, N=1..5", (K) => {
    for (const B of range(1, 9)) for (const N of range(1, 5)) check(B, K, N);
  });
  it.each(denseLeNet)("LeNet B=%i K=%i N=%i", check);
});

describe("dense_fwd gives a row the same bits whichever path computes it", () => {
  // Rows in 4-row blocks share weight loads; leftover rows (all of batch 1) share input loads across
  // 4 outputs. Both must sum in dot()'s order: batch position never changes a prediction.
  it.each([[400, 120], [120, 84], [84, 10], [7, 6]])("K=%i N=%i: rows of B=5 equal B=4's and B=1's", (K, N) => {
    const rng = rngFor(`dense_fwd paths ${K} ${N}`);
    const inp = randF32(rng, 5 * K), weight = randF32(rng, N * K), bias = randF32(rng, N);
    const run = (B: number, rows: Float64Array) => {
      const a = new Arena(k, { out: B * N, inp: B * K, weight: N * K, bias: N });
      a.input("inp", rows); a.input("weight", weight); a.input("bias", bias); a.fill("out", NaN);
      k.dense_fwd(a.ptr("out"), a.ptr("inp"), a.ptr("weight"), a.ptr("bias"), B, K, N);
      return a.read("out");
    };
    const five = run(5, inp), four = run(4, inp.subarray(0, 4 * K));
    expectClose("rows 0-3 (4-row block) vs B=4", five.subarray(0, 4 * N), four, 0, 0);
    expectClose("row 4 (leftover) vs row 4 alone at B=1", five.subarray(4 * N), run(1, inp.subarray(4 * K)), 0, 0);
    expectClose("row 0 in a 4-row block vs alone at B=1", five.subarray(0, N), run(1, inp.subarray(0, K)), 0, 0);
  });
});

describe("dense_bwd_input gives a row the same bits whichever path computes it", () => {
  // A row's input gradient must not depend on the rows beside it (a batch's shards, and the threads
  // sharing them, cut it anywhere). K = 84 and 12 reach its 4-input step.
  it.each([[400, 120], [120, 84], [84, 10], [12, 7], [7, 6]])("K=%i N=%i: rows of B=5 equal B=4's and B=1's", (K, N) => {
    const rng = rngFor(`dense_bwd_input paths ${K} ${N}`);
    const dout = randF32(rng, 5 * N), weight = randF32(rng, N * K);
    const run = (B: number, rows: Float64Array) => {
      const a = new Arena(k, { dinp: B * K, dout: B * N, weight: N * K });
      a.input("dout", rows); a.input("weight", weight); a.fill("dinp", NaN);
      k.dense_bwd_input(a.ptr("dinp"), a.ptr("dout"), a.ptr("weight"), B, K, N);
      return a.read("dinp");
    };
    const five = run(5, dout), four = run(4, dout.subarray(0, 4 * N));
    expectClose("rows 0-3 (4-row block) vs B=4", five.subarray(0, 4 * K), four, 0, 0);
    expectClose("row 4 (leftover) vs row 4 alone at B=1", five.subarray(4 * K), run(1, dout.subarray(4 * N)), 0, 0);
    expectClose("row 0 in a 4-row block vs alone at B=1", five.subarray(0, K), run(1, dout.subarray(0, N)), 0, 0);
  });
});
