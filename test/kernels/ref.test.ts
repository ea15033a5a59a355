// Checks of the float64 reference kernels (test/ref/kernels.ts): hand-computed cases and
// central finite differences of every backward function with a random upstream gradient.
import { describe, expect, it } from "vitest";

import { dot, finiteDiff, gradError } from "../ref/gradcheck.js";
import {
  adam_step_ref,
  avgpool2d_bwd_ref,
  rbf_bwd_input_ref,
  rbf_fwd_ref,
  squash_bwd_ref,
  squash_fwd_ref,
  subsample2d_bwd_ref,
  subsample2d_fwd_ref,
  avgpool2d_fwd_ref,
  conv2d_bwd_weight_ref,
  conv2d_bwd_input_ref,
  conv2d_fwd_ref,
  dense_bwd_input_ref,
  dense_bwd_weight_ref,
  dense_fwd_ref,
  softmax_fwd_ref,
  softmax_xent_bwd_ref,
  softmax_xent_fwd_ref,
  tanh_bwd_ref,
  tanh_fwd_ref,
} from "../ref/kernels.js";
import { makeRng, randomArray } from "../ref/random.js";

const f64 = (xs: number[]) => Float64Array.from(xs);

function expectClose(actual: Float64Array, expected: number[], tol = 1e-12): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= tol)) {
      throw new Error(`index ${i}: got ${actual[i]}, expected ${expected[i]}`);
    }
  }
}

/** FD-check `analytic` = dL/dx over all entries of x; returns the error summary for assertions. */
function checkGrad(L: () => number, x: Float64Array, analytic: Float64Array) {
  expect(analytic.length).toBe(x.length);
  return gradError(analytic, finiteDiff(L, x));
}

function expectGradOk(what: string, L: () => number, x: Float64Array, analytic: Float64Array): void {
  const e = checkGrad(L, x, analytic);
  expect(e.ratio, `${what}: worst index ${e.worst}, analytic ${e.analytic}, numeric ${e.numeric}`).toBeLessThanOrEqual(1);
}

describe("random helpers", () => {
  it("makeRng is deterministic, in [0,1), and seed-dependent", () => {
    const a = makeRng(42);
    const b = makeRng(42);
    const c = makeRng(43);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(xs).toEqual(Array.from({ length: 1000 }, () => b()));
    expect(xs.slice(0, 10)).not.toEqual(Array.from({ length: 10 }, () => c()));
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.05);
  });

  it("randomArray respects the range", () => {
    const r = randomArray(makeRng(1), 500, 2, 3);
    expect(r).toBeInstanceOf(Float64Array);
    expect(r.length).toBe(500);
    for (const x of r) expect(x >= 2 && x < 3).toBe(true);
  });
});

