// The optimizer kernel adam_step against test/ref/kernels.ts (see kernel-harness.ts for what every
// case checks).
import { beforeAll, describe, it } from "vitest";

import type { Kernels } from "../../src/wasm/kernels.js";
import {
  Arena, expectClose, loadTestKernels, randF32, range, rngFor, RTOL,
} from "./kernel-harness.js";
import {
  adam_step_ref,
} from "../ref/kernels.js";

let k: Kernels;
beforeAll(async () => {
  k = await loadTestKernels();
});

// ---------------------------------------------------------------------------------------------
// adam_step (Keras Adam; the caller folds the bias corrections into alpha)

const LR = 1e-3;
// The kernel takes f32 hyperparameters; give the reference the same rounded values.
const BETA1 = Math.fround(0.9), BETA2 = Math.fround(0.999), EPS = Math.fround(1e-7);

function checkAdam(n: number, freshState: boolean): void {
  const label = `adam_step n=${n}${freshState ? " (m = v = 0)" : ""}`;
  const rng = rngFor(label);
  const p0 = randF32(rng, n);
  const m0 = freshState ? new Float64Array(n) : randF32(rng, n, -0.1, 0.1);
  const v0 = freshState ? new Float64Array(n) : randF32(rng, n, 0, 0.01);
  const grads = [1, 2, 3].map(() => {
    const g = randF32(rng, n, -0.5, 0.5);
    for (let i = 0; i < n; i += 7) g[i] = 0; // some zero gradients
    return g;
  });
  const a = new Arena(k, { params: n, grads: n, m: n, v: n });
  const states: Float64Array[][] = [];
  a.runTwice(label, ["params", "m", "v"], () => {
    a.fill("params", p0); a.fill("m", m0); a.fill("v", v0);
    states.length = 0;
  }, () => {
    grads.forEach((g, i) => {
      const t = i + 1;
      const alpha = (LR * Math.sqrt(1 - BETA2 ** t)) / (1 - BETA1 ** t);
      a.input("grads", g);
      k.adam_step(a.ptr("params"), a.ptr("grads"), a.ptr("m"), a.ptr("v"), n, alpha, BETA1, BETA2, EPS);
      states.push([a.read("params"), a.read("m"), a.read("v")]);
    });
  });
  const p = p0.slice(), m = m0.slice(), v = v0.slice();
  grads.forEach((g, i) => {
    const t = i + 1;
    adam_step_ref(p, g, m, v, t, LR, BETA1, BETA2, EPS);
    // A handful of f32 roundings per element, state carried over 3 steps in f32 (the reference
    // keeps f64): params are ~1 (ulp 1.2e-7); m ~ 0.1 (ulp 7.5e-9) and v ~ 0.01 (ulp 9.3e-10) get
    // ~10 ulps of their typical size, since elements near 0 lose digits by cancellation.
    expectClose(`${label} t=${t} params`, states[i][0], p, 1e-6, RTOL);
    expectClose(`${label} t=${t} m`, states[i][1], m, 1e-7, RTOL);
    expectClose(`${label} t=${t} v`, states[i][2], v, 1e-8, RTOL);
  });
}

describe("adam_step", () => {
  it.each(range(1, 17))("n=%i, steps t=1..3", (n) => checkAdam(n, false));
  it("LeNet: all 61,720 parameters, steps t=1..3 from m = v = 0", () => checkAdam(61720, true));
});
