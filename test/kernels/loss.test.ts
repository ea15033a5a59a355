// The output and loss kernels against test/ref/kernels.ts (see kernel-harness.ts for what every case
// checks): the 1998 LeNet-5's RBF output, softmax and softmax cross-entropy.
import { beforeAll, describe, it } from "vitest";

import type { Kernels } from "../../src/wasm/kernels.js";
import {
  Arena, expectClose, loadTestKernels, randF32, randInt, range, rngFor, RTOL, sumAtol,
} from "./kernel-harness.js";
import {
  rbf_bwd_input_ref,
  rbf_fwd_ref,
  softmax_fwd_ref,
  softmax_xent_bwd_ref,
  softmax_xent_fwd_ref,
} from "../ref/kernels.js";

let k: Kernels;
beforeAll(async () => {
  k = await loadTestKernels();
});

// ---------------------------------------------------------------------------------------------
// rbf (the 1998 LeNet-5's output: squared distances to fixed codes, and the rubbish class)

function checkRbf(B: number, N: number, C: number): void {
  const label = `rbf B=${B} N=${N} C=${C}`;
  const rng = rngFor(label);
  const inp = randF32(rng, B * N, -1.7, 1.7), centres = randF32(rng, C * N).map(Math.sign);
  const dlogits = randF32(rng, B * (C + 1));
  const rubbish = 7.5;
  const a = new Arena(k, { logits: B * (C + 1), inp: inp.length, centres: centres.length, dinp: inp.length, dlogits: dlogits.length });
  a.runTwice(`${label} fwd`, ["logits"], () => {
    a.input("inp", inp); a.input("centres", centres); a.fill("logits", NaN);
  }, () => k.rbf_fwd(a.ptr("logits"), a.ptr("inp"), a.ptr("centres"), B, N, C, rubbish));
  // Sums of N squares of values up to ~2.7: relative error a few f32 ulps.
  expectClose(`${label} fwd`, a.read("logits"), rbf_fwd_ref(inp, centres, B, N, C, rubbish), 1e-5, 1e-5, [B, C + 1]);
  a.runTwice(`${label} bwd`, ["dinp"], () => {
    a.input("dlogits", dlogits); a.fill("dinp", NaN);
  }, () => k.rbf_bwd_input(a.ptr("dinp"), a.ptr("dlogits"), a.ptr("inp"), a.ptr("centres"), B, N, C));
  expectClose(`${label} bwd`, a.read("dinp"), rbf_bwd_input_ref(dlogits, inp, centres, B, N, C), sumAtol(4 * C), RTOL, [B, N]);
}

describe("rbf", () => {
  it.each(range(1, 17))("N=%i", (N) => checkRbf(1 + (N % 3), N, 1 + (N % 4)));
  it("LeNet-1998: B=8 N=84 C=10", () => checkRbf(8, 84, 10));
});

// ---------------------------------------------------------------------------------------------
// softmax and cross-entropy

/** Logits in [-5, 5], plus `offset` (a large offset checks the max subtraction). */
function logitsFor(rng: () => number, B: number, N: number, offset: number): Float64Array {
  return randF32(rng, B * N, -5, 5).map((x) => Math.fround(x + offset));
}

// f32 expf/logf are accurate to ~1 ulp; probabilities are sums of N <= 17 such terms.
const PROB_ATOL = 1e-6;

function checkSoftmax(B: number, N: number, offset: number): void {
  const label = `softmax_fwd B=${B} N=${N} offset=${offset}`;
  const logits = logitsFor(rngFor(label), B, N, offset);
  const a = new Arena(k, { probs: B * N, logits: B * N });
  a.runTwice(label, ["probs"], () => {
    a.input("logits", logits); a.fill("probs", NaN);
  }, () => k.softmax_fwd(a.ptr("probs"), a.ptr("logits"), B, N));
  expectClose(label, a.read("probs"), softmax_fwd_ref(logits, B, N), PROB_ATOL, RTOL, [B, N]);
}

function checkXentFwd(B: number, N: number, offset: number): void {
  const label = `softmax_xent_fwd B=${B} N=${N} offset=${offset}`;
  const rng = rngFor(label);
  const logits = logitsFor(rng, B, N, offset), labels = randInt(rng, B, N);
  const a = new Arena(k, { probs: B * N, logits: B * N, labels: B });
  const loss = a.runTwice(label, ["probs"], () => {
    a.input("logits", logits); a.input("labels", labels, "i32"); a.fill("probs", NaN);
  }, () => k.softmax_xent_fwd(a.ptr("probs"), a.ptr("logits"), a.ptr("labels"), B, N));
  const want = softmax_xent_fwd_ref(logits, labels, B, N);
  expectClose(`${label} probs`, a.read("probs"), want.probs, PROB_ATOL, RTOL, [B, N]);
  // The kernel returns the SUM of the per-row losses (the reference: their mean). Each row loss is
  // rounded to f32 at the size of the largest logit: ulp(205) ~ 1.5e-5 with offset 200.
  expectClose(`${label} loss (sum over rows)`, [loss], [want.loss * B], 1e-5 * B * (1 + Math.abs(offset) / 10), RTOL);
}

function checkXentBwd(B: number, N: number): void {
  const label = `softmax_xent_bwd B=${B} N=${N}`;
  const rng = rngFor(label);
  const probs = softmax_fwd_ref(logitsFor(rng, B, N, 0), B, N).map(Math.fround), labels = randInt(rng, B, N);
  const a = new Arena(k, { dlogits: B * N, probs: B * N, labels: B });
  a.runTwice(label, ["dlogits"], () => {
    a.input("probs", probs); a.input("labels", labels, "i32"); a.fill("dlogits", NaN);
  }, () => k.softmax_xent_bwd(a.ptr("dlogits"), a.ptr("probs"), a.ptr("labels"), B, N, 1 / B));
  // With scale = 1/B the kernel computes the reference's gradient of the batch-mean loss.
  expectClose(label, a.read("dlogits"), softmax_xent_bwd_ref(probs, labels, B, N), 1e-7, RTOL, [B, N]);
}

const softmaxCases = [...range(1, 5).flatMap((B) => range(1, 12).map((N) => [B, N])), [32, 10], [24, 10]];

describe("softmax", () => {
  it.each(softmaxCases)("softmax_fwd B=%i N=%i", (B, N) => checkSoftmax(B, N, 0));
  it.each(softmaxCases)("softmax_xent_fwd B=%i N=%i", (B, N) => checkXentFwd(B, N, 0));
  it.each(softmaxCases)("softmax_xent_bwd B=%i N=%i", checkXentBwd);
  it("is stable for large logits (offset 200: exp would overflow without the max subtraction)", () => {
    checkSoftmax(32, 10, 200);
    checkSoftmax(4, 10, -200);
    checkXentFwd(4, 10, 200);
  });
});