describe("hand-computed cases", () => {
  const x3 = f64([1, 2, 3, 4, 5, 6, 7, 8, 9]); // (1,1,3,3)

  it("conv2d 1x1x3x3 with a 2x2 kernel, pad 0", () => {
    const out = conv2d_fwd_ref(x3, f64([1, 2, 3, 4]), f64([0.5]), 1, 1, 3, 3, 1, 2, 0);
    // [1*1+2*2+3*4+4*5, 2+6+15+24, 4+10+21+32, 5+12+24+36] + 0.5
    expectClose(out, [37.5, 47.5, 67.5, 77.5]);
  });

  it("conv2d is cross-correlation with zero padding (pad 1, only the top-left tap set)", () => {
    const w = new Float64Array(9);
    w[0] = 1; // out[y][x] = in[y-1][x-1]
    expectClose(conv2d_fwd_ref(x3, w, f64([0]), 1, 1, 3, 3, 1, 3, 1), [0, 0, 0, 0, 1, 2, 0, 4, 5]);
    const dinp = conv2d_bwd_input_ref(f64([1, 2, 3, 4, 5, 6, 7, 8, 9]), w, 1, 1, 3, 3, 1, 3, 1);
    expectClose(dinp, [5, 6, 0, 8, 9, 0, 0, 0, 0]);
  });

  it("conv2d filter gradient of a 2x2 kernel", () => {
    const dout = f64([1, 0, 0, 2]);
    const { dweight, dbias } = conv2d_bwd_weight_ref(dout, x3, 1, 1, 3, 3, 1, 2, 0);
    // dw[ky][kx] = in[ky][kx] * 1 + in[ky+1][kx+1] * 2
    expectClose(dweight, [1 + 2 * 5, 2 + 2 * 6, 4 + 2 * 8, 5 + 2 * 9]);
    expectClose(dbias, [3]);
  });

  it("avgpool of a 2x2 and of an odd 3x3", () => {
    expectClose(avgpool2d_fwd_ref(f64([1, 2, 3, 4]), 1, 1, 2, 2), [2.5]);
    expectClose(avgpool2d_fwd_ref(x3, 1, 1, 3, 3), [3]);
    expectClose(avgpool2d_bwd_ref(f64([4]), 1, 1, 2, 2), [1, 1, 1, 1]);
    expectClose(avgpool2d_bwd_ref(f64([4]), 1, 1, 3, 3), [1, 1, 0, 1, 1, 0, 0, 0, 0]);
  });

  it("dense forward and backward", () => {
    const w = f64([1, 0, 0, 1, 1, 1]); // (N=3, K=2)
    expectClose(dense_fwd_ref(f64([1, 2]), w, f64([0, 0, 1]), 1, 2, 3), [1, 2, 4]);
    expectClose(dense_bwd_input_ref(f64([1, 10, 100]), w, 1, 2, 3), [101, 110]);
    const { dweight, dbias } = dense_bwd_weight_ref(f64([1, 10, 100]), f64([1, 2]), 1, 2, 3);
    expectClose(dweight, [1, 2, 10, 20, 100, 200]);
    expectClose(dbias, [1, 10, 100]);
  });

  it("tanh forward and backward", () => {
    const out = tanh_fwd_ref(f64([0, 1, -2]));
    expectClose(out, [0, Math.tanh(1), Math.tanh(-2)]);
    expectClose(tanh_bwd_ref(f64([2, 3, 1]), f64([0, 0.5, -1])), [2, 2.25, 0]);
  });

  it("softmax of [0,0] is [0.5,0.5], loss ln 2, gradient (p - onehot)/B", () => {
    expectClose(softmax_fwd_ref(f64([0, 0]), 1, 2), [0.5, 0.5]);
    const { probs, loss } = softmax_xent_fwd_ref(f64([0, 0, 3, 3]), Int32Array.from([0, 1]), 2, 2);
    expectClose(probs, [0.5, 0.5, 0.5, 0.5]);
    expect(loss).toBeCloseTo(Math.LN2, 14);
    expectClose(softmax_xent_bwd_ref(probs, Int32Array.from([0, 1]), 2, 2), [-0.25, 0.25, 0.25, -0.25]);
    // mean, not sum: rows with losses ln 2 and ln(1 + e) average
    const r = softmax_xent_fwd_ref(f64([0, 0, 1, 0]), Int32Array.from([1, 1]), 2, 2);
    expect(r.loss).toBeCloseTo((Math.LN2 + Math.log(1 + Math.E)) / 2, 14);
  });

  it("softmax is numerically stable for huge logits", () => {
    const { probs, loss } = softmax_xent_fwd_ref(f64([1000, 0, -1000, 1000]), Int32Array.from([1, 0]), 2, 2);
    expectClose(probs, [1, 0, 0, 1]);
    expect(loss).toBeCloseTo(1500, 9); // (1000 + 2000) / 2
    expectClose(softmax_fwd_ref(f64([1000, 1000 + Math.log(3)]), 1, 2), [0.25, 0.75]);
  });

  it("adam: first Keras step moves each param by about lr*sign(g), second step by formula", () => {
    const lr = 0.01, beta1 = 0.9, beta2 = 0.999, eps = 1e-7;
    const p = f64([1, -2, 0.5, 3]);
    const g = f64([0.3, -4, 1e-3, 0]);
    const m = new Float64Array(4);
    const v = new Float64Array(4);
    adam_step_ref(p, g, m, v, 1, lr, beta1, beta2, eps);
    expectClose(m, [0.03, -0.4, 1e-4, 0], 1e-15);
    expectClose(v, [0.09e-3, 16e-3, 1e-9, 0], 1e-15);
    // step 1: alpha*m/(sqrt(v)+eps) = lr*sqrt(1-b2)*|g|/(sqrt(1-b2)*|g| + eps)*sign(g)
    const s = Math.sqrt(0.001);
    const step1 = (gi: number) => (lr * s * gi) / (s * Math.abs(gi) + eps);
    expectClose(p, [1 - step1(0.3), -2 - step1(-4), 0.5 - step1(1e-3), 3], 1e-15);
    expect(1 - p[0]).toBeCloseTo(lr, 6);
    expect(-2 - p[1]).toBeCloseTo(-lr, 6);
    // tiny |g|: eps is no longer negligible against sqrt(v) = 3.2e-5, so the step is ~0.3% short of lr
    expect(0.5 - p[2]).toBeCloseTo(lr, 4);
    expect(0.5 - p[2]).toBeLessThan(lr * 0.999);

    // step 2 in the bias-corrected (mhat, vhat) form with eps_hat = eps * sqrt(1 - b2^t)
    const before = Float64Array.from(p);
    const g2 = f64([0.1, 1, -1e-3, 2]);
    const m2 = Array.from(m, (mi, i) => beta1 * mi + (1 - beta1) * g2[i]);
    const v2 = Array.from(v, (vi, i) => beta2 * vi + (1 - beta2) * g2[i] * g2[i]);
    adam_step_ref(p, g2, m, v, 2, lr, beta1, beta2, eps);
    expectClose(m, m2, 1e-15);
    expectClose(v, v2, 1e-15);
    const expected = Array.from(before, (pi, i) => {
      const mhat = m2[i] / (1 - beta1 ** 2);
      const vhat = v2[i] / (1 - beta2 ** 2);
      return pi - (lr * mhat) / (Math.sqrt(vhat) + eps / Math.sqrt(1 - beta2 ** 2));
    });
    expectClose(p, expected, 1e-14);
    expect(g2).toEqual(f64([0.1, 1, -1e-3, 2])); // grads untouched
  });
});

