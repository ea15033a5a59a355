// LeNet-5 model files: safetensors with PyTorch state_dict names and layouts, so Python loads them
// with `safetensors.torch.load_file` into the equivalent nn.Module. Metadata (all strings, as the
// format requires) records the format version, the architecture, training settings and metrics.
import { PARAMETERS, type Weights } from "./lenet.js";
import { decodeSafetensors, encodeSafetensors, SafetensorsError, type Tensor } from "./safetensors.js";

export const MODEL_FORMAT_VERSION = 1;
export const ARCHITECTURE = "lenet5";

/** What a model file says about itself besides its weights. */
export interface ModelInfo {
  formatVersion: number;
  architecture: string;
  /** Training settings (epochs, batch size, lr, seed, ...) when the file was made by `train`. */
  training?: Record<string, unknown>;
  /** Final metrics (test accuracy, ...) when known. */
  metrics?: Record<string, unknown>;
}

/** Encodes weights and their story as safetensors bytes. */
export function encodeModel(weights: Weights, info: Pick<ModelInfo, "training" | "metrics"> = {}): Uint8Array {
  const tensors = new Map<string, Tensor>();
  for (const p of PARAMETERS) tensors.set(p.name, { shape: [...p.shape], data: weights[p.name] });
  const metadata: Record<string, string> = {
    format_version: String(MODEL_FORMAT_VERSION),
    architecture: ARCHITECTURE,
    library: "lenet-wasm",
  };
  if (info.training) metadata.training = JSON.stringify(info.training);
  if (info.metrics) metadata.metrics = JSON.stringify(info.metrics);
  return encodeSafetensors(tensors, metadata);
}

/**
 * Decodes a model file, checking every tensor's name, dtype, shape and size and the metadata.
 * Files without metadata (for example saved from PyTorch) are accepted as LeNet-5.
 * @throws SafetensorsError saying which file, which tensor and what is wrong
 */
export function decodeModel(bytes: Uint8Array, file = "model"): { weights: Weights; info: ModelInfo } {
  const { tensors, metadata } = decodeSafetensors(bytes, { file, expect: PARAMETERS.map((p) => ({ name: p.name, shape: [...p.shape] })) });
  const architecture = metadata.architecture ?? ARCHITECTURE;
  if (architecture !== ARCHITECTURE) {
    throw new SafetensorsError(`architecture is "${architecture}", this version of lenet-wasm reads "${ARCHITECTURE}" models`, file);
  }
  const formatVersion = Number(metadata.format_version ?? MODEL_FORMAT_VERSION);
  if (!Number.isInteger(formatVersion) || formatVersion < 1 || formatVersion > MODEL_FORMAT_VERSION) {
    throw new SafetensorsError(`format_version "${metadata.format_version}" is not supported (this lenet-wasm reads 1..${MODEL_FORMAT_VERSION}); upgrade lenet-wasm`, file);
  }
  const weights = {} as Weights;
  for (const p of PARAMETERS) weights[p.name] = tensors.get(p.name)!.data;
  const parse = (key: string): Record<string, unknown> | undefined => {
    if (metadata[key] === undefined) return undefined;
    try {
      return JSON.parse(metadata[key]) as Record<string, unknown>;
    } catch {
      throw new SafetensorsError(`metadata "${key}" is not valid JSON`, file);
    }
  };
  const info: ModelInfo = { formatVersion, architecture };
  const training = parse("training"), metrics = parse("metrics");
  if (training) info.training = training;
  if (metrics) info.metrics = metrics;
  return { weights, info };
}
