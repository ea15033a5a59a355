// lenet-wasm: LeNet-5 on MNIST with WebAssembly SIMD kernels. Runs in Node and browsers.
// Node-only helpers (reading MNIST folders, atomic file writes) are in "lenet-wasm/node".
export {
  LeNet5, PARAMETERS, PARAMETER_COUNT, DEFAULT_ADAM, CLASSES, IMAGE_SIDE, PIXELS, argmax,
  type AdamConfig, type Images, type LeNet5Options, type ParameterName, type Weights,
} from "./lenet.js";
export {
  train, evaluate, adamConfig,
  type TrainOptions, type TrainResult, type BatchProgress, type EpochMetrics, type Evaluation,
} from "./train.js";
export { datasetFromIdx, splitValidation, subset, DatasetError, type Dataset } from "./mnist.js";
export { parseIdx, writeIdx, isGzip, IdxError, type IdxArray, type IdxDtype, type IdxData, type IdxErrorCode, type ParseIdxOptions } from "./idx.js";
export { encodeModel, decodeModel, MODEL_FORMAT_VERSION, ARCHITECTURE, type ModelInfo } from "./model-file.js";
export { encodeSafetensors, decodeSafetensors, SafetensorsError, type Tensor, type TensorSpec, type DecodeOptions } from "./safetensors.js";
export { loadKernels, defaultWasmUrl, WasmSupportError, type Kernels, type WasmSource } from "./wasm.js";
export { Rng } from "./rng.js";