describe("finite-difference checks of the backward kernels (random upstream gradient)", () => {
  const convCases = [
    { B: 2, C: 3, H: 5, W: 7, OC: 4, K: 3, pad: 0 },
    { B: 2, C: 2, H: 6, W: 4, OC: 3, K: 5, pad: 2 },
    { B: 2, C: 3, H: 7, W: 9, OC: 2, K: 5, pad: 0 },
    { B: 1, C: 1, H: 4, W: 5, OC: 2, K: 3, pad: 1 },
    { B: 2, C: 1, H: 8, W: 6, OC: 6, K: 5, pad: 2 },
  ];
  for (const [ci, s] of convCases.entries()) {
    const { B, C, H, W, OC, K, pad } = s;
    it(`conv2d ${JSON.stringify(s)}`, () => {
      const rng = makeRng(100 + ci);
      const OH = H + 2 * pad - K + 1;
      const OW = W + 2 * pad - K + 1;
      const inp = randomArray(rng, B * C * H * W);
      const w = randomArray(rng, OC * C * K * K);
      const b = randomArray(rng, OC);
      const g = randomArray(rng, B * OC * OH * OW);
      const L = () => dot(g, conv2d_fwd_ref(inp, w, b, B, C, H, W, OC, K, pad));
      expect(conv2d_fwd_ref(inp, w, b, B, C, H, W, OC, K, pad).length).toBe(B * OC * OH * OW);
      const dinp = conv2d_bwd_input_ref(g, w, B, C, H, W, OC, K, pad);
      const { dweight, dbias } = conv2d_bwd_weight_ref(g, inp, B, C, H, W, OC, K, pad);
      expectGradOk("d/dinp", L, inp, dinp);
      expectGradOk("d/dweight", L, w, dweight);
      expectGradOk("d/dbias", L, b, dbias);
    });
  }

  for (const [H, W] of [[4, 6], [5, 7], [3, 3], [28, 28], [10, 10]]) {
    it(`avgpool2d ${H}x${W}`, () => {
      const rng = makeRng(H * 100 + W);
      const B = 2, C = 3;
      const inp = randomArray(rng, B * C * H * W);
      const g = randomArray(rng, B * C * Math.floor(H / 2) * Math.floor(W / 2));
      const L = () => dot(g, avgpool2d_fwd_ref(inp, B, C, H, W));
      expectGradOk("d/dinp", L, inp, avgpool2d_bwd_ref(g, B, C, H, W));
    });
  }

  for (const [B, K, N] of [[3, 5, 4], [2, 7, 7], [1, 1, 3]]) {
    it(`dense B=${B} K=${K} N=${N}`, () => {
      const rng = makeRng(B * 10000 + K * 100 + N);
      const inp = randomArray(rng, B * K);
      const w = randomArray(rng, N * K);
      const b = randomArray(rng, N);
      const g = randomArray(rng, B * N);
      const L = () => dot(g, dense_fwd_ref(inp, w, b, B, K, N));
      const { dweight, dbias } = dense_bwd_weight_ref(g, inp, B, K, N);
      expectGradOk("d/dinp", L, inp, dense_bwd_input_ref(g, w, B, K, N));
      expectGradOk("d/dweight", L, w, dweight);
      expectGradOk("d/dbias", L, b, dbias);
    });
  }

  it("tanh", () => {
    const rng = makeRng(7);
    const inp = randomArray(rng, 50, -3, 3);
    const g = randomArray(rng, 50);
    const L = () => dot(g, tanh_fwd_ref(inp));
    expectGradOk("d/dinp", L, inp, tanh_bwd_ref(g, tanh_fwd_ref(inp)));
  });

  it("squash (1.7159 tanh(2a/3))", () => {
    const rng = makeRng(8);
    const inp = randomArray(rng, 50, -4, 4);
    const g = randomArray(rng, 50);
    const L = () => dot(g, squash_fwd_ref(inp));
    expectGradOk("d/dinp", L, inp, squash_bwd_ref(g, squash_fwd_ref(inp)));
    expectClose(squash_fwd_ref(f64([1, -1, 0])), [1, -1, 0], 1e-4); // the paper's f(+-1) = +-1
  });

  for (const [H, W] of [[4, 6], [5, 7], [28, 28], [10, 10]]) {
    it(`subsample2d ${H}x${W}`, () => {
      const rng = makeRng(H * 1000 + W);
      const B = 2, C = 3;
      const inp = randomArray(rng, B * C * H * W), coef = randomArray(rng, C), bias = randomArray(rng, C);
      const g = randomArray(rng, B * C * Math.floor(H / 2) * Math.floor(W / 2));
      const L = () => dot(g, subsample2d_fwd_ref(inp, coef, bias, B, C, H, W));
      const { dinp, dcoef, dbias } = subsample2d_bwd_ref(g, inp, coef, B, C, H, W);
      expectGradOk("d/dinp", L, inp, dinp);
      expectGradOk("d/dcoef", L, coef, dcoef);
      expectGradOk("d/dbias", L, bias, dbias);
    });
  }

  for (const [B, N, C] of [[2, 7, 3], [3, 84, 10]]) {
    it(`rbf B=${B} N=${N} C=${C}`, () => {
      const rng = makeRng(B * 100 + N + C);
      const inp = randomArray(rng, B * N), centres = randomArray(rng, C * N);
      const g = randomArray(rng, B * (C + 1));
      const L = () => dot(g, rbf_fwd_ref(inp, centres, B, N, C, 3));
      expectGradOk("d/dinp", L, inp, rbf_bwd_input_ref(g, inp, centres, B, N, C));
    });
  }

  for (const [B, N] of [[1, 2], [4, 10], [3, 5]]) {
    it(`softmax_xent B=${B} N=${N} (L = mean loss)`, () => {
      const rng = makeRng(B * 31 + N);
      const logits = randomArray(rng, B * N, -3, 3);
      const labels = Int32Array.from({ length: B }, () => Math.floor(rng() * N));
      const L = () => softmax_xent_fwd_ref(logits, labels, B, N).loss;
      const { probs } = softmax_xent_fwd_ref(logits, labels, B, N);
      expectGradOk("d/dlogits", L, logits, softmax_xent_bwd_ref(probs, labels, B, N));
    });
  }

  it("softmax_fwd (via a random upstream gradient through the Jacobian)", () => {
    const rng = makeRng(99);
    const B = 3, N = 6;
    const logits = randomArray(rng, B * N, -3, 3);
    const g = randomArray(rng, B * N);
    const p = softmax_fwd_ref(logits, B, N);
    // analytic: dlogits = p * (g - sum_j g_j p_j), per row
    const analytic = new Float64Array(B * N);
    for (let b = 0; b < B; b++) {
      let s = 0;
      for (let n = 0; n < N; n++) s += g[b * N + n] * p[b * N + n];
      for (let n = 0; n < N; n++) analytic[b * N + n] = p[b * N + n] * (g[b * N + n] - s);
      let rowSum = 0;
      for (let n = 0; n < N; n++) rowSum += p[b * N + n];
      expect(rowSum).toBeCloseTo(1, 14);
    }
    expectGradOk("d/dlogits", () => dot(g, softmax_fwd_ref(logits, B, N)), logits, analytic);
  });
});

