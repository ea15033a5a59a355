// Peer benchmark: TensorFlow.js 4.22 with the wasm backend (SIMD, 1 thread) on the same LeNet-5
// as lenet-wasm, measured the way bench/run.js measures ours. Prints ONE JSON line to stdout
// (everything else goes to stderr). Install the peers first: `npm run bench:peers`.
// Usage: node bench/peers/tfjs.js [--seconds S] [--check]
//   --seconds S  time budget per measurement (default 0.5, as bench/run.js)
//   --check      verify the JS kernel(s) this file adds against tfjs-backend-cpu, then exit
import { createRequire } from "node:module";
import { dirname, join, sep } from "node:path";
import { parseArgs } from "node:util";
import { idx, measure } from "./measure.js";

// The tfjs packages ship CommonJS for Node; require them all so they share one tfjs-core.
const require = createRequire(import.meta.url);
const tf = require("@tensorflow/tfjs-core");
const tfl = require("@tensorflow/tfjs-layers");
const wasm = require("@tensorflow/tfjs-backend-wasm");

const { values: flags } = parseArgs({ options: { seconds: { type: "string" }, check: { type: "boolean" } } });
const budget = Number(flags.seconds ?? 0.5);
if (!(budget > 0)) throw new Error(`--seconds must be a positive number, got ${flags.seconds}`);

// Keep stdout for the single JSON line: tfjs and its Emscripten glue may log.
const writeStdout = (s) => new Promise((resolve) => process.stdout.write(s, resolve));
console.log = console.info = (...a) => console.error(...a);

// ---------------------------------------------------------------------------------------------
// Kernels missing from tfjs-backend-wasm 4.22.0 that LeNet-5 training needs, in plain JS.
// Each is registered for 'wasm' only if the backend does not already have it.

let scratchX = new Float32Array(0), scratchDy = new Float32Array(0);
const jsKernelStats = { calls: 0, ms: 0 };

/**
 * Conv2DBackpropFilter (the weight gradient of Conv2D): dW[r,s,c,o] = sum over b,y,x of
 * input[b, y*SH + r - top, x*SW + s - left, c] * dy[b, y, x, o]. NHWC or NCHW input, filter
 * HWIO as everywhere in tfjs. The input is copied into zero-padded per-channel planes and dy
 * into per-channel planes, so the inner loops are contiguous dot products with no bounds checks;
 * for 5-wide filters at stride 1 (LeNet-5) a sliding window keeps 5 accumulators in registers.
 */
