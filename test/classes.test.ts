// Datasets of other than 10 classes (--classes N, the `classes` option): the output layer, labels,
// model files, metrics, the CLI and ONNX follow N.
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as ort from "onnxruntime-web";
import { describe, expect, it } from "vitest";
import { writeIdx } from "../src/data/idx.js";
import { LeNet5 } from "../src/model/lenet.js";
import { datasetFromIdx, DatasetError, subset, type Dataset } from "../src/data/datasets.js";
import { evaluateDetailed } from "../src/eval/metrics.js";
import { decodeModel, encodeModel } from "../src/io/model-file.js";
import { encodeOnnx } from "../src/io/onnx.js";
import { train } from "../src/train/train.js";
import { mnist, writeMnistDir } from "./helpers.js";

const CLI = fileURLToPath(new URL("../build/cli/main.js", import.meta.url));
const run = (...args: string[]) => {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

/** MNIST images with 12 classes: digits 0-9, and 10 / 11 for the 0s and 1s whose index is odd. */
function twelveClasses(d: Dataset): Dataset {
  const labels = d.labels.map((l, i) => (l < 2 && i % 2 === 1 ? 10 + l : l));
  return { ...d, labels };
}

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

  it("CLI: train --classes 12 on a 12-class folder; evaluate, predict and export follow the model", () => {
    const dir = mkdtempSync(join(tmpdir(), "lenet-classes-"));
    writeMnistDir(dir, 1500, 300);
    const relabel = (name: string, gz: boolean) => {
      const file = join(dir, name + (gz ? ".gz" : ""));
      const count = name.startsWith("train") ? 1500 : 300;
      const labels = twelveClasses({ images: new Uint8Array(0), labels: (name.startsWith("train") ? subset(mnist().train, 0, count) : subset(mnist().test, 0, count)).labels, count }).labels;
      writeFileSync(file, writeIdx({ dtype: "u8", dims: [count], data: labels }, { gzip: gz }));
    };
    relabel("train-labels-idx1-ubyte", false);
    relabel("t10k-labels-idx1-ubyte", true);
    const plain = run("train", "--data", dir, "--epochs", "1", "--validation", "300", "--out", join(dir, "ten.safetensors"));
    expect(plain.code).toBe(1);
    expect(plain.stderr).toMatch(/label 1[01] at index \d+ is outside 0\.\.9\. For more classes, pass --classes N/);
    const out = join(dir, "twelve.safetensors");
    const r = run("train", "--data", dir, "--classes", "12", "--epochs", "1", "--validation", "300", "--out", out, "--json", "--quiet");
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim().split("\n").pop()!).settings.classes).toBe(12);
    const e = run("evaluate", "--model", out, "--data", dir, "--json");
    expect(e.code, e.stderr).toBe(0);
    const ev = JSON.parse(e.stdout);
    expect(ev.classes).toEqual(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11"]);
    expect(ev.confusion.length).toBe(12);
    const p = run("predict", "--model", out, "--idx", join(dir, "t10k-images-idx3-ubyte.gz"), "--index", "1", "--top", "12", "--json");
    expect(p.code, p.stderr).toBe(0);
    expect(JSON.parse(p.stdout).predictions[0].probabilities.length).toBe(12);
    expect(run("train", "--data", dir, "--classes", "12", "--arch", "lenet5-1998").stderr).toMatch(/codes for the 10 digits only/);
    expect(run("evaluate", "--model", out, "--data", dir, "--int8").stderr).toMatch(/int8 runs 10-class models only; .*twelve\.safetensors has 12 classes. Leave out --int8/);
  });
});
