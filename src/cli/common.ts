// What the commands share: reading input files and model files with errors that say what to do,
// loading the model to run (f32 or int8), the dataset from the flags, the run's environment.
import { readFile } from "node:fs/promises";
import { cpus } from "node:os";
import { join, resolve } from "node:path";
import { decodeCheckpoint, decodeInt8Model, decodeModel, isInt8Model, type Checkpoint, type ModelInfo } from "../io/model-file.js";
import { CLASSES, PIXELS } from "../model/geometry.js";
import { LeNet5Int8, quantize } from "../model/int8.js";
import { LeNet5, type Weights } from "../model/lenet.js";
import { dataFolder, datasetFlag, openData, type DataSource } from "./data.js";
import { CliError, stringFlag, UsageError, type Flags } from "./flags.js";

/** Where train saves checkpoints, inside --checkpoint-dir. */
export const CHECKPOINT_FILE = "checkpoint.safetensors";

export const percent = (x: number): string => `${(100 * x).toFixed(2)}%`;

/**
 * The bytes of an input file. A missing or unreadable one is a CliError: "cannot `action`: ..."
 * with `missing` and `hint` when the file does not exist, the system's reason otherwise.
 */
export async function readInput(path: string, action: string, missing = "no such file", hint = ""): Promise<Buffer> {
  return readFile(path).catch((err: NodeJS.ErrnoException) => {
    throw new CliError(`cannot ${action}: ${err.code === "ENOENT" ? `${missing}${hint ? `. ${hint}` : ""}` : err.message}`);
  });
}

export async function readCheckpoint(dir: string): Promise<Checkpoint> {
  const file = join(dir, CHECKPOINT_FILE);
  const bytes = await readInput(file, `resume from ${dir}`, `no ${CHECKPOINT_FILE} there`, "Pass the folder given to --checkpoint-dir.");
  return decodeCheckpoint(bytes, file);
}

/** A model file: its weights and what it says about itself. */
export async function readModelFile(file: string): Promise<{ weights: Weights; info: ModelInfo; path: string }> {
  const { bytes, path } = await readModelBytes(file);
  return { ...decodeModel(bytes, path), path };
}

export async function readModelBytes(file: string): Promise<{ bytes: Buffer; path: string }> {
  const path = resolve(file);
  return { bytes: await readInput(path, `read model file ${path}`, "no such file", `Train one with: npx lenet-wasm train --out ${file}`), path };
}

/** The model named by --model, with what its file says about itself. */
export async function loadModelFlag(flags: Flags): Promise<{ model: LeNet5; info: ModelInfo; path: string }> {
  const file = stringFlag(flags, "model");
  if (file === undefined) throw new UsageError("this command needs --model FILE");
  const { weights, info, path } = await readModelFile(file);
  return { model: await f32Model(weights, info, flags), info, path };
}

export async function f32Model(weights: Weights, info: ModelInfo, flags: Flags): Promise<LeNet5> {
  const model = await LeNet5.create({ arch: info.architecture, classes: info.classes, batchSize: 32, fastMath: flags["fast-math"] === true });
  model.setWeights(weights);
  return model;
}

/** Training images `--int8` calibrates the activation scales on. */
export const CALIBRATION_IMAGES = 1000;

/** The data a model is tested on: --data, else the dataset it was trained on (or --dataset), of the model's classes. */
export async function modelData(flags: Flags, info: ModelInfo): Promise<DataSource> {
  const dataset = datasetFlag(flags, info.training?.dataset);
  return openData(await dataFolder(flags, dataset), dataset, flags, { classes: info.classes, ...(info.classNames ? { modelNames: info.classNames } : {}) });
}

/**
 * evaluate and predict: the --model as LeNet5, or as LeNet5Int8 for an int8 file or with --int8 (an
 * f32 file quantised on the fly, calibrated on the training images of its data: `data`, opened for it).
 */
export async function loadPredictor(flags: Flags): Promise<{ model: LeNet5 | LeNet5Int8; info: ModelInfo; path: string; data?: DataSource }> {
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
export async function quantizeModel(weights: Weights, info: ModelInfo, path: string, flags: Flags, instead: string): Promise<{ model: LeNet5Int8; data: DataSource }> {
  if (info.architecture !== "lenet5") throw new CliError(`int8 runs the lenet5 network only; ${path} holds a ${info.architecture} model. ${instead}.`);
  if (info.classes !== CLASSES) throw new CliError(`int8 runs 10-class models only; ${path} has ${info.classes} classes. ${instead}.`);
  const data = await modelData(flags, info);
  const train = await data.train();
  return { model: await quantize(weights, train.images.subarray(0, CALIBRATION_IMAGES * PIXELS)), data };
}

/** Bytes of f32 weights. */
export const weightBytes = (w: Weights): number => Object.values(w).reduce((n, t) => n + t.byteLength, 0);

/** Errors from the file system (full disk, permissions, ...): their message names the file. */
export function isFileError(e: Error): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return typeof code === "string" && /^E[A-Z]+$/.test(code);
}

/** The runtime and machine a command ran on (in --json output and reports). */
export function environment(): Record<string, unknown> {
  // Deno and Bun report a Node version for compatibility: name the runtime itself too.
  const deno = (globalThis as { Deno?: { version: { deno: string } } }).Deno;
  const bun = (process.versions as Record<string, string | undefined>).bun;
  const runtime = deno ? `deno ${deno.version.deno}` : bun ? `bun ${bun}` : `node ${process.versions.node}`;
  return { runtime, node: process.version, cpu: cpus()[0]?.model ?? "unknown", cores: cpus().length, platform: `${process.platform}-${process.arch}` };
}
