// Datasets from IDX bytes, splits, model files, and a real-data smoke run of the training loop.
import { describe, expect, it } from "vitest";
import { writeIdx } from "../src/data/idx.js";
import { LeNet5, PARAMETERS } from "../src/model/lenet.js";
import { cropField, datasetFromIdx, DatasetError, splitValidation, subset } from "../src/data/datasets.js";
import { decodeModel, encodeModel } from "../src/io/model-file.js";
import { encodeSafetensors, SafetensorsError } from "../src/io/safetensors.js";
import { evaluate } from "../src/eval/metrics.js";
import { train } from "../src/train/train.js";
import { mnist } from "./helpers.js";

const u8 = (dims: number[], data: Uint8Array) => writeIdx({ dtype: "u8", dims, data });

describe("datasetFromIdx", () => {
  it("reads images and labels, plain or gzipped", () => {
    const images = Uint8Array.from({ length: 2 * 784 }, (_, i) => i % 256);
    const plain = datasetFromIdx(u8([2, 28, 28], images), u8([2], Uint8Array.of(3, 9)));
    const gz = datasetFromIdx(writeIdx({ dtype: "u8", dims: [2, 28, 28], data: images }, { gzip: true }), u8([2], Uint8Array.of(3, 9)));
    expect(plain.count).toBe(2);
    expect(Array.from(gz.labels)).toEqual([3, 9]);
    expect(gz.images).toEqual(images);
  });

  it("rejects mismatched counts, wrong image sizes, bad labels and wrong dtypes, naming the file", () => {
    const img = (n: number, side = 28) => u8([n, side, side], new Uint8Array(n * side * side));
    const names = { images: "imgs.idx", labels: "labs.idx" };
    expect(() => datasetFromIdx(img(3), u8([2], new Uint8Array(2)), names)).toThrow(/labs.idx has 2 labels but imgs.idx has 3 images/);
    expect(() => datasetFromIdx(img(2, 24), u8([2], new Uint8Array(2)), names)).toThrow(/imgs.idx: images are 24x24/);
    expect(() => datasetFromIdx(img(2), u8([2], Uint8Array.of(1, 10)), names)).toThrow(/labs.idx: label 10 at index 1/);
    const f32 = writeIdx({ dtype: "f32", dims: [2], data: new Float32Array(2) });
    expect(() => datasetFromIdx(img(2), f32, names)).toThrow(DatasetError);
  });

  it("splits off the last images for validation without copying", () => {
    const { train: all } = mnist();
    const { train: t, validation: v } = splitValidation(all, 5000);
    expect([t.count, v.count]).toEqual([55000, 5000]);
    expect(v.labels[0]).toBe(all.labels[55000]);
    expect(v.images.buffer).toBe(all.images.buffer);
    expect(() => splitValidation(all, 60000)).toThrow(RangeError);
    expect(() => subset(all, 59999, 2)).toThrow(RangeError);
  });
});

describe("model files", () => {
  it("round-trip weights and metadata bit for bit", async () => {
    const m = await LeNet5.create({ seed: 5 });
    const bytes = encodeModel(m.getWeights(), { training: { epochs: 1 }, metrics: { test_accuracy: 0.5 } });
    const { weights, info } = decodeModel(bytes, "m.safetensors");
    expect(weights).toEqual(m.getWeights());
    expect(info).toEqual({ formatVersion: 1, architecture: "lenet5", classes: 10, training: { epochs: 1 }, metrics: { test_accuracy: 0.5 } });
  });

  it("accept a plain state_dict without metadata (as saved from PyTorch)", async () => {
    const w = (await LeNet5.create()).getWeights();
    const bytes = encodeSafetensors(Object.fromEntries(PARAMETERS.map((p) => [p.name, { shape: [...p.shape], data: w[p.name] }])));
    expect(decodeModel(bytes).weights["f6.bias"]).toEqual(w["f6.bias"]);
  });

  it("reject other architectures, newer formats and wrong shapes with the file name", async () => {
    const w = (await LeNet5.create()).getWeights();
    const tensors = Object.fromEntries(PARAMETERS.map((p) => [p.name, { shape: [...p.shape], data: w[p.name] }]));
    expect(() => decodeModel(encodeSafetensors(tensors, { architecture: "resnet" }), "x.st")).toThrow(/x.st: architecture is "resnet"/);
    expect(() => decodeModel(encodeSafetensors(tensors, { format_version: "2" }), "x.st")).toThrow(/format_version "2" is not supported/);
    const wrong = { ...tensors, "f5.weight": { shape: [400, 120], data: w["f5.weight"] } };
    expect(() => decodeModel(encodeSafetensors(wrong), "x.st")).toThrow(SafetensorsError);
    expect(() => decodeModel(encodeSafetensors(wrong), "x.st")).toThrow(/f5.weight/);
  });
});

