// Datasets of other than 10 classes (the `classes` option): the output layer, labels, model files,
// metrics and ONNX follow N. The CLI's --classes N is tested in test/e2e/classes-cli.test.ts.
import * as ort from "onnxruntime-web";
import { describe, expect, it } from "vitest";
import { writeIdx } from "../../src/data/idx.js";
import { LeNet5 } from "../../src/model/lenet.js";
import { datasetFromIdx, DatasetError, subset } from "../../src/data/datasets.js";
import { evaluateDetailed } from "../../src/eval/metrics.js";
import { decodeModel, encodeModel } from "../../src/io/model-file.js";
import { encodeOnnx } from "../../src/io/onnx.js";
import { train } from "../../src/train/train.js";
import { mnist, twelveClasses } from "../helpers.js";

describe("--classes N", () => {
  it("builds an output layer of N units, takes labels up to N-1, and learns them", async () => {
    const data = twelveClasses(subset(mnist().train, 0, 3000));
    const model = await LeNet5.create({ classes: 12, seed: 3 });
    expect(model.classes).toBe(12);
    expect(model.getWeights()["out.weight"]!.length).toBe(12 * 84);
    const result = await train(model, data, { epochs: 2, seed: 3 });
    expect(result.history[1]!.accuracy).toBeGreaterThan(0.6);
    const test = twelveClasses(subset(mnist().test, 0, 1000));
    const e = evaluateDetailed(model, test);
    expect(e.confusion.length).toBe(12);
    expect(e.confusion.flat().reduce((a, b) => a + b, 0)).toBe(1000);
    expect(e.perClass[11]!.support).toBeGreaterThan(0);
    expect(model.predict(test.images, 3).length).toBe(36);
    // Model files remember N, and reload into a 12-class model.
    const { weights, info } = decodeModel(encodeModel(model.getWeights(), { classes: 12 }));
    expect(info.classes).toBe(12);
    const again = await LeNet5.create({ classes: 12 });
    again.setWeights(weights);
    expect(again.predict(test.images, 5)).toEqual(model.predict(test.images, 5));
    // ONNX: N outputs, the same probabilities.
    ort.env.wasm.numThreads = 1;
    const session = await ort.InferenceSession.create(encodeOnnx(weights, info));
    const out = await session.run({ images: new ort.Tensor("float32", Float32Array.from(test.images.subarray(0, 784 * 4), (v) => v / 255), [4, 1, 28, 28]) });
    expect(out.probabilities!.dims).toEqual([4, 12]);
    const ours = model.predict(test.images, 4);
    (out.probabilities!.data as Float32Array).forEach((p, i) => expect(Math.abs(p - ours[i]!)).toBeLessThan(1e-5));
    await session.release();
  });

  it("refuses labels past N-1 (saying how to allow more), and N the network cannot have", async () => {
    const { train: d } = mnist();
    const images = writeIdx({ dtype: "u8", dims: [3, 28, 28], data: d.images.subarray(0, 3 * 784) });
    const labels = writeIdx({ dtype: "u8", dims: [3], data: Uint8Array.of(1, 12, 3) });
    expect(() => datasetFromIdx(images, labels)).toThrow(DatasetError);
    expect(() => datasetFromIdx(images, labels)).toThrow(/label 12 at index 1 is outside 0\.\.9\. For more classes, pass --classes N/);
    expect(datasetFromIdx(images, labels, undefined, 13).count).toBe(3);
    await expect(LeNet5.create({ classes: 1 })).rejects.toThrow(/classes must be an integer in 2\.\.256, got 1/);
    await expect(LeNet5.create({ arch: "lenet5-1998", classes: 12 })).rejects.toThrow(/codes for the 10 digits only/);
    expect((await LeNet5.create({ arch: "lenet5-1998-softmax", classes: 12 })).predict(new Uint8Array(784)).length).toBe(12);
  });
});
