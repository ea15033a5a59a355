// LeNet-5 model files: safetensors with PyTorch state_dict names and layouts, so Python loads them
// with `safetensors.torch.load_file` into the equivalent nn.Module. Metadata (all strings, as the
// format requires) records the format version, the architecture, training settings and metrics.
import { QUANTIZED_LAYERS, type QuantizedWeights } from "../model/int8.js";
import { CLASSES } from "../model/geometry.js";
import { type Weights } from "../model/lenet.js";
import { architecture, ARCHITECTURE_NAMES, type Architecture, type ArchitectureName } from "../model/networks.js";
import type { EpochMetrics } from "../eval/metrics.js";
import type { TrainState } from "../train/train.js";
import { decodeSafetensors, encodeSafetensors, SafetensorsError, type Tensor } from "./safetensors.js";

export const MODEL_FORMAT_VERSION = 1;
/** The architecture of files that do not say (files saved by PyTorch, and by lenet-wasm before "lenet5-1998"). */
export const ARCHITECTURE: ArchitectureName = "lenet5";

/** What a model file says about itself besides its weights. */
export interface ModelInfo {
  formatVersion: number;
  architecture: ArchitectureName;
  /** Classes the model tells apart (10 unless trained with --classes). */
  classes: number;
  /** The name of each class (label i is classNames[i]) when the file says: the data's folder names, classes.txt or the dataset's. */
  classNames?: string[];
  /** Training settings (epochs, batch size, lr, seed, ...) when the file was made by `train`. */
  training?: Record<string, unknown>;
  /** Final metrics (test accuracy, ...) when known. */
  metrics?: Record<string, unknown>;
  /** Per-epoch metrics of the run that made it, when known (for reports). */
  history?: EpochMetrics[];
}

/** The metadata every file we write starts with (`classes` only when it is not 10). */
const identity = (arch: Architecture): Record<string, string> => ({
  format_version: String(MODEL_FORMAT_VERSION), architecture: arch.name, ...(arch.classes === CLASSES ? {} : { classes: String(arch.classes) }), library: "lenet-wasm",
});

/** `names` as a model's class names: one string per class. */
const areClassNames = (names: unknown, classes: number): names is string[] =>
  Array.isArray(names) && names.length === classes && names.every((n) => typeof n === "string");

/** The metadata of a model file (f32 or int8): its identity, and the class names and story it was given, as JSON strings. */
function modelMetadata(arch: Architecture, info: Partial<Pick<ModelInfo, "classNames" | "training" | "metrics" | "history">>): Record<string, string> {
  const metadata = identity(arch);
  if (info.classNames !== undefined) {
    if (!areClassNames(info.classNames, arch.classes)) throw new RangeError(`classNames: ${arch.classes} strings needed, got ${JSON.stringify(info.classNames)}`);
    metadata.class_names = JSON.stringify(info.classNames);
  }
  if (info.training) metadata.training = JSON.stringify(info.training);
  if (info.metrics) metadata.metrics = JSON.stringify(info.metrics);
  if (info.history) metadata.history = JSON.stringify(info.history);
  return metadata;
}

/** The network a file's metadata names (absent: "lenet5"), for its number of classes (absent: 10). */
function architectureOf(metadata: Record<string, string>, file: string): Architecture {
  const name = metadata.architecture ?? ARCHITECTURE;
  if (!(ARCHITECTURE_NAMES as readonly string[]).includes(name)) {
    throw new SafetensorsError(`architecture is "${name}", this version of lenet-wasm reads ${ARCHITECTURE_NAMES.map((a) => `"${a}"`).join(", ")} models`, file);
  }
  const classes = metadata.classes === undefined ? CLASSES : Number(metadata.classes);
  try {
    return architecture(name as ArchitectureName, classes);
  } catch (err) {
    throw new SafetensorsError(`metadata "classes" ${JSON.stringify(metadata.classes)}: ${(err as Error).message}`, file);
  }
}