function conv2DBackpropFilter({ inputs, backend, attrs }) {
  const t0 = performance.now();
  const { x, dy } = inputs;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs;
  const info = tf.backend_util.computeConv2DInfo(x.shape, filterShape, strides, 1, pad, dimRoundingMode, false,
    tf.backend_util.convertConv2DDataFormat(dataFormat));
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW, outChannels: OC,
    filterHeight: FH, filterWidth: FW, strideHeight: SH, strideWidth: SW } = info;
  const top = info.padInfo.top, left = info.padInfo.left;
  const last = info.dataFormat === "channelsLast";
  // Allocate the output first: it may grow the wasm memory, which detaches older heap views.
  const out = backend.makeOutput(info.filterShape, "float32");
  const xv = backend.typedArrayFromHeap(x), dyv = backend.typedArrayFromHeap(dy), dw = backend.typedArrayFromHeap(out);

  // Zero-padded input planes [B][C][PH][PW] covering every position the filter visits.
  const PH = (OH - 1) * SH + FH, PW = (OW - 1) * SW + FW, plane = PH * PW;
  if (scratchX.length < B * C * plane) scratchX = new Float32Array(B * C * plane);
  const xp = scratchX;
  xp.fill(0, 0, B * C * plane);
  const [xsB, xsR, xsC, xsCh] = last ? [H * W * C, W * C, C, 1] : [C * H * W, W, 1, H * W];
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < C; c++) {
      for (let r = 0; r < H && r + top < PH; r++) {
        if (r + top < 0) continue;
        const src = b * xsB + r * xsR + c * xsCh, dst = ((b * C + c) * PH + r + top) * PW + left;
        for (let q = Math.max(0, -left); q < W && q + left < PW; q++) xp[dst + q] = xv[src + q * xsC];
      }
    }
  }
  // dy planes [B][OC][OH][OW].
  const oplane = OH * OW;
  if (scratchDy.length < B * OC * oplane) scratchDy = new Float32Array(B * OC * oplane);
  const dp = scratchDy;
  if (last) {
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < oplane; i++) {
        const src = (b * oplane + i) * OC, dst = b * OC * oplane + i;
        for (let o = 0; o < OC; o++) dp[dst + o * oplane] = dyv[src + o];
      }
    }
  } else {
    dp.set(dyv.subarray(0, B * OC * oplane));
  }

  for (let o = 0; o < OC; o++) {
    for (let c = 0; c < C; c++) {
      for (let r = 0; r < FH; r++) {
        const wBase = (r * FW * C + c) * OC + o; // dW[r, s, c, o] = dw[wBase + s * C * OC]
        if (FW === 5 && SW === 1) {
          let a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0;
          for (let b = 0; b < B; b++) {
            const xb = (b * C + c) * plane + r * PW, db = (b * OC + o) * oplane;
            for (let y = 0; y < OH; y++) {
              const xi = xb + y * SH * PW, di = db + y * OW;
              let x0 = xp[xi], x1 = xp[xi + 1], x2 = xp[xi + 2], x3 = xp[xi + 3];
              for (let q = 0; q < OW; q++) {
                const x4 = xp[xi + q + 4], d = dp[di + q];
                a0 += x0 * d; a1 += x1 * d; a2 += x2 * d; a3 += x3 * d; a4 += x4 * d;
                x0 = x1; x1 = x2; x2 = x3; x3 = x4;
              }
            }
          }
          const s = C * OC;
          dw[wBase] = a0; dw[wBase + s] = a1; dw[wBase + 2 * s] = a2; dw[wBase + 3 * s] = a3; dw[wBase + 4 * s] = a4;
        } else {
          for (let s = 0; s < FW; s++) {
            let acc = 0;
            for (let b = 0; b < B; b++) {
              const xb = (b * C + c) * plane + r * PW + s, db = (b * OC + o) * oplane;
              for (let y = 0; y < OH; y++) {
                const xi = xb + y * SH * PW, di = db + y * OW;
                for (let q = 0; q < OW; q++) acc += xp[xi + q * SW] * dp[di + q];
              }
            }
            dw[wBase + s * C * OC] = acc;
          }
        }
      }
    }
  }
  jsKernelStats.calls++;
  jsKernelStats.ms += performance.now() - t0;
  return out;
}

const JS_KERNELS = [{ kernelName: "Conv2DBackpropFilter", kernelFunc: conv2DBackpropFilter }];
/** Registers the JS kernels that the wasm backend lacks; returns the names registered. */
function registerMissingKernels() {
  const added = [];
  for (const { kernelName, kernelFunc } of JS_KERNELS) {
    if (tf.getKernel(kernelName, "wasm") == null) {
      tf.registerKernel({ kernelName, backendName: "wasm", kernelFunc });
      added.push(kernelName);
    }
  }
  return added;
}

// ---------------------------------------------------------------------------------------------
// Backend: tfjs-backend-wasm, 1 thread, binaries from the package's own dist/ folder (in Node
// the Emscripten glue reads them with fs, so a plain directory path works). The loader picks
// tfjs-backend-wasm-simd.wasm when WASM_HAS_SIMD_SUPPORT is true; we also record which binary
// it actually read.

const wasmDist = join(dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json")), "dist") + sep;
const addedKernels = registerMissingKernels();
wasm.setThreadsCount(1);
wasm.setWasmPaths(wasmDist);
const fs = require("node:fs");
const readFileSyncOrig = fs.readFileSync;
let wasmBinary = null;
fs.readFileSync = function (file, ...rest) {
  if (String(file).endsWith(".wasm")) wasmBinary = String(file).split(/[\\/]/).pop();
  return readFileSyncOrig.call(this, file, ...rest);
};
try {
  if (!(await tf.setBackend("wasm"))) throw new Error("tf.setBackend('wasm') failed");
} finally {
  fs.readFileSync = readFileSyncOrig;
}
const simd = Boolean(await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT"));
const threads = wasm.getThreadsCount();

// ---------------------------------------------------------------------------------------------
// The model, as in the reference Keras article (and lenet-wasm): 28x28x1 in [0,1].

function lenet5() {
  const model = tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [28, 28, 1], filters: 6, kernelSize: 5, padding: "same", activation: "tanh" }),
      tfl.layers.averagePooling2d({ poolSize: 2 }),
      tfl.layers.conv2d({ filters: 16, kernelSize: 5, padding: "valid", activation: "tanh" }),
      tfl.layers.averagePooling2d({ poolSize: 2 }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 120, activation: "tanh" }),
      tfl.layers.dense({ units: 84, activation: "tanh" }),
      tfl.layers.dense({ units: 10, activation: "softmax" }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(1e-3, 0.9, 0.999, 1e-7), loss: "sparseCategoricalCrossentropy" });
  return model;
}

