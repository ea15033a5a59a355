// Starting a data-parallel training worker in Node (worker_threads). The browser bundle uses
// worker-spawn.browser.ts instead; data-parallel.ts is the same on both.
import { Worker } from "node:worker_threads";
import { toWorkerMessage, type TrainingWorker, type WorkerSetup } from "./worker-setup.js";

export function spawnTrainingWorker(setup: WorkerSetup): TrainingWorker {
  const script = new URL("../../build/train/train-worker.js", import.meta.url); // from src/ (tests) and build/ alike
  // Workers allocate almost nothing in JS (their tensors live in WASM memory): a small young generation.
  const worker = new Worker(script, { workerData: toWorkerMessage(setup), resourceLimits: { maxYoungGenerationSizeMb: 2 } });
  const ready = new Promise<void>((resolve, reject) => {
    worker.once("message", () => resolve());
    worker.once("error", reject);
    worker.once("exit", (code) => reject(new Error(`training worker ${setup.index} exited (code ${code}) before it was ready`)));
  });
  return { ready, terminate: () => worker.terminate() };
}
