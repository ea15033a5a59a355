// The training loop: seeded shuffle each epoch, batches, Adam, validation, callbacks, metrics.
// Nothing is allocated per batch: one index array per run, all tensors live in WASM memory.
import { distortion, type Distortion } from "./augment.js";
import { recipe, type RecipeName } from "./recipes.js";
import { OptionError } from "../model/option-error.js";
import { evaluate, type EpochMetrics } from "../eval/metrics.js";
import { DataParallel } from "./data-parallel.js";
import { DEFAULT_ADAM, LeNet5, SHARD_SIZE, type AdamConfig } from "../model/lenet.js";
import type { Dataset } from "../data/datasets.js";
import type { Batch } from "../model/batches.js";
import { Rng } from "../model/rng.js";

export interface TrainOptions {
  /**
   * A named recipe (recipes.ts) whose epochs, learning rate, decay, weight decay and distortions
   * are the defaults; options given here override them. The model must run the recipe's network.
   */
  recipe?: RecipeName;
  /** Passes over the training set. Default 5. */
  epochs?: number;
  /** Images per Adam step (the last batch of an epoch may be smaller). Default 32; at most model.capacity. */
  batchSize?: number;
  /** Adam settings; defaults lr 1e-3, beta1 0.9, beta2 0.999, eps 1e-7. */
  adam?: Partial<AdamConfig>;
  /** Seed of the per-epoch shuffles (and of the distortions). Default 1. */
  seed?: number;
  /** Distort the training images at random, differently every epoch (see augment.ts). Default: none. */
  distort?: Distortion;
  /** The learning rate is multiplied by this after every epoch (0.5: halved each epoch). Default 1. */
  lrDecay?: number;
  /**
   * Threads that share each batch, at most (Node: worker_threads; browsers: Web Workers). Default 1.
   * The trained weights are bit-identical for any thread count (gradients are summed over fixed
   * shards in a fixed order), so training uses fewer while fewer are faster: on a machine whose
   * cores are busy with other work (see `adaptiveThreads`).
   */
  threads?: number;
  /**
   * With threads > 1: measure while training and run each batch on as many of the threads as is
   * fastest (a busy core holds up every batch it takes part in). Default true; false: always all
   * of them (to measure them). The weights are the same either way.
   */
  adaptiveThreads?: boolean;
  /**
   * Called with a message when training runs otherwise than asked, and why: threads > 1 where the
   * engine has no SharedArrayBuffer runs on 1 thread (the same weights). Default: console.warn.
   */
  onWarning?: (message: string) => void;
  /** Evaluated after every epoch when given. */
  validation?: Dataset;
  /** Called after every batch (keep it cheap). The same object is passed every time, updated: copy what you keep. */
  onBatchEnd?: (progress: BatchProgress) => void;
  /** Called after every epoch, with its metrics. */
  onEpochEnd?: (metrics: EpochMetrics) => void;
  /** Stops training after the current batch (the result says `interrupted`; onCheckpoint gets the state). */
  signal?: AbortSignal;
  /**
   * Called with the state to resume from (model weights and Adam state are in `model`): after every
   * `checkpointEvery` batches, after every epoch, and when interrupted. Training waits for it.
   */
  onCheckpoint?: (state: TrainState) => void | Promise<void>;
  /**
   * Called every `yieldEvery` batches after letting the event loop run; training waits for the
   * promise it returns (a UI can pause here).
   */
  onYield?: () => void | Promise<void>;
  /**
   * Batches between yields to the event loop (and onYield calls) when a signal or onYield is given.
   * Default 32 (~30-60 ms); 1 lets a page pause or step after any batch.
   */
  yieldEvery?: number;
  /** Batches between checkpoints within an epoch; 0 (default): only at epoch ends. */
  checkpointEvery?: number;
  /**
   * Continue a run from a checkpoint's state; the model must hold that checkpoint's weights and Adam
   * state, and every other option must be the run's. The result is bit-identical to a run that was
   * never interrupted.
   */
  resume?: TrainState;
}

