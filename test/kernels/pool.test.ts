// The pooling kernels against test/ref/kernels.ts (see kernel-harness.ts for what every case checks):
// avgpool2d (LeNet-5), avgpool2d_tanh_bwd (its backward step and tanh's in one pass) and the 1998
// LeNet-5's trainable subsample2d.
import { beforeAll, describe, it } from "vitest";

import type { Kernels } from "../../src/wasm/kernels.js";
import {
  Arena, expectClose, expectSameBits, loadTestKernels, plus, randF32, range, rngFor, RTOL, sumAtol,
} from "./kernel-harness.js";
import {
  avgpool2d_bwd_ref,
  avgpool2d_fwd_ref,
  subsample2d_bwd_ref,
  subsample2d_fwd_ref,
  tanh_bwd_ref,
} from "../ref/kernels.js";

let k: Kernels;
beforeAll(async () => {
  k = await loadTestKernels();
});

// ---------------------------------------------------------------------------------------------
// avgpool2d (2x2, stride 2; odd H/W drop the last row/column)

function checkPoolFwd(B: number, C: number, H: number, W: number): void {
  const OH = H >> 1, OW = W >> 1;
  const label = `avgpool2d_fwd B=${B} C=${C} H=${H} W=${W}`;
  const inp = randF32(rngFor(label), B * C * H * W);
  const a = new Arena(k, { out: B * C * OH * OW, inp: inp.length });
  a.runTwice(label, ["out"], () => {
    a.input("inp", inp); a.fill("out", NaN);
  }, () => k.avgpool2d_fwd(a.ptr("out"), a.ptr("inp"), B, C, H, W));
  // Three f32 additions and an exact * 0.25: a few ulps.
  expectClose(label, a.read("out"), avgpool2d_fwd_ref(inp, B, C, H, W), 1e-6, 1e-6, [B, C, OH, OW]);
}

function checkPoolBwd(B: number, C: number, H: number, W: number): void {
  const OH = H >> 1, OW = W >> 1;
  const label = `avgpool2d_bwd B=${B} C=${C} H=${H} W=${W}`;
  const dout = randF32(rngFor(label), B * C * OH * OW);
  const a = new Arena(k, { dinp: B * C * H * W, dout: dout.length });
  a.runTwice(label, ["dinp"], () => {
    a.input("dout", dout); a.fill("dinp", NaN);
  }, () => k.avgpool2d_bwd(a.ptr("dinp"), a.ptr("dout"), B, C, H, W));
  // g * 0.25 is exact, and dropped rows/columns must be exactly 0 (not left NaN).
  expectClose(label, a.read("dinp"), avgpool2d_bwd_ref(dout, B, C, H, W), 0, 0, [B, C, H, W]);
}

/** avgpool2d_tanh_bwd against the reference, and bit for bit against avgpool2d_bwd then tanh_bwd. */
function checkPoolTanhBwd(B: number, C: number, H: number, W: number): void {
  const OH = H >> 1, OW = W >> 1;
  const label = `avgpool2d_tanh_bwd B=${B} C=${C} H=${H} W=${W}`;
  const rng = rngFor(label);
  const dout = randF32(rng, B * C * OH * OW), out = randF32(rng, B * C * H * W); // tanh's output: in (-1, 1)
  const n = B * C * H * W;
  const a = new Arena(k, { dinp: n, steps: n, dout: dout.length, out: n });
  a.input("dout", dout); a.input("out", out);
  k.avgpool2d_bwd(a.ptr("steps"), a.ptr("dout"), B, C, H, W);
  k.tanh_bwd(a.ptr("steps"), a.ptr("steps"), a.ptr("out"), n);
  a.runTwice(label, ["dinp"], () => {
    a.input("dout", dout); a.input("out", out); a.fill("dinp", NaN);
  }, () => k.avgpool2d_tanh_bwd(a.ptr("dinp"), a.ptr("dout"), a.ptr("out"), B, C, H, W));
  // g * 0.25 is exact, then one rounded 1 - y^2 and one product: a few ulps.
  expectClose(label, a.read("dinp"), tanh_bwd_ref(avgpool2d_bwd_ref(dout, B, C, H, W), out), 1e-6, 1e-6, [B, C, H, W]);
  expectSameBits(`${label} vs avgpool2d_bwd then tanh_bwd`, a.bits("dinp"), a.bits("steps"));
}

