// `npm run bench`: kernel GFLOP/s at the LeNet-5 shapes (and their fraction of the measured f32x4
// ceiling), training (1 thread and all cores) and inference throughput, peak memory. Keep the
// output format stable so numbers compare across commits.
// Then, if installed (`npm run bench:peers`), the same model in TensorFlow.js's wasm backend
// (bench/peers/), run afterwards in a child process, with ratios.
// Usage: npm run bench [-- --json] [-- --seconds S] [-- --only kernels]
// (--only kernels: the ceiling and the kernel table alone, no MNIST, training, inference or peers.)
import { readFileSync } from "node:fs";
import { availableParallelism, cpus } from "node:os";
import { parseArgs } from "node:util";
import { LeNet5, quantize, splitValidation } from "../build/index.js";
import { allocateRegions, loadKernels } from "../build/kernels.js";
import { readMnist } from "../build/node.js";
import { DataParallel } from "../build/train/data-parallel.js"; // internal: one training step on N threads
import { LENET5 } from "../build/model/networks.js"; // internal: the training kernels' scratch sizes
import { median } from "./median.js";
import { peerLines, runPeers } from "./peers/report.js";

const { values: flags } = parseArgs({ options: { json: { type: "boolean" }, seconds: { type: "string" }, only: { type: "string" } } });
const budget = Number(flags.seconds ?? 0.5); // seconds per measurement
if (flags.only !== undefined && flags.only !== "kernels") throw new RangeError(`--only takes "kernels", got ${JSON.stringify(flags.only)}`);
const kernelsOnly = flags.only === "kernels";

/** Runs fn repeatedly for ~budget seconds, 5 rounds; returns the median seconds per call. */
function time(fn) {
  return timePaired(fn).seconds;
}

// The machine's clock drifts (a shared VM here ran the same loop at 41.7 and 56.5 GFLOP/s minutes
// apart), so a ratio of two figures is taken between rounds timed side by side: 5 rounds of fn,
// each followed by a round of ref when there is one; the median seconds per call of each, and the
// median of the 5 round ratios fn/ref.
function timePaired(fn, ref) {
  const callsPerRound = (f) => {
    f();
    let calls = 1;
    for (let t = performance.now(); performance.now() - t < 20; calls++) f(); // calibrate on ~20 ms
    return Math.max(1, Math.round((calls * budget * 1000) / 20 / 5));
  };
  const round = (f, n) => {
    const t = performance.now();
    for (let i = 0; i < n; i++) f();
    return (performance.now() - t) / 1000 / n;
  };
  const n = callsPerRound(fn), m = ref === undefined ? 0 : callsPerRound(ref);
  const a = [], b = [], ratios = [];
  for (let r = 0; r < 5; r++) {
    a.push(round(fn, n));
    if (ref === undefined) continue;
    b.push(round(ref, m));
    ratios.push(a[r] / b[r]);
  }
  return { seconds: median(a), refSeconds: median(b), ratio: median(ratios) };
}

// The ceiling (bench/ceiling/): the better of two matrix-product inner loops, each accumulator
// adding a product of a loaded vector and a scalar, 8 flops per accumulator per iteration: 12
// accumulators with the scalars broadcast from memory (peak), 8 with them held in registers
// (peakHeld; where V8 spills one of peak's 12 accumulators, as on x86, peak is limited by that).
const { instance: ceilingModule } = await WebAssembly.instantiate(readFileSync(new URL("../build/ceiling.wasm", import.meta.url)));
const ceilingIterations = 100000;
const loops = {
  broadcast: { flops: 12 * 8 * ceilingIterations, run: () => ceilingModule.exports.peak(ceilingIterations) },
  held: { flops: 8 * 8 * ceilingIterations, run: () => ceilingModule.exports.peakHeld(ceilingIterations) },
};
const ceilingLoops = Object.fromEntries(Object.entries(loops).map(([name, l]) => [name, l.flops / time(l.run) / 1e9]));
const ceilingGflops = Math.max(ceilingLoops.broadcast, ceilingLoops.held);
// The better loop, timed again beside each kernel for its "of ceiling" column.
const ceiling = ceilingLoops.held >= ceilingLoops.broadcast ? loops.held : loops.broadcast;

