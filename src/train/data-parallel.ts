// Data-parallel training on several cores: Node worker_threads or Web Workers (spawned by
// worker-spawn.ts / worker-spawn.browser.ts; this file is platform-neutral). Each worker owns a LeNet5
// instance (its own WASM module and memory). A batch is cut into fixed shards of SHARD_SIZE images and every
// participant (this thread is participant 0) takes a contiguous run of them. This thread accumulates
// its own shards in place; each worker shard's gradient comes back separately through shared memory
// and is added in shard order, so the sum is rounded exactly as when one thread does everything:
// bit-identical weights for any thread count. Synchronisation is Atomics.wait/notify on a shared
// control block: no messages, no allocation per batch.
import { isShared, type Dataset } from "../data/datasets.js";
import { distortion as writer, type Distortion } from "./augment.js";
import type { Batch, ImageWriter } from "../model/batches.js";
import { LeNet5, SHARD_SIZE } from "../model/lenet.js";
import { spawnTrainingWorker } from "./worker-spawn.js";
import type { TrainingWorker, WorkerSetup } from "./worker-setup.js";

export type { WorkerSetup };

/** Slots of the shared control block (Int32Array). */
const CTL = { generation: 0, done: 1, command: 2, batchStart: 3, batchSize: 4, failed: 5, epoch: 6, length: 7 } as const;
const COMMAND = { step: 1, exit: 2 } as const;
/** Loads of the control word before a waiting thread blocks (see spinWait). */
const SPINS = 400_000;

/**
 * Waits until control[slot] != value, or `timeoutMs`. Spins first (SPINS loads, about 0.4 ms here),
 * longer than the main thread's work between two batches (adding the shards, Adam: ~0.15 ms):
 * waking a blocked thread takes tens of microseconds, a few percent of a step. 20,000 spins were
 * too few to bridge that gap (measured 2-3% slower with 2 threads).
 */
function spinWait(control: Int32Array, slot: number, value: number, timeoutMs: number): void {
  for (let i = 0; i < SPINS; i++) if (Atomics.load(control, slot) !== value) return;
  Atomics.wait(control, slot, value, timeoutMs);
}

/** The contiguous shards [first, end) of participant p out of `threads`, for a batch of `shards`. */
function shardRange(p: number, threads: number, shards: number): [number, number] {
  return [Math.floor((p * shards) / threads), Math.floor(((p + 1) * shards) / threads)];
}

function shared(bytes: number): SharedArrayBuffer {
  return new SharedArrayBuffer(Math.max(bytes, 8));
}

/** `a` itself when it already lives in shared memory (see data/node-files.ts), else a shared copy. */
function toShared(a: Uint8Array): Uint8Array {
  if (isShared(a)) return a;
  const copy = new Uint8Array(shared(a.length), 0, a.length);
  copy.set(a);
  return copy;
}

/** A team of worker threads that, with the calling thread, computes one batch's gradient. */
export class DataParallel {
  private readonly setup: Omit<WorkerSetup, "index">;
  private readonly workers: TrainingWorker[] = [];
  private readonly shardsPerBatch: number;

  private constructor(private readonly model: LeNet5, readonly threads: number, data: Dataset, batchSize: number, distortion: Distortion | undefined, seed: number) {
    this.shardsPerBatch = Math.ceil(batchSize / SHARD_SIZE);
    this.setup = {
      threads,
      capacity: Math.ceil(this.shardsPerBatch / threads) * SHARD_SIZE, // a worker's share of a batch, at most
      arch: model.arch.name,
      classes: model.classes,
      fastMath: model.fastMath,
      control: new Int32Array(shared(CTL.length * 4)),
      order: new Uint32Array(shared(data.count * 4)),
      params: new Float32Array(shared(model.parameterBlockLength * 4)),
      slots: new Float32Array(shared(this.shardsPerBatch * model.parameterBlockLength * 4)),
      stats: new Float64Array(shared(this.shardsPerBatch * 2 * 8)),
      images: toShared(data.images),
      labels: toShared(data.labels),
      error: new Uint8Array(shared(1024)),
      distortion: distortion ?? null,
      seed,
    };
    this.batch = { images: this.setup.images, labels: this.setup.labels, count: 0, start: 0, order: this.setup.order };
    const block = model.parameterBlockLength;
    this.slotViews = Array.from({ length: this.shardsPerBatch }, (_, s) => this.setup.slots.subarray(s * block, (s + 1) * block));
  }

