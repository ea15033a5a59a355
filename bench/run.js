// `npm run bench`: kernel GFLOP/s at the LeNet-5 shapes (and their fraction of the measured f32x4
// ceiling), training (1 thread and all cores) and inference throughput, peak memory. Keep the
// output format stable so numbers compare across commits.
// Then, if installed (`npm run bench:peers`), the same model in TensorFlow.js's wasm backend
// (bench/peers/), run afterwards in a child process, with ratios.
// Usage: npm run bench [-- --json] [-- --seconds S]
import { readFileSync } from "node:fs";
import { availableParallelism, cpus } from "node:os";
import { parseArgs } from "node:util";
import { allocateRegions } from "../build/wasm/arena.js";
import { LeNet5 } from "../build/model/lenet.js";
import { readMnist } from "../build/data/node-files.js";
import { splitValidation } from "../build/data/datasets.js";
import { loadKernels } from "../build/wasm/kernels.js";
import { DataParallel } from "../build/train/data-parallel.js";
import { quantize } from "../build/model/int8.js";
import { peerLines, runPeers } from "./peers/report.js";

const { values: flags } = parseArgs({ options: { json: { type: "boolean" }, seconds: { type: "string" } } });
const budget = Number(flags.seconds ?? 0.5); // seconds per measurement

/** Runs fn repeatedly for ~budget seconds, 5 rounds; returns the median seconds per call. */
function time(fn) {
  fn();
  let calls = 1;
  for (let t = performance.now(); performance.now() - t < 20; calls++) fn(); // calibrate on ~20 ms
  const perRound = Math.max(1, Math.round((calls * budget * 1000) / 20 / 5));
  const rounds = [];
  for (let r = 0; r < 5; r++) {
    const t = performance.now();
    for (let i = 0; i < perRound; i++) fn();
    rounds.push((performance.now() - t) / 1000 / perRound);
  }
  return rounds.sort((a, b) => a - b)[2];
}

// The ceiling (bench/ceiling/): a matrix product's inner loop, 12 independent accumulators each
// adding a product of a loaded vector and a broadcast scalar: 8 flops per accumulator per iteration.
const { instance: ceilingModule } = await WebAssembly.instantiate(readFileSync(new URL("../build/ceiling.wasm", import.meta.url)));
const ceilingIterations = 100000;
const ceilingGflops = (12 * 8 * ceilingIterations) / time(() => ceilingModule.exports.peak(ceilingIterations)) / 1e9;

const B = 32;
const k = await loadKernels();
const conv = (C, H, OC, K = 5) => ({ C, H, OC, K, OH: H - K + 1, flops: 2 * B * OC * (H - K + 1) ** 2 * C * K * K });
const c1 = conv(1, 32, 6), c3 = conv(6, 14, 16);
const r = allocateRegions(k.memory, k.heap_base(), { a: B * 6 * 32 * 32, col: B * 150 * 100 + B * 25 * 784, b: B * 6 * 28 * 28, w: 61720, wt: 2400, bias: 120, g: 61720, gb: 120, d: B * 400, e: B * 120, dcol: 150 * 100 });
const f32 = new Float32Array(k.memory.buffer);
for (let i = 0; i < f32.length - r.a.offset / 4; i++) f32[r.a.offset / 4 + i] = Math.sin(i) * 0.5; // finite data everywhere
const o = (n) => r[n].offset;

const kernels = [
  ["conv2d_fwd c1 (1->6, 32x32)", c1.flops, () => k.conv2d_fwd(o("b"), o("col"), o("a"), o("w"), o("bias"), B, 1, 32, 32, 6, 5, true)],
  ["conv2d_fwd c3 (6->16, 14x14)", c3.flops, () => k.conv2d_fwd(o("b"), o("col"), o("a"), o("w"), o("bias"), B, 6, 14, 14, 16, 5, true)],
  // Inference reads the input directly (no im2col); the forms without the fused tanh and pooling.
  ["conv2d_fwd_rows c1 (inference)", c1.flops, () => k.conv2d_fwd_rows(o("b"), o("a"), o("w"), o("bias"), B, 1, 32, 32, 6, 5)],
  ["conv2d_fwd_pixels c3 (inference)", c3.flops, () => k.conv2d_fwd_pixels(o("b"), o("a"), o("wt"), o("bias"), B, 6, 14, 14, 16, 5)],
  ["conv2d_bwd_input c3", c3.flops, () => k.conv2d_bwd_input(o("a"), o("dcol"), o("b"), o("w"), B, 6, 14, 14, 16, 5)],
  ["conv2d_bwd_filter c1", c1.flops, () => k.conv2d_bwd_filter(o("g"), o("gb"), o("b"), o("col"), B, 1, 32, 32, 6, 5)],
  ["conv2d_bwd_filter c3", c3.flops, () => k.conv2d_bwd_filter(o("g"), o("gb"), o("b"), o("col"), B, 6, 14, 14, 16, 5)],
  ["dense_fwd f5 (400->120)", 2 * B * 400 * 120, () => k.dense_fwd(o("e"), o("d"), o("w"), o("bias"), B, 400, 120)],
  ["dense_bwd_input f5", 2 * B * 400 * 120, () => k.dense_bwd_input(o("d"), o("e"), o("w"), B, 400, 120)],
  ["dense_bwd_weight f5", 2 * B * 400 * 120, () => k.dense_bwd_weight(o("g"), o("gb"), o("e"), o("d"), B, 400, 120)],
  ["avgpool2d_fwd c1 (6x28x28)", B * 6 * 28 * 28, () => k.avgpool2d_fwd(o("a"), o("b"), B, 6, 28, 28)],
  ["tanh_fwd c1 (6x28x28)", B * 6 * 28 * 28, () => k.tanh_fwd(o("b"), o("b"), B * 6 * 28 * 28)],
  ["adam_step (61,706 params)", 61720 * 10, () => k.adam_step(o("w"), o("g"), o("a"), o("b"), 61720, 1e-3, 0.9, 0.999, 1e-7)],
];