const B = 32;
const k = await loadKernels();
const conv = (C, H, OC, K = 5) => ({ C, H, OC, K, OH: H - K + 1, flops: 2 * B * OC * (H - K + 1) ** 2 * C * K * K });
const c1 = conv(1, 32, 6), c3 = conv(6, 14, 16);

// Int8 conv weights (OC,C,K,K) in their kernels' int16 layouts, as src/model/int8.ts packs them:
// c1's rows (OC,C,K,ceil(K/2),2), a 0 after an odd kernel row's last tap (packConvWeightRows) ...
function packRows(weight, K) {
  const J = (K + 1) >> 1, rows = weight.length / K, packed = new Int16Array(rows * J * 2);
  for (let row = 0; row < rows; row++) packed.set(weight.subarray(row * K, (row + 1) * K), row * J * 2);
  return packed;
}
// ... and c3's channel pairs (ceil(C/2),K,K,OC,2), channel 2j and 2j+1 side by side (packConvWeightPixels).
function packPixels(weight, C, K) {
  const OC = weight.length / (C * K * K), packed = new Int16Array(((C + 1) >> 1) * K * K * OC * 2);
  for (let oc = 0; oc < OC; oc++) {
    for (let c = 0; c < C; c++) for (let t = 0; t < K * K; t++) packed[(((c >> 1) * K * K + t) * OC + oc) * 2 + (c & 1)] = weight[(oc * C + c) * K * K + t];
  }
  return packed;
}
const int8Weights = (n) => Int8Array.from({ length: n }, (_, i) => Math.round(127 * Math.sin(i)));
const q1w = packRows(int8Weights(6 * 25), 5), q3w = packPixels(int8Weights(16 * 6 * 25), 6, 5);
const words = (bytes) => Math.ceil(bytes / 4); // allocateRegions counts 4-byte elements

// The regions of the rows after the training ones (fused inference, int8, the 1998 network), after
// theirs so their offsets stay put; each row writes only its own outputs.
const more = {
  p2: B * 6 * 14 * 14, p4: B * 16 * 5 * 5, // fused (and int8) c1 and c3 outputs, f32
  u8in: words(B * 32 * 32), q2: words(B * 6 * 14 * 14), q4: words(B * 400), f5: B * 120, // int8 activations
  q1w: words(q1w.byteLength), q3w: words(q3w.byteLength), q5w: words(120 * 400), qscale: 120,
  qscratch: words(Math.max(k.conv2d_tanh_pool_rows_i8_scratch(1, 32, 32), k.conv2d_tanh_pool_pixels_i8_scratch(6, 14, 14))),
  s1: B * 6 * 28 * 28, ds1: B * 6 * 28 * 28, dc1: B * 6 * 28 * 28, s2: B * 6 * 14 * 14, ds2: B * 6 * 14 * 14, // 1998: squash, subsample
  coef: 16, cbias: 16, gcoef: 16, gcbias: 16,
  f6: B * 84, df6: B * 84, logits: B * 11, dlogits: B * 11, codes: 10 * 84, // 1998: RBF output
  pixels: words(B * 784), table: 256, input: B * 32 * 32, probs: B * 11, labels: B, ones: 2400, // batch input, softmax, mask
  // The training convolutions' scratch, as the networks size it: c3's input gradient (dcol3), c1's
  // and c3's weight-gradient sums between images (dw1, dw3), one image's packed patches (patches3).
  ...LENET5.scratch,
};
const r = allocateRegions(k.memory, k.heap_base(), { a: B * 6 * 32 * 32, col: B * 150 * 100 + B * 25 * 784, b: B * 6 * 28 * 28, w: 61720, wt: 2400, bias: 120, g: 61720, gb: 120, d: B * 400, e: B * 120, ...more });
const f32 = new Float32Array(k.memory.buffer);
for (let i = 0; i < f32.length - r.a.offset / 4; i++) f32[r.a.offset / 4 + i] = Math.sin(i) * 0.5; // finite data everywhere
const o = (n) => r[n].offset;
// conv2d_tanh_pool_pixels reads c3's weights transposed, as the model makes them; the int8 rows
// read int8 weights packed as their kernels expect, and small combined scales (weight x input scale).
k.conv2d_weight_t(o("wt"), o("w"), 16, 6 * 25);
new Int16Array(k.memory.buffer, o("q1w"), q1w.length).set(q1w);
new Int16Array(k.memory.buffer, o("q3w"), q3w.length).set(q3w);
new Int8Array(k.memory.buffer, o("q5w"), 120 * 400).set(int8Weights(120 * 400));
f32.fill(1e-4, o("qscale") / 4, o("qscale") / 4 + 120);
// Subsampling coefficients near the paper's initial range; squash_bwd's dout (dc1) and
// subsample2d_bwd's (ds2) are read only (avgpool2d_tanh_bwd writes dc1 from p2, not in place), so
// repeated calls never shrink them towards subnormals.
f32.fill(0.5, o("coef") / 4, o("coef") / 4 + 16);
// Labels are class numbers (the loss kernels index with them); the mask is ones, so repeated calls keep their values.
new Int32Array(k.memory.buffer, o("labels"), B).forEach((_, i, a) => (a[i] = i % 10));
f32.fill(1, o("ones") / 4, o("ones") / 4 + 2400);

