// lenet-wasm: LeNet-5 on MNIST with WebAssembly SIMD kernels. Runs in Node and browsers.
// Node-only helpers (reading MNIST folders, atomic file writes) are in "lenet-wasm/node"; ONNX export
// in "lenet-wasm/onnx" (kept apart: its protobuf code would triple the browser bundle).
export {
  LeNet5, PARAMETERS, PARAMETER_COUNT, PARAMETER_BLOCK, SHARD_SIZE, DEFAULT_ADAM, CLASSES, IMAGE_SIDE, PIXELS, argmax, parameterLayout,
  architecture, ARCHITECTURES, ARCHITECTURE_NAMES, MAX_CLASSES, type Architecture, type ArchitectureName, type ParameterSpec,
  type AdamConfig, type Images, type ImageWriter, type LeNet5Options, type ParameterName, type Weights,
} from "./model/lenet.js";
export {
  train, evaluate, adamConfig, NumericalError,
  type TrainOptions, type TrainResult, type TrainState, type BatchProgress, type EpochMetrics, type Evaluation,
} from "./train/train.js";
export { evaluateDetailed, formatConfusion, type DetailedEvaluation, type ClassMetrics, type Mistake, type Evaluable } from "./eval/metrics.js";
export { renderReport, reportInput, type ReportInput } from "./eval/report.js";
export { datasetFromIdx, splitValidation, subset, DatasetError, CLASS_NAMES, type Dataset, type DatasetName } from "./data/datasets.js";
export { parseIdx, writeIdx, isGzip, IdxError, type IdxArray, type IdxDtype, type IdxData, type IdxErrorCode, type ParseIdxOptions } from "./data/idx.js";
export {
  encodeModel, decodeModel, encodeCheckpoint, decodeCheckpoint, encodeInt8Model, decodeInt8Model, isInt8Model, MODEL_FORMAT_VERSION, ARCHITECTURE,
  type ModelInfo, type Checkpoint,
} from "./io/model-file.js";
export {
  quantize, LeNet5Int8, QUANTIZED_LAYERS, type LeNet5Int8Options, type QuantizedLayer, type QuantizedLayerName, type QuantizedWeights,
} from "./model/int8.js";
export { encodeSafetensors, decodeSafetensors, SafetensorsError, type Dtype, type Tensor, type TensorSpec, type DecodeOptions } from "./io/safetensors.js";
export { loadKernels, defaultWasmUrl, relaxedWasmUrl, relaxedSimdSupported, WasmSupportError, type Kernels, type WasmSource } from "./wasm/kernels.js";
export { Rng } from "./model/rng.js";
export { C3_MASK, RBF_CODES, RBF_RUBBISH, type Net } from "./model/networks.js";
export { distortInto, DEFAULT_DISTORTION, type Distortion, type DistortBatch } from "./train/augment.js";
export { preprocessDigit, type DigitImage } from "./data/preprocess.js";
export { digitImageFromPng, ImageError } from "./data/png.js";