describe("the checks can fail", () => {
  it("FD check rejects a transposed dense weight gradient and a convolution-flipped conv gradient", () => {
    const rng = makeRng(5);
    const B = 2, K = 4, N = 4;
    const inp = randomArray(rng, B * K);
    const w = randomArray(rng, N * K);
    const b = randomArray(rng, N);
    const g = randomArray(rng, B * N);
    const { dweight } = dense_bwd_weight_ref(g, inp, B, K, N);
    const transposed = new Float64Array(N * K);
    for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) transposed[k * N + n] = dweight[n * K + k];
    const L = () => dot(g, dense_fwd_ref(inp, w, b, B, K, N));
    expect(checkGrad(L, w, dweight).ratio).toBeLessThanOrEqual(1);
    expect(checkGrad(L, w, transposed).ratio).toBeGreaterThan(1000);

    const C = 2, H = 5, Wd = 6, OC = 3, KK = 3, pad = 1;
    const x = randomArray(rng, B * C * H * Wd);
    const cw = randomArray(rng, OC * C * KK * KK);
    const cg = randomArray(rng, B * OC * H * Wd);
    const cL = () => dot(cg, conv2d_fwd_ref(x, cw, new Float64Array(OC), B, C, H, Wd, OC, KK, pad));
    const dw = conv2d_bwd_weight_ref(cg, x, B, C, H, Wd, OC, KK, pad).dweight;
    const flipped = new Float64Array(dw.length);
    for (let o = 0; o < OC * C; o++) {
      for (let t = 0; t < KK * KK; t++) flipped[o * KK * KK + t] = dw[o * KK * KK + (KK * KK - 1 - t)];
    }
    expect(checkGrad(cL, cw, flipped).ratio).toBeGreaterThan(1000);
    // a gradient that is off by a small relative amount (1e-4) is also caught
    expect(checkGrad(cL, cw, dw.map((d) => d * (1 + 1e-4))).ratio).toBeGreaterThan(10);
  });

  it("gradError treats NaN as a failure", () => {
    expect(gradError(f64([NaN, 1]), new Map([[0, 1], [1, 1]])).ratio).toBe(Infinity);
  });
});