/** Adds one tensor per parameter, named `prefix` + its PyTorch name. */
function addTensors(tensors: Map<string, Tensor>, arch: Architecture, prefix: string, w: Weights): void {
  for (const p of arch.parameters) {
    const data = w[p.name];
    if (data === undefined) throw new RangeError(`weights of ${arch.name} lack ${p.name}`);
    tensors.set(prefix + p.name, { shape: [...p.shape], data });
  }
}

/** What decodeSafetensors must find: one tensor per parameter for each prefix, with its shape. */
const specs = (arch: Architecture, ...prefixes: string[]) => prefixes.flatMap((prefix) => arch.parameters.map((p) => ({ name: prefix + p.name, shape: [...p.shape] })));

/** The parameters stored under `prefix` (F32: specs() required it). */
const pick = (tensors: Map<string, Tensor>, arch: Architecture, prefix: string): Weights =>
  Object.fromEntries(arch.parameters.map((p) => [p.name, tensors.get(prefix + p.name)!.data as Float32Array]));

const isReal = (v: unknown): boolean => typeof v === "number" && Number.isFinite(v);

/** Encodes weights and their story as safetensors bytes (architecture "lenet5" and 10 classes unless given). */
export function encodeModel(weights: Weights, info: Partial<Pick<ModelInfo, "architecture" | "classes" | "classNames" | "training" | "metrics" | "history">> = {}): Uint8Array {
  const arch = architecture(info.architecture ?? ARCHITECTURE, info.classes ?? CLASSES);
  const tensors = new Map<string, Tensor>();
  addTensors(tensors, arch, "", weights);
  return encodeSafetensors(tensors, modelMetadata(arch, info));
}

/**
 * Decodes a model file, checking every tensor's name, dtype, shape and size and the metadata.
 * Files without metadata (for example saved from PyTorch) are accepted as LeNet-5.
 * @throws SafetensorsError saying which file, which tensor and what is wrong
 */
export function decodeModel(bytes: Uint8Array, file = "model"): { weights: Weights; info: ModelInfo } {
  const expect = (m: Record<string, string>) => {
    if (m.quantization === INT8) throw new SafetensorsError("an int8 model file (export --format int8): this needs the f32 model it was made from (decodeInt8Model reads int8 files)", file);
    return specs(architectureOf(m, file), "");
  };
  const { tensors, metadata } = decodeSafetensors(bytes, { file, expect });
  const info = readInfo(metadata, file);
  return { weights: pick(tensors, architecture(info.architecture, info.classes), ""), info };
}

/** The format version, architecture and story a model file's metadata tells, checked. */
function readInfo(metadata: Record<string, string>, file: string): ModelInfo {
  const { name: architecture, classes } = architectureOf(metadata, file);
  const formatVersion = Number(metadata.format_version ?? MODEL_FORMAT_VERSION);
  if (!Number.isInteger(formatVersion) || formatVersion < 1 || formatVersion > MODEL_FORMAT_VERSION) {
    throw new SafetensorsError(`format_version "${metadata.format_version}" is not supported (this lenet-wasm reads 1..${MODEL_FORMAT_VERSION}); upgrade lenet-wasm`, file);
  }
  const parse = (key: string): Record<string, unknown> | undefined => {
    if (metadata[key] === undefined) return undefined;
    try {
      return JSON.parse(metadata[key]) as Record<string, unknown>;
    } catch {
      throw new SafetensorsError(`metadata "${key}" is not valid JSON`, file);
    }
  };
  const info: ModelInfo = { formatVersion, architecture, classes };
  if (metadata.class_names !== undefined) {
    const names = parse("class_names") as unknown;
    if (!areClassNames(names, classes)) throw new SafetensorsError(`metadata "class_names" is not a list of ${classes} names`, file);
    info.classNames = names;
  }
  const training = parse("training"), metrics = parse("metrics"), history = parse("history") as unknown;
  if (training) info.training = training;
  if (metrics) info.metrics = metrics;
  if (history !== undefined) {
    if (!isHistory(history)) throw new SafetensorsError(`metadata "history" is not a list of epoch metrics`, file);
    info.history = history as EpochMetrics[];
  }
  return info;
}