// ---------------------------------------------------------------------------------------------
// --check: the added kernel(s) against tfjs-backend-cpu's, then whole-model gradients wasm vs cpu.

async function check() {
  require("@tensorflow/tfjs-backend-cpu");
  const rand = (n, seed) => Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 1000 + i * 12.9898) * 0.5);
  const on = async (backend, fn) => { await tf.setBackend(backend); return fn(); };
  const maxRelErr = (a, b) => {
    let err = 0, scale = 1e-6;
    for (let i = 0; i < a.length; i++) { err = Math.max(err, Math.abs(a[i] - b[i])); scale = Math.max(scale, Math.abs(b[i])); }
    return err / scale;
  };
  let ok = true;
  const cases = [
    { name: "c1 shape, same", x: [4, 28, 28, 1], f: [5, 5, 1, 6], strides: 1, pad: "same", dataFormat: "NHWC" },
    { name: "c3 shape, valid", x: [4, 14, 14, 6], f: [5, 5, 6, 16], strides: 1, pad: "valid", dataFormat: "NHWC" },
    { name: "3x3 stride 2, same", x: [2, 9, 8, 3], f: [3, 3, 3, 4], strides: 2, pad: "same", dataFormat: "NHWC" },
    { name: "5x5 stride [2,1], explicit pad", x: [2, 11, 10, 2], f: [5, 5, 2, 3], strides: [2, 1], pad: [[0, 0], [1, 2], [2, 0], [0, 0]], dataFormat: "NHWC" },
    { name: "c3 shape, NCHW", x: [2, 6, 14, 14], f: [5, 5, 6, 16], strides: 1, pad: "valid", dataFormat: "NCHW" },
  ];
  for (const k of cases) {
    const fmt = tf.backend_util.convertConv2DDataFormat(k.dataFormat);
    const info = tf.backend_util.computeConv2DInfo(k.x, k.f, k.strides, 1, k.pad, undefined, false, fmt);
    const xs = rand(k.x.reduce((a, b) => a * b), 1), dys = rand(info.outShape.reduce((a, b) => a * b), 2);
    const attrs = { strides: k.strides, pad: k.pad, dataFormat: k.dataFormat, filterShape: k.f };
    const run = () => tf.tidy(() => tf.engine().runKernel("Conv2DBackpropFilter", { x: tf.tensor(xs, k.x), dy: tf.tensor(dys, info.outShape) }, attrs).dataSync().slice());
    const ref = await on("cpu", run), calls = jsKernelStats.calls, got = await on("wasm", run);
    if (jsKernelStats.calls !== calls + 1) throw new Error("the wasm run did not use the JS kernel");
    const err = maxRelErr(got, ref);
    ok &&= err < 1e-5;
    console.error(`Conv2DBackpropFilter ${k.name}: max |wasm-js - cpu| / max |cpu| = ${err.toExponential(2)}`);
  }
  // Whole-model gradients of the loss on a real-looking batch, same weights on both backends.
  await tf.setBackend("wasm");
  const model = lenet5();
  const x = tf.tensor4d(rand(8 * 784, 3).map((v) => v + 0.5), [8, 28, 28, 1]), y = tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7], "float32");
  const grads = () => {
    const loss = () => tf.neg(tf.mean(tf.sum(tf.mul(tf.oneHot(tf.cast(y, "int32"), 10), tf.log(model.apply(x, { training: true }))), -1)));
    const { grads: g } = tf.variableGrads(loss);
    return Object.fromEntries(Object.entries(g).map(([n, t]) => [n, t.dataSync().slice()]));
  };
  const ref = await on("cpu", grads), got = await on("wasm", grads);
  for (const name of Object.keys(ref)) {
    const err = maxRelErr(got[name], ref[name]);
    ok &&= err < 1e-4;
    console.error(`model gradient ${name}: max rel err ${err.toExponential(2)}`);
  }
  console.error(ok ? "check passed" : "check FAILED");
  process.exitCode = ok ? 0 : 1;
}