/** Where a run is: enough, with the model's weights and Adam state, to continue it exactly. */
export interface TrainState {
  /** Epoch in progress, 1-based (epochs + 1 when the run is complete). */
  epoch: number;
  /** Batches of that epoch already trained. */
  batch: number;
  /** Running sums over the epoch in progress. */
  lossSum: number;
  correct: number;
  seen: number;
  /** Training seconds spent in the epoch in progress, and in all completed epochs. */
  epochSeconds: number;
  trainSeconds: number;
  /** Metrics of the completed epochs. */
  history: EpochMetrics[];
  /** State of the shuffle generator after shuffling for `epoch`: a resumed run checks it replays the same order. */
  rngState: number;
}

/** Training stopped because a loss or gradient stopped being a finite number. */
export class NumericalError extends Error {
  override readonly name = "NumericalError";
  constructor(readonly epoch: number, readonly batch: number, readonly loss: number, readonly tensors: string[]) {
    super(`training diverged at epoch ${epoch}, batch ${batch}: the loss is ${loss}` +
      (tensors.length > 0 ? ` and the gradients of ${tensors.join(", ")} are not finite` : "") +
      ". The weights were not updated with this batch. Try a smaller learning rate.");
  }
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
  /** Mean loss and accuracy of this batch alone (for per-batch curves). */
  batchLoss: number;
  batchAccuracy: number;
  /** Seconds since the epoch started. */
  seconds: number;
}

export interface TrainResult {
  /** Threads that could share each batch (fewer than asked when a batch has fewer shards, or the engine has no shared memory). */
  threads: number;
  /** Batches this call ran with each number of threads: threadBatches[k - 1] with k (see adaptiveThreads). */
  threadBatches: number[];
  history: EpochMetrics[];
  /** True when options.signal stopped the run early; `state` then says where. */
  interrupted: boolean;
  state: TrainState;
  /** Wall seconds of the whole run, validation included. */
  seconds: number;
  /** Training images per second over all epochs (validation excluded). */
  trainImagesPerSecond: number;
}

function checkInteger(option: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) throw new OptionError(option, `must be an integer in ${min}..${max}, got ${value}`);
  return value;
}

/** Validated Adam settings: every value finite, lr in (0, 10), betas in [0,1), eps in (0, 1), lr * weightDecay in [0, 1). */
export function adamConfig(adam: Partial<AdamConfig> = {}): AdamConfig {
  const c = { ...DEFAULT_ADAM, ...adam };
  const ok = (v: number, lo: number, hi: number, loOpen: boolean) => Number.isFinite(v) && (loOpen ? v > lo : v >= lo) && v < hi;
  if (!ok(c.lr, 0, 10, true)) throw new OptionError("lr", `must be a number in (0, 10), got ${c.lr}`);
  if (!ok(c.beta1, 0, 1, false)) throw new OptionError("beta1", `must be in [0, 1), got ${c.beta1}`);
  if (!ok(c.beta2, 0, 1, false)) throw new OptionError("beta2", `must be in [0, 1), got ${c.beta2}`);
  if (!ok(c.eps, 0, 1, true)) throw new OptionError("eps", `must be in (0, 1), got ${c.eps}`);
  if (c.weightDecay !== undefined && !ok(c.weightDecay * c.lr, 0, 1, false)) throw new OptionError("weightDecay", `must be >= 0 with lr * weightDecay < 1, got ${c.weightDecay}`);
  return c;
}

/** Options with every default filled in (a recipe's, then the built-in ones) and every value checked. */
export interface CheckedTrainOptions {
  epochs: number;
  batchSize: number;
  threads: number;
  seed: number;
  adam: AdamConfig;
  lrDecay: number;
  distort: Distortion | undefined;
  checkpointEvery: number;
  yieldEvery: number;
}

/**
 * The options `train` runs with: a recipe's settings under the ones given, defaults for the rest,
 * each checked (`capacity`: the model's largest batch). The CLI checks its flags with it too.
 * @throws OptionError naming the option that is out of range
 */
