// Data-parallel training on several cores: Node worker_threads or Web Workers (spawned by
// worker-spawn.ts / worker-spawn.browser.ts; this file is platform-neutral). Each worker owns a LeNet5
// instance (its own WASM module and memory). A batch is cut into fixed shards of SHARD_SIZE images;
// the threads taking part claim them one at a time: this thread from the front, the workers from
// the back. Each shard's gradient is added in shard order, so the sum is rounded exactly as when
// one thread does everything: bit-identical weights for any thread count and any claiming. How many
// threads take part is measured and adapted while training runs (team-size.ts). Synchronisation is
// Atomics.wait/notify on a shared control block: no messages, no allocation per batch.
import { isShared, type Dataset } from "../data/datasets.js";
import { distortion as writer, type Distortion } from "./augment.js";
import type { Batch, ImageWriter } from "../model/batches.js";
import { LeNet5, SHARD_SIZE } from "../model/lenet.js";
import { TeamSize } from "./team-size.js";
import { spawnTrainingWorker } from "./worker-spawn.js";
import type { TrainingWorker, WorkerSetup } from "./worker-setup.js";

export type { WorkerSetup };

/** Slots of the shared control block (Int32Array); worker i's wake word follows them, at CTL.length + i. */
const CTL = { claims: 0, done: 1, command: 2, batchStart: 3, batchSize: 4, failed: 5, epoch: 6, length: 7 } as const;
const COMMAND = { step: 1, exit: 2 } as const;
/** Most loads of a control word before a waiting thread blocks (see Waiter). */
const SPINS = 400_000;
/** Fewest: a wait that has kept missing still spins this long first (a few microseconds). */
const MIN_SPINS = 1_000;

/**
 * Waits until control[slot] != value. Spins first, up to `spins` loads (about 0.4 ms at most,
 * longer than the main thread's work between two batches: adding the shards, Adam, ~0.15 ms), as
 * waking a blocked thread takes tens of microseconds, a few percent of a step. But a spinning
 * thread holds a core: on a busy machine that is the core the thread it waits for needs. So the
 * spin adapts, like an adaptive mutex: a spin that ends in blocking halves the next one, a spin
 * that succeeds doubles it, between MIN_SPINS and SPINS.
 */
class Waiter {
  private spins = SPINS;

  wait(control: Int32Array, slot: number, value: number, timeoutMs: number): void {
    for (let i = 0; i < this.spins; i++) {
      if (Atomics.load(control, slot) !== value) {
        this.spins = Math.min(SPINS, this.spins * 2);
        return;
      }
    }
    this.spins = Math.max(MIN_SPINS, this.spins >> 1);
    Atomics.wait(control, slot, value, timeoutMs);
  }
}

/**
 * Claims the next shard of a batch: from the front (this thread) or from the back (workers).
 * control[CTL.claims] holds both ends, front in the low 16 bits and back in the high ones; the
 * shards [front, back) are unclaimed. Returns the shard, or -1 when none is left.
 */
function claim(control: Int32Array, fromFront: boolean): number {
  for (;;) {
    const ends = Atomics.load(control, CTL.claims), front = ends & 0xffff, back = ends >>> 16;
    if (front >= back) return -1;
    const next = fromFront ? ends + 1 : ends - 0x10000;
    if (Atomics.compareExchange(control, CTL.claims, ends, next) === ends) return fromFront ? front : back - 1;
  }
}

