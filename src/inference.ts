// lenet-wasm/inference: just what a page that classifies digits needs (the model, model files,
// MNIST-style preprocessing). In browsers a separate, smaller bundle: build/browser/inference.js.
export { LeNet5, argmax, CLASSES, PIXELS, type Architecture, type ArchitectureName, type ParameterSpec, type Images, type LeNet5Options, type Weights } from "./model/lenet.js";
export { decodeModel, decodeInt8Model, encodeInt8Model, isInt8Model, type ModelInfo } from "./io/model-file.js";
export { quantize, LeNet5Int8, type LeNet5Int8Options, type QuantizedWeights } from "./model/int8.js";
export { preprocessDigit, type DigitImage } from "./data/preprocess.js";
export { SafetensorsError } from "./io/safetensors.js";
export { WasmSupportError, type WasmSource } from "./wasm/kernels.js";
