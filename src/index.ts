// lenet-wasm: LeNet-5 on MNIST with WebAssembly SIMD kernels, in Node and browsers. The stable API;
// docs/api.md says what each entry point holds. Node-only helpers are in "lenet-wasm/node", ONNX
// export in "lenet-wasm/onnx" (its protobuf code would triple the browser bundle), the raw kernels
// in "lenet-wasm/kernels" (unstable).

// Models: f32 (training and inference) and int8 (inference).
export { LeNet5, PARAMETERS, PARAMETER_COUNT, DEFAULT_ADAM, type AdamConfig, type LayerActivation, type LeNet5Options, type ParameterName, type Weights } from "./model/lenet.js";
export { LeNet5Int8, quantize, type LeNet5Int8Options, type QuantizedLayer, type QuantizedLayerName, type QuantizedWeights } from "./model/int8.js";
export { argmax, type Batch, type Classifier, type Images, type ImageWriter } from "./model/batches.js";
export { architecture, ARCHITECTURE_NAMES, C3_MASK, RBF_CODES, type Architecture, type ArchitectureName, type LayerSpec, type ParameterSpec } from "./model/networks.js";
export { CLASSES, IMAGE_SIDE, MAX_CLASSES, PIXELS } from "./model/geometry.js";
export { relaxedSimdSupported, WasmSupportError, type WasmSource } from "./wasm/kernels.js";
export { OptionError } from "./model/option-error.js";

// Data: MNIST-style datasets from IDX bytes, and pictures of digits.
export { datasetFromIdx, splitValidation, subset, DatasetError, CLASS_NAMES, type Dataset, type DatasetName } from "./data/datasets.js";
export { parseIdx, writeIdx, isGzip, IdxError, type IdxArray, type IdxDtype, type IdxData, type IdxErrorCode, type ParseIdxOptions } from "./data/idx.js";
export { preprocessDigit, findDigit, toMnistImage, NoDigitError, type DigitImage } from "./data/preprocess.js";
export { digitImageFromPng, ImageError } from "./data/png.js";

// Training.
export {
  train, adamConfig, NumericalError, type TrainOptions, type TrainResult, type TrainState, type BatchProgress,
} from "./train/train.js";
export { RECIPES, recipe, type Recipe, type RecipeName } from "./train/recipes.js";
export { DEFAULT_DISTORTION, type Distortion } from "./train/augment.js";

// Evaluation and reports.
export {
  evaluate, evaluateDetailed, formatConfusion, type Evaluation, type EpochMetrics, type DetailedEvaluation, type ClassMetrics, type Mistake,
} from "./eval/metrics.js";
export { renderReport, reportInput, type ReportInput } from "./eval/report.js";

// Model files.
export {
  encodeModel, decodeModel, encodeCheckpoint, decodeCheckpoint, encodeInt8Model, decodeInt8Model, isInt8Model, MODEL_FORMAT_VERSION,
  type ModelInfo, type Checkpoint,
} from "./io/model-file.js";
export { SafetensorsError } from "./io/safetensors.js";