describe("inputs are never mutated", () => {
  it("all non-adam kernels leave their arguments untouched", () => {
    const rng = makeRng(11);
    const B = 2, C = 2, H = 5, W = 4, OC = 3, K = 3, pad = 1;
    const inp = randomArray(rng, B * C * H * W);
    const w = randomArray(rng, OC * C * K * K);
    const b = randomArray(rng, OC);
    const dout = randomArray(rng, B * OC * H * W);
    const labels = Int32Array.from([1, 0]);
    const args = [inp, w, b, dout, labels];
    const copies = args.map((a) => a.slice());
    conv2d_fwd_ref(inp, w, b, B, C, H, W, OC, K, pad);
    conv2d_bwd_input_ref(dout, w, B, C, H, W, OC, K, pad);
    conv2d_bwd_weight_ref(dout, inp, B, C, H, W, OC, K, pad);
    avgpool2d_fwd_ref(inp, B, C, H, W);
    avgpool2d_bwd_ref(dout.subarray(0, B * C * 2 * 2), B, C, H, W);
    dense_fwd_ref(inp.subarray(0, 6), w.subarray(0, 9), b, 2, 3, 3);
    dense_bwd_input_ref(dout.subarray(0, 6), w.subarray(0, 9), 2, 3, 3);
    dense_bwd_weight_ref(dout.subarray(0, 6), inp.subarray(0, 6), 2, 3, 3);
    tanh_fwd_ref(inp);
    tanh_bwd_ref(dout, inp);
    softmax_fwd_ref(inp, 4, 10);
    const { probs } = softmax_xent_fwd_ref(inp.subarray(0, 6), labels, 2, 3);
    const probsCopy = probs.slice();
    softmax_xent_bwd_ref(probs, labels, 2, 3);
    expect(probs).toEqual(probsCopy);
    args.forEach((a, i) => expect(a).toEqual(copies[i]));
  });
});