describe("avgpool2d", () => {
  it.each(range(1, 17))("fwd sweep W=%i, H=1..17", (W) => {
    for (const H of range(1, 17)) checkPoolFwd(1 + (H % 2), 1 + (W % 2), H, W);
  });
  it.each(range(1, 17))("bwd sweep W=%i, H=1..17", (W) => {
    for (const H of range(1, 17)) checkPoolBwd(1 + (H % 2), 1 + (W % 2), H, W);
  });
  it.each([[32, 6, 28, 28], [32, 16, 10, 10]])("LeNet fwd B=%i C=%i H=%i W=%i", checkPoolFwd);
  it.each([[32, 6, 28, 28], [32, 16, 10, 10]])("LeNet bwd B=%i C=%i H=%i W=%i", checkPoolBwd);
  it.each(range(1, 17))("tanh bwd sweep W=%i, H=1..17", (W) => {
    for (const H of range(1, 17)) checkPoolTanhBwd(1 + (H % 2), 1 + (W % 2), H, W);
  });
  it.each([[32, 6, 28, 28], [32, 16, 10, 10]])("LeNet tanh bwd B=%i C=%i H=%i W=%i", checkPoolTanhBwd);
});

// ---------------------------------------------------------------------------------------------
// subsample2d (the 1998 LeNet-5's trainable 2x2 subsampling: coefficient and bias per channel)

function checkSubsample(B: number, C: number, H: number, W: number): void {
  const OH = H >> 1, OW = W >> 1;
  const label = `subsample2d B=${B} C=${C} H=${H} W=${W}`;
  const rng = rngFor(label);
  const inp = randF32(rng, B * C * H * W), coef = randF32(rng, C), bias = randF32(rng, C);
  const dout = randF32(rng, B * C * OH * OW), dc0 = randF32(rng, C), db0 = randF32(rng, C);
  const a = new Arena(k, { out: B * C * OH * OW, inp: inp.length, coef: C, bias: C, dinp: inp.length, dout: dout.length, dcoef: C, dbias: C });
  a.runTwice(`${label} fwd`, ["out"], () => {
    a.input("inp", inp); a.input("coef", coef); a.input("bias", bias); a.fill("out", NaN);
  }, () => k.subsample2d_fwd(a.ptr("out"), a.ptr("inp"), a.ptr("coef"), a.ptr("bias"), B, C, H, W));
  expectClose(`${label} fwd`, a.read("out"), subsample2d_fwd_ref(inp, coef, bias, B, C, H, W), 1e-6, 1e-6, [B, C, OH, OW]);
  a.runTwice(`${label} bwd`, ["dinp", "dcoef", "dbias"], () => {
    a.input("dout", dout); a.fill("dinp", NaN); a.fill("dcoef", dc0); a.fill("dbias", db0);
  }, () => k.subsample2d_bwd(a.ptr("dinp"), a.ptr("dcoef"), a.ptr("dbias"), a.ptr("dout"), a.ptr("inp"), a.ptr("coef"), B, C, H, W));
  const want = subsample2d_bwd_ref(dout, inp, coef, B, C, H, W);
  expectClose(`${label} dinp`, a.read("dinp"), want.dinp, 1e-7, 1e-6, [B, C, H, W]);
  // Accumulated (+=) over the batch and the output plane: B*OH*OW terms per channel.
  const atol = sumAtol(4 * B * OH * OW);
  expectClose(`${label} dcoef`, a.read("dcoef"), plus(dc0, want.dcoef), atol, RTOL);
  expectClose(`${label} dbias`, a.read("dbias"), plus(db0, want.dbias), atol, RTOL);
}

describe("subsample2d", () => {
  it.each(range(1, 17))("sweep W=%i, H=1..17", (W) => {
    for (const H of range(1, 17)) checkSubsample(1 + (H % 2), 1 + (W % 3), H, W);
  });
  it.each([[8, 6, 28, 28], [8, 16, 10, 10]])("LeNet-1998 B=%i C=%i H=%i W=%i", checkSubsample);
});