/** One view per shard of the shared gradient slots. */
function slotViews(slots: Float32Array, shards: number, length: number): Float32Array[] {
  return Array.from({ length: shards }, (_, s) => slots.subarray(s * length, (s + 1) * length));
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
  private readonly waiter = new Waiter();
  /** How many threads share each batch: all of them while that is fastest (see team-size.ts). */
  readonly size: TeamSize;

  private constructor(private readonly model: LeNet5, readonly threads: number, data: Dataset, batchSize: number, distortion: Distortion | undefined, seed: number, adaptive: boolean) {
    this.shardsPerBatch = Math.ceil(batchSize / SHARD_SIZE);
    if (this.shardsPerBatch > 0xffff) throw new RangeError(`batches of ${batchSize} images are too large to share between threads (at most ${0xffff * SHARD_SIZE}); use threads: 1`);
    this.size = new TeamSize(threads, adaptive);
    this.setup = {
      threads,
      arch: model.arch.name,
      classes: model.classes,
      fastMath: model.fastMath,
      control: new Int32Array(shared((CTL.length + threads) * 4)),
      order: new Uint32Array(shared(data.count * 4)),
      params: new Float32Array(shared(model.parameterBlockLength * 4)),
      slots: new Float32Array(shared(this.shardsPerBatch * model.shardGradient.length * 4)),
      stats: new Float64Array(shared(this.shardsPerBatch * 2 * 8)),
      images: toShared(data.images),
      labels: toShared(data.labels),
      error: new Uint8Array(shared(1024)),
      distortion: distortion ?? null,
      seed,
    };
    this.batch = { images: this.setup.images, labels: this.setup.labels, count: 0, start: 0, order: this.setup.order };
    this.slotViews = slotViews(this.setup.slots, this.shardsPerBatch, model.shardGradient.length);
  }

  /**
   * Starts threads - 1 workers and waits until each has built its model. `distortion` and `seed`:
   * how the training images are distorted, when they are (see augment.ts). `adaptive` false: every
   * batch uses all the threads (for measuring them).
   */
  static async start(model: LeNet5, threads: number, data: Dataset, batchSize: number, distortion?: Distortion, seed = 1, adaptive = true): Promise<DataParallel> {
    if (typeof SharedArrayBuffer === "undefined") {
      throw new Error("training on several threads needs SharedArrayBuffer: in a browser, a cross-origin isolated page (COOP/COEP headers); or use threads: 1");
    }
    const team = new DataParallel(model, threads, data, batchSize, distortion, seed, adaptive);
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

  /** This thread's shard of a batch, updated per shard. */
  private readonly batch: Batch;
  /** Each shard's gradient slot in shared memory (LeNet5.exportShardGradient's form), as a view made once. */
  private readonly slotViews: Float32Array[];

  /** Summed loss and correct predictions of the last batch given to gradients(). */
  loss = 0;
  correct = 0;

  /**
   * Gradient of the batch-mean loss of images order[start .. start + B) (the data given to start()
   * and the order given to setOrder()) into the model's gradient block; sets `loss` and `correct`.
   * The model's weights are the ones used. With a distortion (given to start()), `epoch` is the one
   * it is drawn for, and `write` this thread's writer for it (train/augment.ts's distortion()).
   *
   * The threads claim shards one at a time, so a thread the OS stops holds up only the shard it is
   * on. This thread claims from the front and accumulates its shards in place (they are always the
   * leading ones); the workers claim from the back, each shard's gradient into its slot, and the
   * slots are then added in shard order: the same sum, rounded the same way, as one thread
   * computing every shard in order.
   */
  gradients(start: number, B: number, epoch = 0, write?: ImageWriter): void {
    const started = performance.now();
    const { control, params, stats } = this.setup;
    const size = this.size.next();
    Atomics.store(control, CTL.epoch, epoch); // workers know the distortion and seed from start(); they need the epoch
    const model = this.model;
    params.set(model.parameterBlock());
    Atomics.store(control, CTL.batchStart, start);
    Atomics.store(control, CTL.batchSize, B);
    Atomics.store(control, CTL.done, 0);
    const shards = Math.ceil(B / SHARD_SIZE);
    Atomics.store(control, CTL.claims, shards << 16); // all of [0, shards) unclaimed
    Atomics.store(control, CTL.command, COMMAND.step);
    for (let w = 1; w < size; w++) { // only the workers taking part are woken
      Atomics.add(control, CTL.length + w, 1);
      Atomics.notify(control, CTL.length + w);
    }

    model.zeroGradients();
    let loss = 0, correct = 0, own = 0; // own: the leading shards, accumulated here in place
    const computing = performance.now();
    this.batch.distort = write;
    for (let s = claim(control, true); s >= 0; s = claim(control, true), own++) {
      const n = Math.min(SHARD_SIZE, B - s * SHARD_SIZE);
      this.batch.count = n;
      this.batch.start = start + s * SHARD_SIZE;
      model.setBatch(this.batch);
      loss += model.accumulateGradients(n, B);
      correct += model.correctInBatch(n);
    }
    const ownSeconds = (performance.now() - computing) / 1000;
    this.wait(size - 1);
    for (let s = own; s < shards; s++) { // the workers' shards, in order
      model.addShardGradient(this.slotViews[s]!, Math.min(SHARD_SIZE, B - s * SHARD_SIZE));
      loss += stats[2 * s]!;
      correct += stats[2 * s + 1]!;
    }
    this.loss = loss;
    this.correct = correct;
    // What one thread alone would have taken, at this thread's pace: how well the team shares the work.
    const alone = own > 0 ? (ownSeconds / own) * shards : undefined;
    this.size.record(size, (performance.now() - started) / 1000, B, alone);
  }

  /** Waits until `workers` workers have finished the batch. */
  private wait(workers: number): void {
    const { control } = this.setup;
    const started = Date.now();
    for (;;) {
      const done = Atomics.load(control, CTL.done);
      if (Atomics.load(control, CTL.failed) !== 0) {
        const message = new TextDecoder().decode(this.setup.error.slice()).replace(/\0+$/, "");
        throw new Error(`a training worker failed: ${message}`);
      }
      if (done >= workers) return;
      if (Date.now() - started > 120_000) throw new Error("training workers stopped responding (a batch took over 120 s)");
      this.waiter.wait(control, CTL.done, done, 1000);
    }
  }

  /** Stops the workers. */
  async close(): Promise<void> {
    const { control } = this.setup;
    Atomics.store(control, CTL.command, COMMAND.exit);
    for (let w = 1; w < this.threads; w++) {
      Atomics.add(control, CTL.length + w, 1);
      Atomics.notify(control, CTL.length + w);
    }
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/**
 * A worker's life (the body of train-worker.ts and train-worker.browser.ts): build a model, say
 * ready, then for every batch it is woken for, claim shards one at a time and compute each one's
 * gradient into its own shared slot, until there are none left; until told to exit. Blocks in
 * Atomics.wait between batches (allowed in workers) after an adaptive spin.
 */
export async function workerLoop(w: WorkerSetup, ready: () => void): Promise<void> {
  const model = await LeNet5.create({ arch: w.arch, classes: w.classes, batchSize: SHARD_SIZE, fastMath: w.fastMath });
  ready();
  const wake = CTL.length + w.index, waiter = new Waiter();
  const slots = slotViews(w.slots, w.stats.length / 2, model.shardGradient.length);
  let woken = 0, writerEpoch = -1;
  const batch: Batch = { images: w.images, labels: w.labels, count: 0, start: 0, order: w.order }; // updated per shard
  for (;;) {
    waiter.wait(w.control, wake, woken, Infinity);
    woken = Atomics.load(w.control, wake);
    if (Atomics.load(w.control, CTL.command) === COMMAND.exit) return;
    try {
      const start = Atomics.load(w.control, CTL.batchStart), B = Atomics.load(w.control, CTL.batchSize);
      let s = claim(w.control, false);
      if (s >= 0) model.parameterBlock().set(w.params);
      const epoch = Atomics.load(w.control, CTL.epoch);
      if (w.distortion && epoch !== writerEpoch) { // a new writer once per epoch, not per batch
        writerEpoch = epoch;
        batch.distort = writer({ distortion: w.distortion, seed: w.seed, epoch });
      }
      for (; s >= 0; s = claim(w.control, false)) {
        const n = Math.min(SHARD_SIZE, B - s * SHARD_SIZE);
        batch.count = n;
        batch.start = start + s * SHARD_SIZE;
        model.setBatch(batch);
        model.zeroGradients();
        w.stats[2 * s] = model.accumulateGradients(n, B, 0, false); // the dense weight gradients are made by the thread that adds the shard
        w.stats[2 * s + 1] = model.correctInBatch(n);
        model.exportShardGradient(slots[s]!);
      }
    } catch (err) {
      new TextEncoder().encodeInto(String((err as Error).stack ?? err).slice(0, 1000), w.error);
      Atomics.store(w.control, CTL.failed, 1);
    }
    Atomics.add(w.control, CTL.done, 1);
    Atomics.notify(w.control, CTL.done);
  }
}
