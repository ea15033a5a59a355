// lenet-wasm/inference: just what a page that classifies digits needs (the models, model files,
// MNIST-style preprocessing). In browsers a separate, smaller bundle: build/browser/inference.js.
export { LeNet5, type LayerActivation, type LeNet5Options, type Weights } from "./model/lenet.js";
export { LeNet5Int8, quantize, type LeNet5Int8Options, type QuantizedWeights } from "./model/int8.js";
export { argmax, type Images } from "./model/batches.js";
export { type ArchitectureName, type LayerSpec } from "./model/networks.js";
export { CLASSES, PIXELS } from "./model/geometry.js";
export { decodeModel, decodeInt8Model, encodeInt8Model, isInt8Model, type ModelInfo } from "./io/model-file.js";
export { preprocessDigit, findDigit, NoDigitError, type DigitImage } from "./data/preprocess.js";
export { SafetensorsError } from "./io/safetensors.js";
export { WasmSupportError, type WasmSource } from "./wasm/kernels.js";
