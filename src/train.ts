// The training loop: seeded shuffle each epoch, batches, Adam, validation, callbacks, metrics.
// Nothing is allocated per batch: one index array per run, all tensors live in WASM memory.
import { DEFAULT_ADAM, LeNet5, type AdamConfig } from "./lenet.js";
import type { Dataset } from "./mnist.js";
import { Rng } from "./rng.js";

export interface TrainOptions {
  /** Passes over the training set. Default 5. */
  epochs?: number;
  /** Images per Adam step (the last batch of an epoch may be smaller). Default 32; at most model.capacity. */
  batchSize?: number;
  /** Adam settings; defaults lr 1e-3, beta1 0.9, beta2 0.999, eps 1e-7. */
  adam?: Partial<AdamConfig>;
  /** Seed of the per-epoch shuffles. Default 1. */
  seed?: number;
  /**
   * Threads that share each batch (Node: worker_threads). Default 1. The trained weights are
   * bit-identical for any thread count (gradients are summed over fixed shards in a fixed order).
   */
  threads?: number;
  /** Evaluated after every epoch when given. */
  validation?: Dataset;
  /** Called after every batch (keep it cheap). The same object is passed every time, updated: copy what you keep. */
  onBatchEnd?: (progress: BatchProgress) => void;
  /** Called after every epoch, with its metrics. */
  onEpochEnd?: (metrics: EpochMetrics) => void;
}

export interface BatchProgress {
  epoch: number; // 1-based
  epochs: number;
  batch: number; // 1-based
  batches: number;
  /** Images trained on so far in this epoch. */
  images: number;
  /** Running mean loss and accuracy over this epoch so far (like Keras's progress bar). */
  loss: number;
  accuracy: number;
  /** Seconds since the epoch started. */
  seconds: number;
}

export interface EpochMetrics {
  epoch: number;
  loss: number;
  accuracy: number;
  valLoss?: number;
  valAccuracy?: number;
  /** Seconds spent training in this epoch (validation excluded). */
  seconds: number;
  imagesPerSecond: number;
}

export interface TrainResult {
  history: EpochMetrics[];
  /** Wall seconds of the whole run, validation included. */
  seconds: number;
  /** Training images per second over all epochs (validation excluded). */
  trainImagesPerSecond: number;
}

export interface Evaluation {
  loss: number;
  accuracy: number;
  correct: number;
  count: number;
}

function checkInteger(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) throw new RangeError(`${name} must be an integer in ${min}..${max}, got ${value}`);
  return value;
}

/** Validated Adam settings: every value finite, lr > 0, betas in [0,1), eps > 0. */
export function adamConfig(adam: Partial<AdamConfig> = {}): AdamConfig {
  const c = { ...DEFAULT_ADAM, ...adam };
  const ok = (v: number, lo: number, hi: number, loOpen: boolean) => Number.isFinite(v) && (loOpen ? v > lo : v >= lo) && v < hi;
  if (!ok(c.lr, 0, 10, true)) throw new RangeError(`learning rate must be a number in (0, 10), got ${c.lr}`);
  if (!ok(c.beta1, 0, 1, false)) throw new RangeError(`beta1 must be in [0, 1), got ${c.beta1}`);
  if (!ok(c.beta2, 0, 1, false)) throw new RangeError(`beta2 must be in [0, 1), got ${c.beta2}`);
  if (!ok(c.eps, 0, 1, true)) throw new RangeError(`eps must be in (0, 1), got ${c.eps}`);
  return c;
}

/** Trains `model` on `data` with Adam and returns per-epoch metrics. */
export async function train(model: LeNet5, data: Dataset, options: TrainOptions = {}): Promise<TrainResult> {
  const epochs = checkInteger("epochs", options.epochs ?? 5, 1, 100000);
  const batchSize = checkInteger("batch size", options.batchSize ?? 32, 1, model.capacity);
  const threads = checkInteger("threads", options.threads ?? 1, 1, 256);
  const adam = adamConfig(options.adam);
  if (data.count < 1) throw new RangeError("the training set is empty");
  // Node-only module, loaded only when asked for, so single-threaded use stays platform-neutral.
  const team = threads > 1 ? await (await import("./data-parallel.js")).DataParallel.start(model, threads, data, batchSize) : undefined;
  try {
    return runEpochs(model, data, options, { epochs, batchSize, adam, team });
  } finally {
    await team?.close();
  }
}

function runEpochs(
  model: LeNet5, data: Dataset, options: TrainOptions,
  { epochs, batchSize, adam, team }: { epochs: number; batchSize: number; adam: AdamConfig; team: import("./data-parallel.js").DataParallel | undefined },
): TrainResult {
  const rng = new Rng(options.seed ?? 1);
  const order = Uint32Array.from({ length: data.count }, (_, i) => i);
  const batches = Math.ceil(data.count / batchSize);
  const history: EpochMetrics[] = [];
  const progress: BatchProgress = { epoch: 1, epochs, batch: 0, batches, images: 0, loss: 0, accuracy: 0, seconds: 0 };
  const runStart = performance.now();
  let trainSeconds = 0;

  for (let epoch = 1; epoch <= epochs; epoch++) {
    rng.shuffle(order);
    team?.setOrder(order);
    const epochStart = performance.now();
    let lossSum = 0, correct = 0, seen = 0;
    for (let batch = 0; batch < batches; batch++) {
      const start = batch * batchSize;
      const B = Math.min(batchSize, data.count - start);
      if (team) {
        team.gradients(start, B, order, data.images, data.labels);
        model.applyAdam(adam);
        lossSum += team.loss;
        correct += team.correct;
      } else {
        model.setBatch(data.images, data.labels, B, start, order);
        lossSum += model.trainStep(B, adam) * B;
        correct += model.correctInBatch(B);
      }
      seen += B;
      if (options.onBatchEnd) {
        // One object, updated in place: nothing is allocated per batch.
        progress.epoch = epoch; progress.batch = batch + 1; progress.images = seen;
        progress.loss = lossSum / seen; progress.accuracy = correct / seen;
        progress.seconds = (performance.now() - epochStart) / 1000;
        options.onBatchEnd(progress);
      }
    }
    const seconds = (performance.now() - epochStart) / 1000;
    trainSeconds += seconds;
    const metrics: EpochMetrics = { epoch, loss: lossSum / seen, accuracy: correct / seen, seconds, imagesPerSecond: seen / seconds };
    if (options.validation && options.validation.count > 0) {
      const v = evaluate(model, options.validation);
      metrics.valLoss = v.loss;
      metrics.valAccuracy = v.accuracy;
    }
    history.push(metrics);
    options.onEpochEnd?.(metrics);
  }
  return {
    history,
    seconds: (performance.now() - runStart) / 1000,
    trainImagesPerSecond: (epochs * data.count) / trainSeconds,
  };
}

/** Mean cross-entropy loss and accuracy of `model` on `data`. */
export function evaluate(model: LeNet5, data: Dataset): Evaluation {
  let lossSum = 0, correct = 0;
  const chunk = Math.min(model.capacity, 32); // activations stay in cache
  for (let start = 0; start < data.count; start += chunk) {
    const B = Math.min(chunk, data.count - start);
    model.setBatch(data.images, data.labels, B, start);
    lossSum += model.evaluateBatch(B);
    correct += model.correctInBatch(B);
  }
  return { loss: lossSum / data.count, accuracy: correct / data.count, correct, count: data.count };
}
