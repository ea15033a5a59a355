// Starting a data-parallel training worker in a browser: a module Web Worker running the bundle's
// train-worker.js (beside lenet-wasm.js), handed its shared memory by postMessage. Needs a
// cross-origin isolated page, and train() itself running in a Worker (Atomics.wait is not allowed
// on a page's main thread).
import { toWorkerMessage, type TrainingWorker, type WorkerSetup } from "./worker-setup.js";

export function spawnTrainingWorker(setup: WorkerSetup): TrainingWorker {
  if (typeof window !== "undefined") throw new Error("train({ threads > 1 }) must run inside a Web Worker in a browser (threads block while they wait for each other)");
  const worker = new Worker(new URL("./train-worker.js", import.meta.url), { type: "module", name: `lenet-wasm training ${setup.index}` });
  const ready = new Promise<void>((resolve, reject) => {
    worker.onmessage = (e: MessageEvent<"ready" | { error: string }>) => {
      if (e.data === "ready") resolve();
      else reject(new Error(`training worker ${setup.index} failed: ${e.data.error}`));
    };
    worker.onerror = (e) => reject(new Error(`training worker ${setup.index} failed to start: ${e.message}`));
  });
  worker.postMessage(toWorkerMessage(setup));
  return { ready, terminate: async () => worker.terminate() };
}