/** Metadata value marking an int8 model file (written by encodeInt8Model). */
const INT8 = "int8";

/** The tensors of an int8 model file, per layer: int8 weight, per-channel weight scales, f32 bias, input scale. */
const int8Specs = QUANTIZED_LAYERS.flatMap(({ name, shape }) => [
  { name: `${name}.weight`, shape: [...shape], dtype: "I8" as const },
  { name: `${name}.weight_scale`, shape: [shape[0]] },
  { name: `${name}.bias`, shape: [shape[0]] },
  { name: `${name}.input_scale`, shape: [] },
]);

/** Whether model file bytes hold an int8 model (encodeInt8Model) rather than f32 weights. */
export function isInt8Model(bytes: Uint8Array, file = "model"): boolean {
  return decodeSafetensors(bytes, { file }).metadata.quantization === INT8;
}

/**
 * Encodes a quantised model (LeNet5Int8's `weights`) as safetensors: int8 weights ("I8") and f32
 * scales and biases, with the metadata of a model file plus `quantization: "int8"`.
 */
export function encodeInt8Model(q: QuantizedWeights, info: Pick<ModelInfo, "classNames" | "training" | "metrics"> = {}): Uint8Array {
  const tensors = new Map<string, Tensor>();
  for (const { name, shape } of QUANTIZED_LAYERS) {
    const l = q[name];
    tensors.set(`${name}.weight`, { shape: [...shape], data: l.weight });
    tensors.set(`${name}.weight_scale`, { shape: [shape[0]], data: l.weightScale });
    tensors.set(`${name}.bias`, { shape: [shape[0]], data: l.bias });
    tensors.set(`${name}.input_scale`, { shape: [], data: Float32Array.of(l.inputScale) });
  }
  return encodeSafetensors(tensors, { ...modelMetadata(architecture("lenet5"), info), quantization: INT8 });
}

/**
 * Decodes an int8 model file written by encodeInt8Model, checking every tensor's name, dtype and
 * shape, that every weight is in -127..127 and every scale positive.
 * @throws SafetensorsError saying which file, which tensor and what is wrong
 */
export function decodeInt8Model(bytes: Uint8Array, file = "model"): { weights: QuantizedWeights; info: ModelInfo } {
  const { tensors, metadata } = decodeSafetensors(bytes, { file, expect: int8Specs });
  if (metadata.quantization !== INT8) throw new SafetensorsError(`metadata "quantization" is ${JSON.stringify(metadata.quantization)}, not "${INT8}": an f32 model file (decodeModel reads it)`, file);
  const info = readInfo(metadata, file);
  const weights = {} as QuantizedWeights;
  for (const { name } of QUANTIZED_LAYERS) {
    const get = (what: string) => tensors.get(`${name}.${what}`)!.data;
    const weight = get("weight") as Int8Array, weightScale = get("weight_scale") as Float32Array, inputScale = get("input_scale")[0]!;
    if (weight.includes(-128)) throw new SafetensorsError("a weight is -128, outside the symmetric range -127..127", file, `${name}.weight`);
    if (!weightScale.every((v) => v > 0) || !(inputScale > 0)) throw new SafetensorsError("scales must be positive", file, name);
    weights[name] = { weight, weightScale, bias: get("bias") as Float32Array, inputScale };
  }
  return { weights, info };
}

/** Everything needed to continue a training run exactly where it stopped. */
export interface Checkpoint {
  architecture: ArchitectureName;
  /** Classes of the model (default 10). */
  classes?: number;
  weights: Weights;
  adam: { m: Weights; v: Weights; steps: number };
  state: TrainState;
  /** The run's settings (epochs, batch size, lr, seed, ...), so that a resume uses the same ones. */
  settings: Record<string, unknown>;
}