  /**
   * Starts threads - 1 workers and waits until each has built its model. `distortion` and `seed`:
   * how the training images are distorted, when they are (see augment.ts).
   */
  static async start(model: LeNet5, threads: number, data: Dataset, batchSize: number, distortion?: Distortion, seed = 1): Promise<DataParallel> {
    if (typeof SharedArrayBuffer === "undefined") {
      throw new Error("training on several threads needs SharedArrayBuffer: in a browser, a cross-origin isolated page (COOP/COEP headers); or use threads: 1");
    }
    const team = new DataParallel(model, threads, data, batchSize, distortion, seed);
    try {
      for (let index = 1; index < threads; index++) team.workers.push(spawnTrainingWorker({ ...team.setup, index }));
      await Promise.all(team.workers.map((w) => w.ready));
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

  /** This thread's share of a batch, updated per batch. */
  private readonly batch: Batch;
  /** Each shard's gradient slot in shared memory, as a view made once. */
  private readonly slotViews: Float32Array[];

  /** Summed loss and correct predictions of the last batch given to gradients(). */
  loss = 0;
  correct = 0;

  /**
   * Gradient of the batch-mean loss of images order[start .. start + B) (the data given to start()
   * and the order given to setOrder()) into the model's gradient block; sets `loss` and `correct`.
   * The model's weights are the ones used. With a distortion (given to start()), `epoch` is the one
   * it is drawn for, and `write` this thread's writer for it (train/augment.ts's distortion()).
   */
  gradients(start: number, B: number, epoch = 0, write?: ImageWriter): void {
    const { control, params, stats } = this.setup;
    // Workers know the distortion and seed from start(); they need the epoch.
    Atomics.store(control, CTL.epoch, epoch);
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
      this.batch.count = count;
      this.batch.start = start;
      this.batch.distort = write;
      model.setBatch(this.batch);
      loss = model.accumulateGradients(count, B);
      correct = model.correctInBatch(count);
    }
    this.wait();
    for (let s = mine; s < shards; s++) {
      model.addGradients(this.slotViews[s]!);
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
      if (Date.now() - started > 120_000) throw new Error("training workers stopped responding (a batch took over 120 s)");
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

/**
 * A worker's life (the body of train-worker.ts and train-worker.browser.ts): build a model, say
 * ready, then for every batch compute the gradients of this worker's shards, each into its own
 * shared slot, until told to exit. Blocks in Atomics.wait between batches (allowed in workers).
 */
export async function workerLoop(w: WorkerSetup, ready: () => void): Promise<void> {
  const model = await LeNet5.create({ arch: w.arch, classes: w.classes, batchSize: w.capacity, fastMath: w.fastMath });
  ready();
  let generation = 0, writerEpoch = -1, write: ImageWriter | undefined;
  const batch: Batch = { images: w.images, labels: w.labels, count: 0, start: 0, order: w.order }; // updated per batch
  for (;;) {
    spinWait(w.control, CTL.generation, generation, Infinity);
    generation = Atomics.load(w.control, CTL.generation);
    if (Atomics.load(w.control, CTL.command) === COMMAND.exit) return;
    try {
      const start = Atomics.load(w.control, CTL.batchStart), B = Atomics.load(w.control, CTL.batchSize);
      const [first, end] = shardRange(w.index, w.threads, Math.ceil(B / SHARD_SIZE));
      if (first < end) {
        model.parameterBlock().set(w.params);
        const firstImage = first * SHARD_SIZE, count = Math.min(end * SHARD_SIZE, B) - firstImage;
        const epoch = Atomics.load(w.control, CTL.epoch);
        if (w.distortion && epoch !== writerEpoch) { // a new writer once per epoch, not per batch
          writerEpoch = epoch;
          write = writer({ distortion: w.distortion, seed: w.seed, epoch });
        }
        batch.count = count;
        batch.start = start + firstImage;
        batch.distort = write;
        model.setBatch(batch);
        for (let s = first; s < end; s++) {
          const local = (s - first) * SHARD_SIZE, n = Math.min(SHARD_SIZE, B - s * SHARD_SIZE);
          model.zeroGradients();
          w.stats[2 * s] = model.accumulateGradients(n, B, local);
          w.stats[2 * s + 1] = model.correctInBatch(n, local);
          w.slots.set(model.gradientBlock(), s * model.parameterBlockLength);
        }
      }
    } catch (err) {
      new TextEncoder().encodeInto(String((err as Error).stack ?? err).slice(0, 1000), w.error);
      Atomics.store(w.control, CTL.failed, 1);
    }
    Atomics.add(w.control, CTL.done, 1);
    Atomics.notify(w.control, CTL.done);
  }
}
