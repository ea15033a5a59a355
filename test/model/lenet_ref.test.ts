// End-to-end checks of the float64 reference LeNet-5 (test/ref/lenet_ref.ts).
import { describe, expect, it } from "vitest";

import { finiteDiff, gradError } from "../ref/gradcheck.js";
import {
  LENET_PARAM_NAMES,
  LENET_SHAPES,
  lenet_backward_ref,
  lenet_forward_ref,
  lenet_random_params,
  lenet_train_step_ref,
  lenet_zero_params,
  type LeNetParams,
} from "../ref/lenet_ref.js";
import { makeRng, randomArray } from "../ref/random.js";

function randomLabels(rng: () => number, B: number): Int32Array {
  return Int32Array.from({ length: B }, () => Math.floor(rng() * 10));
}

/** `count` distinct random indices in [0, n) (all of them if n <= count). */
function sampleIndices(rng: () => number, n: number, count: number): number[] {
  const all = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [all[i], all[j]] = [all[j], all[i]];
  }
  return all.slice(0, Math.min(n, count));
}

function cloneParams(p: LeNetParams): LeNetParams {
  const q = lenet_zero_params();
  for (const name of LENET_PARAM_NAMES) q[name].set(p[name]);
  return q;
}

describe("reference LeNet-5", () => {
  it("has the documented parameter shapes and output shapes", () => {
    const p = lenet_random_params(makeRng(1));
    let total = 0;
    for (const name of LENET_PARAM_NAMES) {
      const n = LENET_SHAPES[name].reduce((a, b) => a * b, 1);
      expect(p[name].length, name).toBe(n);
      total += n;
    }
    expect(total).toBe(61706); // classic LeNet-5 parameter count
    const rng = makeRng(2);
    const B = 3;
    const { loss, probs, cache } = lenet_forward_ref(p, randomArray(rng, B * 784, 0, 1), randomLabels(rng, B), B);
    expect(probs.length).toBe(B * 10);
    expect(cache.p3.length).toBe(B * 400);
    expect(Number.isFinite(loss)).toBe(true);
    expect(loss).toBeGreaterThan(1.5); // near ln 10 = 2.30 at Glorot init
    expect(loss).toBeLessThan(3.5);
    const g = lenet_backward_ref(p, cache, randomLabels(rng, B), B);
    for (const name of LENET_PARAM_NAMES) expect(g[name].length, name).toBe(p[name].length);
  });

  it("backward matches central finite differences of the mean loss (B=2, ~30 entries per tensor)", () => {
    const rng = makeRng(1234);
    const B = 2;
    const p = lenet_random_params(rng, 0.1);
    const images = randomArray(rng, B * 784, 0, 1);
    const labels = Int32Array.from([3, 7]);
    const { cache } = lenet_forward_ref(p, images, labels, B);
    const grads = lenet_backward_ref(p, cache, labels, B);
    const L = () => lenet_forward_ref(p, images, labels, B).loss;
    for (const name of LENET_PARAM_NAMES) {
      const idx = sampleIndices(rng, p[name].length, 30);
      const numeric = finiteDiff(L, p[name], idx);
      const e = gradError(grads[name], numeric);
      expect(e.ratio, `${name}[${e.worst}]: analytic ${e.analytic}, numeric ${e.numeric}`).toBeLessThanOrEqual(1);
      // the sampled gradients are not trivially zero (the check has teeth)
      const maxAbs = Math.max(...Array.from(numeric.values(), Math.abs));
      expect(maxAbs, name).toBeGreaterThan(1e-4);
    }
  });

  it("20 Adam steps overfit a fixed batch of 8 random images", () => {
    const rng = makeRng(42);
    const B = 8;
    const p = lenet_random_params(rng);
    const images = randomArray(rng, B * 784, 0, 1);
    const labels = Int32Array.from([0, 1, 2, 3, 4, 5, 6, 7]);
    const initial = lenet_forward_ref(cloneParams(p), images, labels, B).loss;
    const imagesCopy = images.slice();
    const state = { m: lenet_zero_params(), v: lenet_zero_params(), t: 0 };
    const losses: number[] = [];
    for (let i = 0; i < 20; i++) losses.push(lenet_train_step_ref(p, state, images, labels, B));
    const final = lenet_forward_ref(p, images, labels, B).loss;
    expect(losses[0]).toBe(initial); // returns the loss before the update
    expect(state.t).toBe(20);
    expect(images).toEqual(imagesCopy);
    expect(final).toBeLessThan(0.5 * initial);
    expect(final).toBeLessThan(losses[19]);
  });
});