const kernels = [
  ["conv2d_fwd c1 (1->6, 32x32)", c1.flops, () => k.conv2d_fwd(o("b"), o("col"), o("a"), o("w"), o("bias"), B, 1, 32, 32, 6, 5, true)],
  ["conv2d_fwd c3 (6->16, 14x14)", c3.flops, () => k.conv2d_fwd(o("b"), o("col"), o("a"), o("w"), o("bias"), B, 6, 14, 14, 16, 5, true)],
  // Inference reads the input directly (no im2col); the forms without the fused tanh and pooling.
  ["conv2d_fwd_rows c1 (inference)", c1.flops, () => k.conv2d_fwd_rows(o("b"), o("a"), o("w"), o("bias"), B, 1, 32, 32, 6, 5)],
  ["conv2d_fwd_pixels c3 (inference)", c3.flops, () => k.conv2d_fwd_pixels(o("b"), o("a"), o("wt"), o("bias"), B, 6, 14, 14, 16, 5)],
  // What inference runs: the same convolutions with tanh and the 2x2 pooling fused (flops: the convolution's).
  ["conv2d_tanh_pool_rows c1", c1.flops, () => k.conv2d_tanh_pool_rows(o("p2"), o("a"), o("w"), o("bias"), B, 1, 32, 32, 6, 5)],
  ["conv2d_tanh_pool_pixels c3", c3.flops, () => k.conv2d_tanh_pool_pixels(o("p4"), o("p2"), o("wt"), o("bias"), B, 6, 14, 14, 16, 5)],
  // What training runs for c1: the same, keeping tanh's output for the backward pass.
  ["conv2d_tanh_pool_rows_keep c1", c1.flops, () => k.conv2d_tanh_pool_rows_keep(o("p2"), o("s1"), o("a"), o("w"), o("bias"), B, 1, 32, 32, 6, 5)],
  ["conv2d_bwd_input c3", c3.flops, () => k.conv2d_bwd_input(o("a"), o("dcol3"), o("b"), o("w"), B, 6, 14, 14, 16, 5)],
  ["conv2d_bwd_weight c1", c1.flops, () => k.conv2d_bwd_weight(o("g"), o("gb"), o("b"), o("col"), B, 1, 32, 32, 6, 5)],
  // What training runs for c1: the weight gradient read from the input, so c1's forward pass needs no im2col.
  ["conv2d_bwd_weight_rows c1", c1.flops, () => k.conv2d_bwd_weight_rows(o("g"), o("gb"), o("dw1"), o("b"), o("a"), B, 1, 32, 32, 6)],
  ["conv2d_bwd_weight c3", c3.flops, () => k.conv2d_bwd_weight(o("g"), o("gb"), o("b"), o("col"), B, 6, 14, 14, 16, 5)],
  // What training runs for c3: the weight gradient read from the input, one image's patches packed at a time.
  ["conv2d_bwd_weight_packed c3", c3.flops, () => k.conv2d_bwd_weight_packed(o("g"), o("gb"), o("dw3"), o("patches3"), o("b"), o("a"), B, 6, 14, 14, 16, 5)],
  ["dense_fwd f5 (400->120)", 2 * B * 400 * 120, () => k.dense_fwd(o("e"), o("d"), o("w"), o("bias"), B, 400, 120)],
  ["dense_bwd_input f5", 2 * B * 400 * 120, () => k.dense_bwd_input(o("d"), o("e"), o("w"), B, 400, 120)],
  ["dense_bwd_weight f5", 2 * B * 400 * 120, () => k.dense_bwd_weight(o("g"), o("gb"), o("e"), o("d"), B, 400, 120)],
  // Int8 inference, in its order (GOP/s: an int8 multiply-add counts 2 ops; c1's padding taps of 0 are not counted).
  ["conv2d_tanh_pool_rows_i8 c1", c1.flops, () => k.conv2d_tanh_pool_rows_i8(o("p2"), o("qscratch"), o("u8in"), o("q1w"), o("qscale"), o("bias"), B, 1, 32, 32, 6, 5, true)],
  ["quantize_i8 p2 (6x14x14)", B * 6 * 14 * 14, () => k.quantize_i8(o("q2"), o("p2"), B * 6 * 14 * 14, 127)],
  ["conv2d_tanh_pool_pixels_i8 c3", c3.flops, () => k.conv2d_tanh_pool_pixels_i8(o("p4"), o("qscratch"), o("q2"), o("q3w"), o("qscale"), o("bias"), B, 6, 14, 14, 16, 5)],
  ["dense_fwd_i8 f5 (400->120)", 2 * B * 400 * 120, () => k.dense_fwd_i8(o("f5"), o("q4"), o("q5w"), o("qscale"), o("bias"), B, 400, 120)],
  ["avgpool2d_fwd c1 (6x28x28)", B * 6 * 28 * 28, () => k.avgpool2d_fwd(o("a"), o("b"), B, 6, 28, 28)],
  ["tanh_fwd c1 (6x28x28)", B * 6 * 28 * 28, () => k.tanh_fwd(o("b"), o("b"), B * 6 * 28 * 28)],
  // What training runs for the pooling's and tanh's gradients: both in one pass (o("b") holds tanh's output).
  ["avgpool2d_tanh_bwd c1 (6x28x28)", B * 6 * 28 * 28, () => k.avgpool2d_tanh_bwd(o("dc1"), o("p2"), o("b"), B, 6, 28, 28)],
  // The 1998 network's own layers (src/model/networks.ts paperNetwork): squashing, trainable subsampling, RBF output.
  ["squash_fwd c1 (6x28x28)", B * 6 * 28 * 28, () => k.squash_fwd(o("s1"), o("s1"), B * 6 * 28 * 28)],
  ["squash_fwd c3 (16x10x10)", B * 16 * 10 * 10, () => k.squash_fwd(o("s1"), o("s1"), B * 16 * 10 * 10)],
  ["squash_bwd c1 (6x28x28)", B * 6 * 28 * 28, () => k.squash_bwd(o("ds1"), o("dc1"), o("s1"), B * 6 * 28 * 28)],
  ["squash_bwd c3 (16x10x10)", B * 16 * 10 * 10, () => k.squash_bwd(o("ds1"), o("dc1"), o("s1"), B * 16 * 10 * 10)],
  ["subsample2d_fwd s2 (6x28x28)", B * 6 * 28 * 28, () => k.subsample2d_fwd(o("s2"), o("s1"), o("coef"), o("cbias"), B, 6, 28, 28)],
  ["subsample2d_fwd s4 (16x10x10)", B * 16 * 10 * 10, () => k.subsample2d_fwd(o("s2"), o("s1"), o("coef"), o("cbias"), B, 16, 10, 10)],
  ["subsample2d_bwd s2 (6x28x28)", B * 6 * 28 * 28, () => k.subsample2d_bwd(o("ds1"), o("gcoef"), o("gcbias"), o("ds2"), o("s1"), o("coef"), B, 6, 28, 28)],
  ["subsample2d_bwd s4 (16x10x10)", B * 16 * 10 * 10, () => k.subsample2d_bwd(o("ds1"), o("gcoef"), o("gcbias"), o("ds2"), o("s1"), o("coef"), B, 16, 10, 10)],
  ["rbf_fwd out (84->10)", 3 * B * 84 * 10, () => k.rbf_fwd(o("logits"), o("f6"), o("codes"), B, 84, 10, 3)],
  ["rbf_bwd_input out", 3 * B * 84 * 10, () => k.rbf_bwd_input(o("df6"), o("dlogits"), o("f6"), o("codes"), B, 84, 10)],
  // The rest of a step: the batch input, the loss, the inference softmax, block-wide helpers.
  ["images_to_input (28x28 -> 32x32)", B * 784, () => k.images_to_input(o("input"), o("pixels"), o("table"), B, 28, 32)],
  ["conv2d_weight_t c3 (16x150)", 16 * 150, () => k.conv2d_weight_t(o("wt"), o("w"), 16, 150)],
  ["softmax_fwd out (10)", B * 10, () => k.softmax_fwd(o("probs"), o("logits"), B, 10)],
  ["softmax_xent_fwd out (10)", B * 10, () => k.softmax_xent_fwd(o("probs"), o("logits"), o("labels"), B, 10)],
  ["softmax_xent_bwd out (10)", B * 10, () => k.softmax_xent_bwd(o("dlogits"), o("probs"), o("labels"), B, 10, 1 / B)],
  ["mask_f32 c3 mask (2400)", 2400, () => k.mask_f32(o("g"), o("ones"), 2400)],
  ["add_f32 gradients (61,720)", 61720, () => k.add_f32(o("g"), o("w"), 61720)],
  ["adam_step (61,706 params)", 61720 * 10, () => k.adam_step(o("w"), o("g"), o("a"), o("b"), 61720, 1e-3, 0.9, 0.999, 1e-7)],
];

