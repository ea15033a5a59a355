// A data-parallel training worker (see data-parallel.ts): waits for a batch, computes the gradients
// of its shards, each into its own shared slot, and reports back. Node worker_threads only.
import { parentPort, workerData } from "node:worker_threads";
import { COMMAND, CTL, shardRange, spinWait, type WorkerSetup } from "./data-parallel.js";
import { LeNet5, PARAMETER_BLOCK, SHARD_SIZE } from "./lenet.js";

const w = workerData as WorkerSetup;
const model = await LeNet5.create({ batchSize: w.capacity, fastMath: w.fastMath });
parentPort!.postMessage("ready");

let generation = 0;
for (;;) {
  spinWait(w.control, CTL.generation, generation, Infinity);
  generation = Atomics.load(w.control, CTL.generation);
  if (Atomics.load(w.control, CTL.command) === COMMAND.exit) break;
  try {
    const start = Atomics.load(w.control, CTL.batchStart), B = Atomics.load(w.control, CTL.batchSize);
    const [first, end] = shardRange(w.index, w.threads, Math.ceil(B / SHARD_SIZE));
    if (first < end) {
      model.parameterBlock().set(w.params);
      const firstImage = first * SHARD_SIZE, count = Math.min(end * SHARD_SIZE, B) - firstImage;
      model.setBatch(w.images, w.labels, count, start + firstImage, w.order);
      for (let s = first; s < end; s++) {
        const local = (s - first) * SHARD_SIZE, n = Math.min(SHARD_SIZE, B - s * SHARD_SIZE);
        model.zeroGradients();
        w.stats[2 * s] = model.accumulateGradients(n, B, local);
        w.stats[2 * s + 1] = model.correctInBatch(n, local);
        w.slots.set(model.gradientBlock(), s * PARAMETER_BLOCK);
      }
    }
  } catch (err) {
    new TextEncoder().encodeInto(String((err as Error).stack ?? err).slice(0, 1000), w.error);
    Atomics.store(w.control, CTL.failed, 1);
  }
  Atomics.add(w.control, CTL.done, 1);
  Atomics.notify(w.control, CTL.done);
}