if (flags.check) {
  await check();
  process.exit();
}

// ---------------------------------------------------------------------------------------------
const time = (fn, warmup, afterWarmup) => measure(fn, budget, warmup, afterWarmup);
const trainImages = idx("train-images-idx3-ubyte", 16), trainLabels = idx("train-labels-idx1-ubyte", 8);
const testImages = idx("t10k-images-idx3-ubyte", 16);
const PIXELS = 784, B = 32, TRAIN_COUNT = 55000; // lenet-wasm's bench holds out the last 5000 for validation
/** count images from `start` as a [count,28,28,1] float tensor in [0,1] (like lenet-wasm's setBatch). */
function imagesTensor(images, start, count) {
  const f = new Float32Array(count * PIXELS);
  const src = images.subarray(start * PIXELS, (start + count) * PIXELS);
  for (let i = 0; i < f.length; i++) f[i] = src[i] / 255;
  return tf.tensor4d(f, [count, 28, 28, 1]);
}

const model = lenet5();
let next = 0;
let trainSeconds = null, trainError = null;
let statsBefore = { ...jsKernelStats }, steps = 0;
const phase = (what) => console.error(`tfjs.js: ${what} (${(performance.now() / 1e3).toFixed(1)} s)`);
phase("training");
try {
  trainSeconds = await time(async () => {
    const xs = imagesTensor(trainImages, next, B);
    const ys = tf.tensor1d(trainLabels.subarray(next, next + B), "float32");
    await model.trainOnBatch(xs, ys); // reads the loss back, so the step has finished
    tf.dispose([xs, ys]);
    next = (next + B) % (TRAIN_COUNT - B);
    steps++;
  }, 5, () => { statsBefore = { ...jsKernelStats }; steps = 0; });
} catch (e) {
  trainError = e;
}
const jsMsPerStep = steps > 0 ? (jsKernelStats.ms - statsBefore.ms) / steps : 0;

const predict = (start, count) => () => {
  const xs = imagesTensor(testImages, start, count);
  const probs = model.predict(xs, { batchSize: count }); // one batch (predict's default is 32)
  probs.dataSync();
  tf.dispose([xs, probs]);
};
phase("inference, batch 1");
const batch1 = await time(predict(0, 1), 20);
phase("inference, batch 1000");
const batch1000 = await time(predict(0, 1000), 2);
phase("done");

let trainNote;
if (trainError) {
  trainNote = `training failed on tfjs-backend-wasm: ${trainError.message}`;
} else if (addedKernels.length === 0) {
  trainNote = "all kernels are tfjs-backend-wasm's own; the bench added none";
} else {
  trainNote = `tfjs-backend-wasm ${wasm.version_wasm} has no ${addedKernels.join(", ")} kernel; bench/peers/tfjs.js registers `
    + `${addedKernels.length === 1 ? "one" : "them"} for 'wasm' in plain JS (checked against tfjs-backend-cpu by --check), `
    + `used for both conv layers' weight gradients: ${jsMsPerStep.toFixed(2)} of ${(trainSeconds * 1e3).toFixed(2)} ms per step `
    + `(${((jsMsPerStep / 1e3 / trainSeconds) * 100).toFixed(0)}%); every other kernel is tfjs-backend-wasm's own`;
}

const result = {
  peer: "tfjs-wasm",
  version: wasm.version_wasm,
  simd,
  threads,
  wasm_binary: wasmBinary,
  train_images_per_second: trainSeconds == null ? null : B / trainSeconds,
  train_step_ms: trainSeconds == null ? null : trainSeconds * 1e3,
  train_js_kernel_ms_per_step: trainSeconds == null ? null : jsMsPerStep,
  train_note: trainNote,
  infer_batch1_ms: batch1 * 1e3,
  infer_batch1000_images_per_second: 1000 / batch1000,
};
await writeStdout(JSON.stringify(result) + "\n");
process.exit(0);
