// lenet-wasm/node: Node-only helpers: datasets (a folder, an installed copy, or downloaded and cached),
// folders of your own pictures and converting them, atomic file writes.
export {
  loadDataset, datasetDir, readMnist, readMnistPart, defaultMnistDir, findMnistFile, readClassesFile, MNIST_FILES, FASHION_MNIST_DIR, CLASSES_FILE,
  type MnistPart, type LoadDatasetOptions,
} from "./data/node-files.js";
export {
  readImageFolder, writeImageFolder, writeIdxFolder, isImageFolder, type NamedDataset, type ReadImageFolderOptions, type DatasetToWrite,
} from "./data/image-folder.js";
export { downloadDataset, cacheDir, REMOTE_DATASETS, DownloadError, type DownloadOptions, type RemoteDataset, type RemoteFile } from "./data/download.js";
export { writeFileAtomic } from "./data/atomic-file.js";