export function checkTrainOptions(options: TrainOptions, capacity: number): CheckedTrainOptions {
  const r = options.recipe === undefined ? undefined : recipe(options.recipe);
  const batchSize = checkInteger("batchSize", options.batchSize ?? 32, 1, capacity);
  const lrDecay = options.lrDecay ?? r?.lrDecay ?? 1;
  if (!(lrDecay > 0 && lrDecay <= 1)) throw new OptionError("lrDecay", `must be in (0, 1], got ${lrDecay}`);
  const distort = options.distort ?? r?.distort ?? undefined;
  const d = distort;
  if (d && (![d.rotate, d.scale, d.shear, d.shift].every((v) => Number.isFinite(v) && v >= 0) || d.scale >= 1)) {
    throw new OptionError("distort", `values must be finite and >= 0 (scale < 1), got ${JSON.stringify(d)}`);
  }
  return {
    epochs: checkInteger("epochs", options.epochs ?? r?.epochs ?? 5, 1, 100000),
    batchSize,
    // More threads than a batch has shards would only wait: capped (the weights do not depend on it).
    threads: Math.min(checkInteger("threads", options.threads ?? 1, 1, 1024), Math.ceil(batchSize / SHARD_SIZE)),
    seed: checkInteger("seed", options.seed ?? 1, 0, 2 ** 32 - 1),
    adam: adamConfig({ ...(r ? { lr: r.lr, weightDecay: r.weightDecay } : {}), ...options.adam }),
    lrDecay,
    distort: d ? { ...d } : undefined,
    checkpointEvery: checkInteger("checkpointEvery", options.checkpointEvery ?? 0, 0, 1e9),
    yieldEvery: checkInteger("yieldEvery", options.yieldEvery ?? 32, 1, 1e9),
  };
}

/** Trains `model` on `data` with Adam and returns per-epoch metrics. */
export async function train(model: LeNet5, data: Dataset, options: TrainOptions = {}): Promise<TrainResult> {
  const checked = checkTrainOptions(options, model.capacity);
  if (options.recipe !== undefined && recipe(options.recipe).arch !== model.arch.name) {
    throw new OptionError("recipe", `"${options.recipe}" is for the ${recipe(options.recipe).arch} network; this model runs ${model.arch.name}`);
  }
  if (data.count < 1) throw new RangeError("the training set is empty");
  if (checked.threads > 1 && typeof SharedArrayBuffer === "undefined") {
    (options.onWarning ?? console.warn)(`lenet-wasm: training on 1 thread, not ${checked.threads}: this engine has no SharedArrayBuffer ` +
      "(in a browser, the page must be cross-origin isolated: COOP and COEP headers). The weights are the same on any number of threads.");
    checked.threads = 1;
  }
  const team = checked.threads > 1
    ? await DataParallel.start(model, checked.threads, data, checked.batchSize, checked.distort, checked.seed, options.adaptiveThreads ?? true)
    : undefined;
  try {
    const { batchesRun, ...result } = await runEpochs(model, data, options, checked, team);
    return { ...result, threads: checked.threads, threadBatches: team ? [...team.size.runs] : [batchesRun] };
  } finally {
    await team?.close();
  }
}

/**
 * Lets the event loop run (signal handlers, messages). Browsers and Deno have no setImmediate, and a
 * nested setTimeout(0) waits at least 4 ms there: a message to ourselves runs at once.
 */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => {
    if (typeof setImmediate === "function") return void setImmediate(resolve);
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}