const threads = availableParallelism();
const results = { environment: { node: process.version, cpu: cpus()[0]?.model ?? "unknown", threads, cores: cpus().length }, ceiling_gflops: ceilingGflops, ceiling_loops_gflops: ceilingLoops, kernels: [], model: {} };
for (const [name, flops, fn] of kernels) {
  // Of the ceiling timed in the rounds beside it: (flops / kernel s) / (ceiling flops / ceiling s).
  const { seconds: s, ratio } = timePaired(fn, ceiling.run);
  results.kernels.push({ name, batch: B, microseconds: s * 1e6, gflops: flops / s / 1e9, of_ceiling: flops / ceiling.flops / ratio });
}

if (!kernelsOnly) {
  // Whole model on real MNIST: training steps (batch 32) and inference (batch 1 and 1000).
  const data = await readMnist();
  const { train } = splitValidation(data.train, 5000);
  const model = await LeNet5.create({ seed: 1, batchSize: B });
  const batch = { images: train.images, labels: train.labels, count: B, start: 0 }; // updated per step, as train() does
  let next = 0;
  const step = () => {
    batch.start = next;
    model.setBatch(batch);
    model.trainStep(B);
    next = (next + B) % (train.count - B);
  };
  // The same steps shared by all cores, in rounds beside 1 thread's (the speedup is their ratio).
  const parallel = await LeNet5.create({ seed: 1, batchSize: B });
  const team = await DataParallel.start(parallel, threads, train, B, undefined, 1, false); // every step on all threads
  const order = Uint32Array.from({ length: train.count }, (_, i) => i);
  team.setOrder(order);
  let parallelNext = 0;
  const parallelStep = () => {
    team.gradients(parallelNext, B);
    parallel.applyAdam();
    parallelNext = (parallelNext + B) % (train.count - B);
  };
  const training = timePaired(step, parallelStep);
  await team.close();
  // Int8 inference (the same weights quantised, calibrated on 1000 training images), in rounds beside f32's.
  const int8 = await quantize(model.getWeights(), train.images.subarray(0, 1000 * 784));
  const batch1 = timePaired(() => model.predict(data.test.images, 1), () => int8.predict(data.test.images, 1));
  // One predict() call on 1000 images (it runs them through in cache-sized chunks itself).
  const batch1000 = timePaired(() => model.predict(data.test.images, 1000), () => int8.predict(data.test.images, 1000));
  results.model = {
    train_images_per_second: B / training.seconds,
    train_step_ms: training.seconds * 1e3,
    train_threads: threads,
    train_all_threads_images_per_second: B / training.refSeconds,
    train_all_threads_speedup: training.ratio,
    infer_batch1_ms: batch1.seconds * 1e3,
    infer_batch1000_images_per_second: 1000 / batch1000.seconds,
    peak_rss_mb: process.resourceUsage().maxRSS / 1024,
  };
  results.int8 = {
    infer_batch1_ms: batch1.refSeconds * 1e3,
    infer_batch1000_images_per_second: 1000 / batch1000.refSeconds,
    batch1_speedup: batch1.ratio,
    batch1000_speedup: batch1000.ratio,
  };
  // Each peer's ratios are to lenet-wasm measured again just before and just after it (the
  // geometric mean of the two), not to the figures above, minutes earlier.
  const ours = () => ({
    train_images_per_second: B / time(step),
    infer_batch1_ms: time(() => model.predict(data.test.images, 1)) * 1e3,
    infer_batch1000_images_per_second: 1000 / time(() => model.predict(data.test.images, 1000)),
    int8_infer_batch1000_images_per_second: 1000 / time(() => int8.predict(data.test.images, 1000)),
  });
  results.peers = runPeers(budget, ours); // after our measurements, never alongside them
}

