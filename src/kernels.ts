// lenet-wasm/kernels: the raw WebAssembly kernels, for benchmarks and experiments. UNSTABLE: names,
// arguments and layouts change between versions without notice. Kernels take byte offsets into the
// module's memory and check nothing; LeNet5 and LeNet5Int8 are the safe way to run them.
export { loadKernels, defaultWasmUrl, relaxedWasmUrl, type Kernels, type WasmSource } from "./wasm/kernels.js";
export { allocateRegions, alignedLength, type Region } from "./wasm/arena.js";
export { packConvWeightRows, packConvWeightPixels } from "./model/int8.js";
export { PARAMETER_BLOCK, SHARD_SIZE, parameterLayout } from "./model/lenet.js";