async function runEpochs(
  model: LeNet5, data: Dataset, options: TrainOptions, { epochs, batchSize, adam, lrDecay: decay, seed, distort: distortions, checkpointEvery: every, yieldEvery }: CheckedTrainOptions,
  team: DataParallel | undefined,
): Promise<Omit<TrainResult, "threads" | "threadBatches"> & { batchesRun: number }> {
  const rng = new Rng(seed);
  const order = Uint32Array.from({ length: data.count }, (_, i) => i);
  const batches = Math.ceil(data.count / batchSize);
  const s: TrainState = options.resume
    ? { ...options.resume, history: [...options.resume.history] }
    : { epoch: 1, batch: 0, lossSum: 0, correct: 0, seen: 0, epochSeconds: 0, trainSeconds: 0, history: [], rngState: 0 };
  if (s.batch < 0 || s.batch >= batches || s.epoch < 1) throw new RangeError(`cannot resume at epoch ${s.epoch}, batch ${s.batch} of ${batches}: was the checkpoint made with another batch size or data set?`);
  // Replay the shuffles the original run had made by this point (the current epoch's too when
  // resuming mid-epoch): a resumed run sees exactly its order, and the generator's state proves it.
  const replayed = Math.min(s.epoch - 1 + (s.batch > 0 ? 1 : 0), epochs);
  for (let e = 0; e < replayed; e++) rng.shuffle(order);
  if (options.resume && replayed > 0 && rng.state !== s.rngState) {
    throw new RangeError("this checkpoint was made with another seed or training set: its shuffle order cannot be replayed");
  }
  const batch: Batch = { images: data.images, labels: data.labels, count: 0, start: 0, order }; // one object, updated per batch
  const progress: BatchProgress = { epoch: s.epoch, epochs, batch: 0, batches, images: 0, loss: 0, accuracy: 0, batchLoss: 0, batchAccuracy: 0, seconds: 0 };
  const runStart = performance.now();
  let interrupted = false, batchesRun = 0;
  const checkpoint = async () => options.onCheckpoint?.({ ...s, history: [...s.history] });

  for (; s.epoch <= epochs && !interrupted; s.epoch++) {
    if (s.batch === 0) { // a new epoch (a mid-epoch resume has replayed this one's shuffle above)
      rng.shuffle(order);
      s.rngState = rng.state;
    }
    team?.setOrder(order);
    const epochAdam = { ...adam, lr: adam.lr * decay ** (s.epoch - 1) };
    const epochWriter = distortions && distortion({ distortion: distortions, seed, epoch: s.epoch });
    let clock = performance.now();
    while (s.batch < batches) {
      const start = s.batch * batchSize;
      const B = Math.min(batchSize, data.count - start);
      let loss: number, right: number;
      if (team) {
        team.gradients(start, B, s.epoch, epochWriter);
        loss = team.loss;
        right = team.correct;
      } else {
        batch.start = start;
        batch.count = B;
        batch.distort = epochWriter;
        model.setBatch(batch);
        model.zeroGradients();
        loss = model.accumulateGradients(B, B);
        right = model.correctInBatch(B);
      }
      if (!Number.isFinite(loss) || !model.gradientsFinite()) throw new NumericalError(s.epoch, s.batch + 1, loss / B, model.nonFiniteGradients());
      model.applyAdam(epochAdam);
      s.batch++;
      batchesRun++;
      s.lossSum += loss;
      s.correct += right;
      s.seen += B;
      if (options.onBatchEnd) {
        // One object, updated in place: nothing is allocated per batch.
        progress.epoch = s.epoch; progress.batch = s.batch; progress.images = s.seen;
        progress.loss = s.lossSum / s.seen; progress.accuracy = s.correct / s.seen;
        progress.batchLoss = loss / B; progress.batchAccuracy = right / B;
        progress.seconds = s.epochSeconds + (performance.now() - clock) / 1000;
        options.onBatchEnd(progress);
      }
      if ((options.signal || options.onYield) && s.batch % yieldEvery === 0) {
        await yieldToEventLoop(); // lets a signal handler or a message run
        const paused = performance.now();
        await options.onYield?.();
        clock += performance.now() - paused; // time spent paused is not training time
      }
      const stop = options.signal?.aborted === true;
      if (s.batch < batches && (stop || (every > 0 && s.batch % every === 0))) {
        s.epochSeconds += (performance.now() - clock) / 1000;
        await checkpoint();
        clock = performance.now();
        if (stop) {
          interrupted = true;
          break;
        }
      }
    }
    if (interrupted) break;
    s.epochSeconds += (performance.now() - clock) / 1000;
    const metrics: EpochMetrics = { epoch: s.epoch, loss: s.lossSum / s.seen, accuracy: s.correct / s.seen, seconds: s.epochSeconds, imagesPerSecond: s.seen / s.epochSeconds };
    if (options.validation && options.validation.count > 0) {
      const v = evaluate(model, options.validation);
      metrics.valLoss = v.loss;
      metrics.valAccuracy = v.accuracy;
    }
    s.history.push(metrics);
    s.trainSeconds += s.epochSeconds;
    Object.assign(s, { batch: 0, lossSum: 0, correct: 0, seen: 0, epochSeconds: 0 });
    options.onEpochEnd?.(metrics);
    s.epoch++; // the checkpoint resumes at the next epoch
    await checkpoint();
    s.epoch--;
    if (options.signal?.aborted && s.epoch < epochs) interrupted = true;
  }
  const trained = s.history.reduce((n, h) => n + h.seconds * h.imagesPerSecond, 0);
  return {
    history: s.history,
    interrupted,
    state: { ...s, history: [...s.history] },
    batchesRun,
    seconds: (performance.now() - runStart) / 1000,
    trainImagesPerSecond: s.trainSeconds > 0 ? trained / s.trainSeconds : 0,
  };
}
