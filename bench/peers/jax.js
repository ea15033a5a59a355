// Peer benchmark: jax-js (@jax-js/jax), the other library that trains convolutional networks in the
// browser: the same LeNet-5 written in it (conv 'same' + tanh + 2x2 average pool, conv 'valid' +
// tanh + pool, dense 120, 84, 10; Glorot-uniform weights; softmax cross-entropy; Adam with Keras's
// settings), one jit-compiled training step per batch of 32 on its Wasm backend, measured the way
// bench/run.js measures ours. Prints ONE JSON line to stdout.
// Usage: node bench/peers/jax.js [--seconds S]
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { defaultDevice, init, jit, lax, nn, numpy as np, random, tree, valueAndGrad } from "@jax-js/jax";
import { idx, measure } from "./measure.js";

const { values: flags } = parseArgs({ options: { seconds: { type: "string" } } });
const budget = Number(flags.seconds ?? 0.5);
if (!(budget > 0)) throw new Error(`--seconds must be a positive number, got ${flags.seconds}`);
await init("wasm"); // only the Wasm backend: Node has no WebGPU (and Node 20 no navigator to probe for it)
defaultDevice("wasm");
const version = JSON.parse(readFileSync(new URL("./node_modules/@jax-js/jax/package.json", import.meta.url), "utf8")).version;

const [k1, k2, k3, k4, k5] = random.split(random.key(1), 5);
const glorot = (k, shape, fanIn, fanOut) => {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  return random.uniform(k, shape, { minval: -limit, maxval: limit });
};
const KEYS = ["c1w", "c1b", "c3w", "c3b", "f5w", "f5b", "f6w", "f6b", "ow", "ob"];
let params = {
  c1w: glorot(k1, [6, 1, 5, 5], 25, 150), c1b: np.zeros([6]),
  c3w: glorot(k2, [16, 6, 5, 5], 150, 400), c3b: np.zeros([16]),
  f5w: glorot(k3, [400, 120], 400, 120), f5b: np.zeros([120]),
  f6w: glorot(k4, [120, 84], 120, 84), f6b: np.zeros([84]),
  ow: glorot(k5, [84, 10], 84, 10), ob: np.zeros([10]),
};
let m = tree.map((p) => np.zerosLike(p), tree.ref(params)), v = tree.map((p) => np.zerosLike(p), tree.ref(params));

const pool = (x, n, c, side) => x.reshape([n, c, side / 2, 2, side / 2, 2]).mean([3, 5]); // 2x2 average pooling
function logits(p, x) {
  const n = x.shape[0];
  let a = lax.conv(x, p.c1w, [1, 1], "SAME").add(p.c1b.reshape([1, 6, 1, 1]));
  a = pool(np.tanh(a), n, 6, 28);
  a = lax.conv(a, p.c3w, [1, 1], "VALID").add(p.c3b.reshape([1, 16, 1, 1]));
  a = pool(np.tanh(a), n, 16, 10).reshape([n, 400]);
  a = np.tanh(np.matmul(a, p.f5w).add(p.f5b));
  a = np.tanh(np.matmul(a, p.f6w).add(p.f6b));
  return np.matmul(a, p.ow).add(p.ob);
}
const loss = (p, x, y) => nn.logSoftmax(logits(p, x), -1).mul(y).sum().mul(-1 / x.shape[0]);
const [beta1, beta2, eps] = [0.9, 0.999, 1e-7];
/** One Adam step (Keras's form, as lenet-wasm's): alpha = lr * sqrt(1 - beta2^t) / (1 - beta1^t), given as an array. */
const step = jit((p, mOld, vOld, x, y, alpha) => {
  const [l, g] = valueAndGrad(loss)(tree.ref(p), x, y);
  const next = { p: {}, m: {}, v: {} };
  for (const k of KEYS) {
    const mk = mOld[k].mul(beta1).add(g[k].ref.mul(1 - beta1));
    const vk = vOld[k].mul(beta2).add(g[k].ref.mul(g[k]).mul(1 - beta2));
    next.p[k] = p[k].sub(mk.ref.mul(alpha.ref).div(np.sqrt(vk.ref).add(eps)));
    next.m[k] = mk;
    next.v[k] = vk;
  }
  alpha.dispose();
  return [next.p, next.m, next.v, l];
});
const predict = jit((p, x) => nn.softmax(logits(p, x), -1));

const trainImages = idx("train-images-idx3-ubyte", 16), trainLabels = idx("train-labels-idx1-ubyte", 8);
const testImages = idx("t10k-images-idx3-ubyte", 16);
const PIXELS = 784, B = 32, TRAIN_COUNT = 55000, LR = 1e-3;
/** count images from `start` as an [count,1,28,28] array in [0,1] (like lenet-wasm's setBatch). */
function imagesArray(images, start, count) {
  const f = new Float32Array(count * PIXELS);
  const src = images.subarray(start * PIXELS, (start + count) * PIXELS);
  for (let i = 0; i < f.length; i++) f[i] = src[i] / 255;
  return np.array(f).reshape([count, 1, 28, 28]);
}

let next = 0, t = 0, lastLoss = NaN;
const trainSeconds = await measure(async () => {
  t++;
  const x = imagesArray(trainImages, next, B);
  const y = nn.oneHot(np.array(Int32Array.from(trainLabels.subarray(next, next + B)), { dtype: np.int32 }), 10);
  const alpha = np.array([(LR * Math.sqrt(1 - beta2 ** t)) / (1 - beta1 ** t)]);
  let l;
  [params, m, v, l] = step(params, m, v, x, y, alpha);
  lastLoss = (await l.data())[0]; // reads the loss back, so the step has finished
  next = (next + B) % (TRAIN_COUNT - B);
}, budget, 5);
if (!Number.isFinite(lastLoss)) throw new Error(`jax-js training diverged: loss ${lastLoss}`);

const infer = (start, count) => async () => {
  const probs = predict(tree.ref(params), imagesArray(testImages, start, count));
  await probs.data();
};
const batch1 = await measure(infer(0, 1), budget, 20);
const batch1000 = await measure(infer(0, 1000), budget, 2);

process.stdout.write(JSON.stringify({
  peer: "jax-js",
  version,
  simd: true, // its generated Wasm kernels use f32x4 where they vectorise
  threads: 1,
  wasm_binary: null,
  train_images_per_second: B / trainSeconds,
  train_step_ms: trainSeconds * 1e3,
  train_note: `the same LeNet-5 in jax-js: one jit-compiled step (valueAndGrad + Adam) per batch of 32 on its Wasm backend (Node: no SharedArrayBuffer workers, 1 thread); loss after ${t} steps: ${lastLoss.toFixed(4)}`,
  infer_batch1_ms: batch1 * 1e3,
  infer_batch1000_images_per_second: 1000 / batch1000,
}) + "\n");
process.exit(0);
