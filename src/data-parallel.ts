// Data-parallel training on several cores (Node worker_threads). Each worker owns a LeNet5 instance
// (its own WASM module and memory). A batch is cut into fixed shards of SHARD_SIZE images and every
// participant (this thread is participant 0) takes a contiguous run of them. This thread accumulates
// its own shards in place; each worker shard's gradient comes back separately through shared memory
// and is added in shard order, so the sum is rounded exactly as when one thread does everything:
// bit-identical weights for any thread count. Synchronisation is Atomics.wait/notify on a shared
// control block: no messages, no allocation per batch.
import { Worker } from "node:worker_threads";
import { LeNet5, PARAMETER_BLOCK, SHARD_SIZE } from "./lenet.js";
import type { Dataset } from "./mnist.js";

/** Slots of the shared control block (Int32Array). */
export const CTL = { generation: 0, done: 1, command: 2, batchStart: 3, batchSize: 4, failed: 5, length: 8 } as const;
export const COMMAND = { step: 1, exit: 2 } as const;

/** Everything a worker needs, all in shared memory. */
export interface WorkerSetup {
  index: number; // participant number, 1..threads-1
  threads: number;
  capacity: number;
  fastMath: boolean;
  control: Int32Array;
  order: Uint32Array;
  params: Float32Array;
  slots: Float32Array; // one PARAMETER_BLOCK per shard of a batch
  stats: Float64Array; // per shard: summed loss, correct predictions
  images: Uint8Array;
  labels: Uint8Array;
  error: Uint8Array; // UTF-8 message of a worker's failure
}

/**
 * Waits until control[slot] != value, or `timeoutMs`. Spins briefly first: the waits here are a
 * fraction of a millisecond, shorter than waking a blocked thread takes.
 */
export function spinWait(control: Int32Array, slot: number, value: number, timeoutMs: number): void {
  for (let i = 0; i < 20000; i++) if (Atomics.load(control, slot) !== value) return;
  Atomics.wait(control, slot, value, timeoutMs);
}

/** The contiguous shards [first, end) of participant p out of `threads`, for a batch of `shards`. */
export function shardRange(p: number, threads: number, shards: number): [number, number] {
  return [Math.floor((p * shards) / threads), Math.floor(((p + 1) * shards) / threads)];
}

function shared(bytes: number): SharedArrayBuffer {
  return new SharedArrayBuffer(Math.max(bytes, 8));
}

/** `a` itself when it already lives in shared memory (see node-io.ts), else a shared copy. */
function toShared(a: Uint8Array): Uint8Array {
  if (a.buffer instanceof SharedArrayBuffer) return a;
  const copy = new Uint8Array(shared(a.length), 0, a.length);
  copy.set(a);
  return copy;
}

/** A team of worker threads that, with the calling thread, computes one batch's gradient. */
export class DataParallel {
  private readonly setup: Omit<WorkerSetup, "index">;
  private readonly workers: Worker[] = [];
  private readonly shardsPerBatch: number;

  private constructor(private readonly model: LeNet5, readonly threads: number, data: Dataset, batchSize: number) {
    this.shardsPerBatch = Math.ceil(batchSize / SHARD_SIZE);
    this.setup = {
      threads,
      capacity: batchSize,
      fastMath: model.fastMath,
      control: new Int32Array(shared(CTL.length * 4)),
      order: new Uint32Array(shared(data.count * 4)),
      params: new Float32Array(shared(PARAMETER_BLOCK * 4)),
      slots: new Float32Array(shared(this.shardsPerBatch * PARAMETER_BLOCK * 4)),
      stats: new Float64Array(shared(this.shardsPerBatch * 2 * 8)),
      images: toShared(data.images),
      labels: toShared(data.labels),
      error: new Uint8Array(shared(1024)),
    };
  }

  /** Starts threads - 1 workers and waits until each has built its model. */
  static async start(model: LeNet5, threads: number, data: Dataset, batchSize: number): Promise<DataParallel> {
    const team = new DataParallel(model, threads, data, batchSize);
    const script = new URL("../build/train-worker.js", import.meta.url); // from src/ (tests) and build/ alike
    const ready: Promise<void>[] = [];
    for (let index = 1; index < threads; index++) {
      // Workers allocate almost nothing in JS (their tensors live in WASM memory): a small young generation.
      const worker = new Worker(script, { workerData: { ...team.setup, index } satisfies WorkerSetup, resourceLimits: { maxYoungGenerationSizeMb: 2 } });
      team.workers.push(worker);
      ready.push(new Promise((resolve, reject) => {
        worker.once("message", () => resolve());
        worker.once("error", reject);
        worker.once("exit", (code) => reject(new Error(`training worker ${index} exited (code ${code}) before it was ready`)));
      }));
    }
    try {
      await Promise.all(ready);
    } catch (err) {
      await team.close();
      throw err;
    }
    return team;
  }

  /** The epoch's shuffled image order, read by the workers. */
  setOrder(order: Uint32Array): void {
    this.setup.order.set(order);
  }

  /** Summed loss and correct predictions of the last batch given to gradients(). */
  loss = 0;
  correct = 0;

  /**
   * Gradient of the batch-mean loss of images order[start .. start + B) into the model's gradient
   * block; sets `loss` and `correct`. The model's weights are the ones used.
   */
  gradients(start: number, B: number, order: Uint32Array, images: Uint8Array, labels: Uint8Array): void {
    const { control, params, slots, stats } = this.setup;
    const model = this.model;
    params.set(model.parameterBlock());
    Atomics.store(control, CTL.batchStart, start);
    Atomics.store(control, CTL.batchSize, B);
    Atomics.store(control, CTL.done, 0);
    Atomics.store(control, CTL.command, COMMAND.step);
    Atomics.add(control, CTL.generation, 1);
    Atomics.notify(control, CTL.generation);

    // Our own shards, accumulated in place while the workers run theirs.
    const shards = Math.ceil(B / SHARD_SIZE);
    const [, mine] = shardRange(0, this.threads, shards);
    const count = Math.min(mine * SHARD_SIZE, B);
    model.zeroGradients();
    let loss = 0, correct = 0;
    if (count > 0) {
      model.setBatch(images, labels, count, start, order);
      loss = model.accumulateGradients(count, B);
      correct = model.correctInBatch(count);
    }
    this.wait();
    for (let s = mine; s < shards; s++) {
      model.addGradients(slots.subarray(s * PARAMETER_BLOCK, (s + 1) * PARAMETER_BLOCK));
      loss += stats[2 * s]!;
      correct += stats[2 * s + 1]!;
    }
    this.loss = loss;
    this.correct = correct;
  }

  private wait(): void {
    const { control } = this.setup;
    const started = Date.now();
    for (;;) {
      const done = Atomics.load(control, CTL.done);
      if (Atomics.load(control, CTL.failed) !== 0) {
        const message = new TextDecoder().decode(this.setup.error.slice()).replace(/\0+$/, "");
        throw new Error(`a training worker failed: ${message}`);
      }
      if (done >= this.threads - 1) return;
      if (Date.now() - started > 120_000) throw new Error("training workers stopped responding (no progress for 120 s)");
      spinWait(control, CTL.done, done, 1000);
    }
  }

  /** Stops the workers. */
  async close(): Promise<void> {
    const { control } = this.setup;
    Atomics.store(control, CTL.command, COMMAND.exit);
    Atomics.add(control, CTL.generation, 1);
    Atomics.notify(control, CTL.generation);
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