const ADAM_M = "adam.m.", ADAM_V = "adam.v.";

/** Encodes a checkpoint: the weights as in a model file, Adam's moments as `adam.m.*`/`adam.v.*`, the state in metadata. */
export function encodeCheckpoint(c: Checkpoint): Uint8Array {
  const arch = architecture(c.architecture, c.classes ?? CLASSES);
  const tensors = new Map<string, Tensor>();
  addTensors(tensors, arch, "", c.weights);
  addTensors(tensors, arch, ADAM_M, c.adam.m);
  addTensors(tensors, arch, ADAM_V, c.adam.v);
  return encodeSafetensors(tensors, {
    ...identity(arch),
    kind: "checkpoint",
    adam_steps: String(c.adam.steps),
    state: JSON.stringify(c.state),
    settings: JSON.stringify(c.settings),
  });
}

/**
 * Decodes and validates a checkpoint written by encodeCheckpoint.
 * @throws SafetensorsError naming the file and what is wrong
 */
export function decodeCheckpoint(bytes: Uint8Array, file = "checkpoint"): Checkpoint {
  const fail = (what: string) => new SafetensorsError(`${what}; is this a lenet-wasm checkpoint? Start the run again without --resume`, file);
  const archOf = (m: Record<string, string>): Architecture => {
    if (m.architecture === undefined) throw fail("metadata \"architecture\" is missing");
    return architectureOf(m, file);
  };
  const { tensors, metadata } = decodeSafetensors(bytes, { file, expect: (m) => specs(archOf(m), "", ADAM_M, ADAM_V) });
  const arch = archOf(metadata);
  if (metadata.kind !== "checkpoint") throw fail(`metadata "kind" is ${JSON.stringify(metadata.kind)}, not "checkpoint"`);
  if (Number(metadata.format_version) !== MODEL_FORMAT_VERSION) throw fail(`format_version ${JSON.stringify(metadata.format_version)} is not supported`);
  const steps = Number(metadata.adam_steps);
  if (!Number.isSafeInteger(steps) || steps < 0) throw fail(`adam_steps ${JSON.stringify(metadata.adam_steps)} is not a count`);
  const json = (key: string): unknown => {
    try {
      return JSON.parse(metadata[key] ?? "");
    } catch {
      throw fail(`metadata "${key}" is missing or not JSON`);
    }
  };
  const state = json("state") as TrainState, settings = json("settings") as Record<string, unknown>;
  const count = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
  if (typeof state !== "object" || state === null || !count(state.epoch) || state.epoch < 1 || !count(state.batch) ||
    !isReal(state.lossSum) || !count(state.correct) || !count(state.seen) || !isReal(state.epochSeconds) ||
    !isReal(state.trainSeconds) || !count(state.rngState) || state.rngState > 0xffffffff || !isHistory(state.history)) {
    throw fail("metadata \"state\" is not a valid training state");
  }
  if (typeof settings !== "object" || settings === null || Array.isArray(settings)) throw fail("metadata \"settings\" is not an object");
  return { architecture: arch.name, classes: arch.classes, weights: pick(tensors, arch, ""), adam: { m: pick(tensors, arch, ADAM_M), v: pick(tensors, arch, ADAM_V), steps }, state, settings };
}

/** Whether `h` is a list of EpochMetrics: every field a finite number (validation ones optional). */
function isHistory(h: unknown): h is EpochMetrics[] {
  return Array.isArray(h) && h.every((m) => typeof m === "object" && m !== null &&
    Number.isSafeInteger(m.epoch) && isReal(m.loss) && isReal(m.accuracy) && isReal(m.seconds) && isReal(m.imagesPerSecond) &&
    (m.valLoss === undefined || isReal(m.valLoss)) && (m.valAccuracy === undefined || isReal(m.valAccuracy)));
}
