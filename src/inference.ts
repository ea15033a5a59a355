// lenet-wasm/inference: just what a page that classifies digits needs (the model, model files,
// MNIST-style preprocessing). In browsers a separate, smaller bundle: build/browser/inference.js.
export { LeNet5, argmax, CLASSES, PIXELS, type Architecture, type ArchitectureName, type ParameterSpec, type Images, type LeNet5Options, type Weights } from "./lenet.js";
export { decodeModel, type ModelInfo } from "./model-file.js";
export { preprocessDigit, type DigitImage } from "./preprocess.js";
export { SafetensorsError } from "./safetensors.js";
export { WasmSupportError, type WasmSource } from "./wasm.js";