describe("multi-core training", () => {
  it("gives bit-identical weights with 1, 2 and 3 threads (fixed shards summed in order)", async () => {
    const data = subset(mnist().train, 0, 600);
    const weights = [];
    for (const threads of [1, 2, 3]) {
      const model = await LeNet5.create({ seed: 4 });
      // 600 images: 18 full batches and a last one of 24 (3 shards), so a thread may get no shard.
      const result = await train(model, data, { epochs: 2, seed: 4, threads });
      expect(result.history[1]!.loss).toBeLessThan(result.history[0]!.loss);
      weights.push(model.getWeights());
    }
    for (const p of PARAMETERS) {
      const one = Buffer.from(weights[0]![p.name].buffer);
      expect(one.equals(Buffer.from(weights[1]![p.name].buffer)), `${p.name}: 1 vs 2 threads`).toBe(true);
      expect(one.equals(Buffer.from(weights[2]![p.name].buffer)), `${p.name}: 1 vs 3 threads`).toBe(true);
    }
  });
});

describe("training on real MNIST (smoke run)", () => {
  it("learns: 4,000 images, 1 epoch -> far above chance on 2,000 test images", async () => {
    const { train: all, test } = mnist();
    const model = await LeNet5.create({ seed: 1 });
    const before = evaluate(model, subset(test, 0, 2000));
    const epochs: number[] = [];
    let batches = 0;
    const result = await train(model, subset(all, 0, 4000), {
      epochs: 1, seed: 1,
      onBatchEnd: () => batches++,
      onEpochEnd: (m) => epochs.push(m.epoch),
    });
    const after = evaluate(model, subset(test, 0, 2000));
    expect(batches).toBe(125);
    expect(epochs).toEqual([1]);
    expect(result.history[0]!.loss).toBeLessThan(1.0);
    expect(before.accuracy).toBeLessThan(0.3);
    expect(after.accuracy).toBeGreaterThan(0.85); // chance is 0.10
    expect(after.loss).toBeLessThan(before.loss / 3);
  });

  it("validates its options before any work", async () => {
    const model = await LeNet5.create({ batchSize: 32 });
    const data = subset(mnist().train, 0, 10);
    await expect(train(model, data, { epochs: 0 })).rejects.toThrow(/epochs must be an integer/);
    await expect(train(model, data, { batchSize: 64 })).rejects.toThrow(/batchSize must be an integer in 1..32/);
    await expect(train(model, data, { adam: { lr: NaN } })).rejects.toThrow(/lr must be a number in \(0, 10\), got NaN/);
    await expect(train(model, data, { adam: { beta1: 1 } })).rejects.toThrow(/beta1/);
    await expect(train(model, data, { threads: 0 })).rejects.toThrow(/threads must be an integer/);
  });
});

describe("32x32 images (the 1998 paper's input field)", () => {
  /** MNIST images padded with a blank border of 2: 32x32, as LeNet-5's input field. */
  const padded = (count: number) => {
    const { test } = mnist();
    const out = new Uint8Array(count * 1024);
    for (let n = 0; n < count; n++) {
      for (let y = 0; y < 28; y++) out.set(test.images.subarray(n * 784 + y * 28, n * 784 + y * 28 + 28), n * 1024 + (y + 2) * 32 + 2);
    }
    return { images: out, labels: test.labels.subarray(0, count) };
  };

  it("are read as the 28x28 digits inside their blank border, pixel for pixel (in shared memory when given it)", () => {
    const { images, labels } = padded(50);
    const d = datasetFromIdx(writeIdx({ dtype: "u8", dims: [50, 32, 32], data: images }), writeIdx({ dtype: "u8", dims: [50], data: labels }));
    expect(d.count).toBe(50);
    expect(d.images).toEqual(new Uint8Array(mnist().test.images.subarray(0, 50 * 784)));
    const bytes = writeIdx({ dtype: "u8", dims: [50, 32, 32], data: images });
    const shared = new Uint8Array(new SharedArrayBuffer(bytes.length));
    shared.set(bytes);
    expect(datasetFromIdx(shared, writeIdx({ dtype: "u8", dims: [50], data: labels })).images.buffer).toBeInstanceOf(SharedArrayBuffer);
  });

  it("with ink in the border, or of another size, are refused naming the image and the place", () => {
    const { images, labels } = padded(5);
    images[3 * 1024 + 30 * 32 + 7] = 200; // image 3, row 30, column 7: in the bottom border
    const labelFile = writeIdx({ dtype: "u8", dims: [5], data: labels });
    expect(() => datasetFromIdx(writeIdx({ dtype: "u8", dims: [5, 32, 32], data: images }), labelFile, { images: "pad.idx", labels: "l" }))
      .toThrow(/pad\.idx: 32x32 images are read as 28x28 digits in a blank 2-pixel border .* image 3 has ink \(200\) at row 30, column 7/);
    // One image cut out of a file (predict --idx FILE --index 7) is named by its number in the file.
    expect(() => cropField(images.subarray(3 * 1024, 4 * 1024), 1, "one.idx", 7)).toThrow(/one\.idx: .* image 7 has ink/);
    expect(() => datasetFromIdx(writeIdx({ dtype: "u8", dims: [5, 30, 30], data: new Uint8Array(4500) }), labelFile))
      .toThrow(/images are 30x30; the networks read 28x28 images \(or 32x32 with a blank 2-pixel border\)/);
  });
});
