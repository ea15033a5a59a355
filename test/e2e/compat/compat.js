// Runs lenet-wasm the ways a page uses it, in whatever engine loads it, and leaves the results in
// self.__compat for test/e2e/engines.test.ts to compare with Node, bit for bit.
import * as lib from "/lenet-wasm/lenet-wasm.js";
import * as inference from "/lenet-wasm/inference.js";
import { base64, testData } from "./shared.js";

const results = { userAgent: navigator.userAgent, errors: [] };
const step = async (name, run) => {
  self.__step = name;
  try {
    results[name] = await run();
  } catch (err) {
    results.errors.push(`${name}: ${err?.stack ?? err}`);
  }
};
/** A task for a new module Worker running worker.js; its one reply. */
const inWorker = (task) => new Promise((resolve, reject) => {
  const worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
  worker.onmessage = ({ data }) => {
    worker.terminate();
    if (data.error) reject(new Error(data.error));
    else resolve(data);
  };
  worker.onerror = (e) => reject(new Error(`worker: ${e.message}`));
  worker.postMessage(task);
});

// A module with one v128 constant: whether this engine has WebAssembly SIMD at all.
const SIMD = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11]);

const { test, train, weights } = await testData(lib);
self.__step = "start";
await step("features", async () => ({
  simd: WebAssembly.validate(SIMD),
  relaxedSimd: await lib.relaxedSimdSupported(),
  sharedMemory: typeof SharedArrayBuffer === "function",
  crossOriginIsolated: self.crossOriginIsolated === true,
  serviceWorker: "serviceWorker" in navigator,
}));
// The inference bundle (lenet-wasm/inference), f32 and int8 (calibrated on the 1000 training images).
await step("f32", async () => {
  const model = await inference.LeNet5.create();
  model.setWeights(weights);
  return base64(model.predict(test));
});
await step("int8", async () => base64((await inference.quantize(weights, train.images)).predict(test)));
// fastMath where the engine has relaxed SIMD; the deterministic build (fastMath false) where it has not.
await step("fastMath", async () => {
  const model = await inference.LeNet5.create({ fastMath: true });
  model.setWeights(weights);
  return { used: model.fastMath, probabilities: base64(model.predict(test, 50)) };
});
// The whole bundle in the page: the 1998 network's forward pass from its seeded weights.
await step("lenet1998", async () => base64((await lib.LeNet5.create({ arch: "lenet5-1998", seed: 5 })).predict(test, 100)));
await step("worker", async () => (await inWorker({ kind: "predict" })).probabilities);
await step("train1", async () => inWorker({ kind: "train", threads: 1 }));
await step("train2", async () => inWorker({ kind: "train", threads: 2 }));
await step("serviceWorker", async () => {
  await navigator.serviceWorker.register("./sw.js", { type: "module" });
  await navigator.serviceWorker.ready;
  if (!navigator.serviceWorker.controller) {
    await new Promise((resolve) => navigator.serviceWorker.addEventListener("controllerchange", resolve, { once: true }));
  }
  const reply = await (await fetch("./sw-predict")).json();
  if (reply.error) throw new Error(reply.error);
  return reply.probabilities;
});
self.__compat = results;
document.body.dataset.done = "1";
