// lenet-wasm/node: Node-only helpers: datasets (a folder, an installed copy, or downloaded and cached), atomic file writes.
export {
  loadDataset, datasetDir, readMnist, readMnistPart, defaultMnistDir, findMnistFile, MNIST_FILES, FASHION_MNIST_DIR, type MnistPart, type LoadDatasetOptions,
} from "./data/node-files.js";
export { downloadDataset, cacheDir, REMOTE_DATASETS, DownloadError, type DownloadOptions, type RemoteDataset, type RemoteFile } from "./data/download.js";
export { writeFileAtomic } from "./data/atomic-file.js";
