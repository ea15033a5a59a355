// lenet-wasm/node: Node-only helpers: reading MNIST-style folders and installed datasets, atomic file writes.
export { readMnist, readMnistPart, defaultMnistDir, findMnistFile, MNIST_FILES, FASHION_MNIST_DIR, type MnistPart } from "./data/node-files.js";
export { writeFileAtomic } from "./io/atomic-file.js";