if (flags.json) {
  process.stdout.write(JSON.stringify(results) + "\n");
} else {
  const env = results.environment;
  console.log(`lenet-wasm bench | node ${env.node} | ${env.cpu} | threads 1 and ${env.threads} of ${env.cores} cores`);
  const loops = results.ceiling_loops_gflops;
  console.log(`f32x4 ceiling (mul+add chains, 1 thread): ${results.ceiling_gflops.toFixed(1)} GFLOP/s (scalars broadcast from memory ${loops.broadcast.toFixed(1)}, held in registers ${loops.held.toFixed(1)})`);
  console.log("kernel                              batch      us/call   GFLOP/s  of ceiling");
  for (const x of results.kernels) console.log(`${x.name.padEnd(36)}${String(x.batch).padStart(5)}${x.microseconds.toFixed(1).padStart(13)}${x.gflops.toFixed(2).padStart(10)}${(100 * x.of_ceiling).toFixed(0).padStart(11)}%`);
  const m = results.model;
  if (!kernelsOnly) {
    console.log(`training, batch 32:        ${Math.round(m.train_images_per_second)} images/s (${m.train_step_ms.toFixed(2)} ms/step)`);
    console.log(`training, ${m.train_threads} threads:        ${Math.round(m.train_all_threads_images_per_second)} images/s (${m.train_all_threads_speedup.toFixed(2)}x 1 thread)`);
    console.log(`inference, batch 1:        ${m.infer_batch1_ms.toFixed(3)} ms/image`);
    console.log(`inference, batch 1000:     ${Math.round(m.infer_batch1000_images_per_second)} images/s`);
    console.log(`peak RSS:                  ${m.peak_rss_mb.toFixed(0)} MB`);
  }
  console.log("(GFLOP/s for avgpool, subsample, tanh, squash, quantize, the batch input, softmax and the block helpers count one op per element of their larger tensor; rbf 3 per input x code; adam counts 10 per parameter)");
  console.log("(of ceiling: against the ceiling's loop timed in rounds beside each kernel, as 2 threads beside 1, int8 beside f32 and lenet-wasm around each peer: the clock drifts)");
  console.log("(_i8 rows are GOP/s: an int8 multiply-add counts 2 ops, like a mul+add in GFLOP/s; their % is of the f32x4 ceiling)");
  console.log("(conv2d_fwd and conv2d_bwd_weight without a suffix: the im2col + GEMM kernels the direct ones are tested against, not run by training or inference)");
  if (!kernelsOnly) {
    for (const line of peerLines(results.peers)) console.log(line);
    const q = results.int8;
    console.log(`int8 inference, batch 1:    ${q.infer_batch1_ms.toFixed(3)} ms/image (${q.batch1_speedup.toFixed(2)}x f32)`);
    console.log(`int8 inference, batch 1000: ${Math.round(q.infer_batch1000_images_per_second)} images/s (${q.batch1000_speedup.toFixed(2)}x f32)`);
  }
}