const threads = availableParallelism();
const results = { environment: { node: process.version, cpu: cpus()[0]?.model ?? "unknown", threads, cores: cpus().length }, ceiling_gflops: ceilingGflops, kernels: [], model: {} };
for (const [name, flops, fn] of kernels) {
  const s = time(fn);
  results.kernels.push({ name, batch: B, microseconds: s * 1e6, gflops: flops / s / 1e9, of_ceiling: flops / s / 1e9 / ceilingGflops });
}

// Whole model on real MNIST: training steps (batch 32) and inference (batch 1 and 1000).
const data = await readMnist();
const { train } = splitValidation(data.train, 5000);
const model = await LeNet5.create({ seed: 1, batchSize: B });
let next = 0;
const stepSeconds = time(() => {
  model.setBatch(train.images, train.labels, B, next);
  model.trainStep(B);
  next = (next + B) % (train.count - B);
});
// The same steps shared by all cores (bench/run.js's training figure above is 1 thread).
const parallel = await LeNet5.create({ seed: 1, batchSize: B });
const team = await DataParallel.start(parallel, threads, train, B);
const order = Uint32Array.from({ length: train.count }, (_, i) => i);
team.setOrder(order);
next = 0;
const parallelStepSeconds = time(() => {
  team.gradients(next, B);
  parallel.applyAdam();
  next = (next + B) % (train.count - B);
});
await team.close();
const batch1 = time(() => model.predict(data.test.images, 1));
// One predict() call on 1000 images (it runs them through in cache-sized chunks itself).
const batch1000 = time(() => model.predict(data.test.images, 1000));
results.model = {
  train_images_per_second: B / stepSeconds,
  train_step_ms: stepSeconds * 1e3,
  train_threads: threads,
  train_all_threads_images_per_second: B / parallelStepSeconds,
  train_all_threads_speedup: stepSeconds / parallelStepSeconds,
  infer_batch1_ms: batch1 * 1e3,
  infer_batch1000_images_per_second: 1000 / batch1000,
  peak_rss_mb: process.resourceUsage().maxRSS / 1024,
};
// Int8 inference (the same weights quantised, calibrated on 1000 training images), same measurements.
const int8 = await quantize(model.getWeights(), train.images.subarray(0, 1000 * 784));
const int8Batch1 = time(() => int8.predict(data.test.images, 1));
const int8Batch1000 = time(() => int8.predict(data.test.images, 1000));
results.int8 = {
  infer_batch1_ms: int8Batch1 * 1e3,
  infer_batch1000_images_per_second: 1000 / int8Batch1000,
  batch1_speedup: batch1 / int8Batch1,
  batch1000_speedup: batch1000 / int8Batch1000,
};
results.peers = runPeers(budget, results.model); // after our measurements, never alongside them

if (flags.json) {
  process.stdout.write(JSON.stringify(results) + "\n");
} else {
  const env = results.environment;
  console.log(`lenet-wasm bench | node ${env.node} | ${env.cpu} | threads 1 and ${env.threads} of ${env.cores} cores`);
  console.log(`f32x4 ceiling (12 mul+add chains, 1 thread): ${results.ceiling_gflops.toFixed(1)} GFLOP/s`);
  console.log("kernel                              batch      us/call   GFLOP/s  of ceiling");
  for (const x of results.kernels) console.log(`${x.name.padEnd(36)}${String(x.batch).padStart(5)}${x.microseconds.toFixed(1).padStart(13)}${x.gflops.toFixed(2).padStart(10)}${(100 * x.of_ceiling).toFixed(0).padStart(11)}%`);
  const m = results.model;
  console.log(`training, batch 32:        ${Math.round(m.train_images_per_second)} images/s (${m.train_step_ms.toFixed(2)} ms/step)`);
  console.log(`training, ${m.train_threads} threads:        ${Math.round(m.train_all_threads_images_per_second)} images/s (${m.train_all_threads_speedup.toFixed(2)}x 1 thread)`);
  console.log(`inference, batch 1:        ${m.infer_batch1_ms.toFixed(3)} ms/image`);
  console.log(`inference, batch 1000:     ${Math.round(m.infer_batch1000_images_per_second)} images/s`);
  console.log(`peak RSS:                  ${m.peak_rss_mb.toFixed(0)} MB`);
  console.log("(GFLOP/s for avgpool and tanh count one op per output element; adam counts 10 per parameter)");
  for (const line of peerLines(results.peers)) console.log(line);
  const q = results.int8;
  console.log(`int8 inference, batch 1:    ${q.infer_batch1_ms.toFixed(3)} ms/image (${q.batch1_speedup.toFixed(2)}x f32)`);
  console.log(`int8 inference, batch 1000: ${Math.round(q.infer_batch1000_images_per_second)} images/s (${q.batch1000_speedup.toFixed(2)}x f32)`);
}
