// ONNX export: the exported model runs in a real ONNX runtime (onnxruntime-web, its WebAssembly
// build, here in Node: it ships inside the npm package, no native download) and gives our
// probabilities on the whole MNIST test set. `lenet-wasm export` is tested in test/e2e/onnx-cli.test.ts.
import { fromBinary } from "@bufbuild/protobuf";
import { ModelProtoSchema } from "onnx-buf";
import * as ort from "onnxruntime-web";
import { beforeAll, describe, expect, it } from "vitest";
import { argmax } from "../../src/model/batches.js";
import { CLASSES, PIXELS } from "../../src/model/geometry.js";
import { LeNet5, PARAMETERS, type Weights } from "../../src/model/lenet.js";
import { subset } from "../../src/data/datasets.js";
import { encodeOnnx } from "../../src/io/onnx.js";
import { train } from "../../src/train/train.js";
import { mnist, ONNX_MODEL_INFO, onnxTestModel } from "../helpers.js";

const INFO = ONNX_MODEL_INFO;

/** Runs `onnx` in onnxruntime on the 10k MNIST test images: probabilities within 1e-5 of model.predict(), same top-1. */
async function agreesWithRuntime(model: LeNet5, onnx: Uint8Array): Promise<void> {
    const { test } = mnist();
    ort.env.wasm.numThreads = 1; // no worker threads in the test process
    const session = await ort.InferenceSession.create(onnx);
    expect(session.inputNames).toEqual(["images"]);
    expect([...session.outputNames].sort()).toEqual(["logits", "probabilities"]);
    const ours = model.predict(test.images);
    let maxDiff = 0, agree = 0, logitsAgree = 0;
    const BATCH = 2000;
    for (let start = 0; start < test.count; start += BATCH) {
      const n = Math.min(BATCH, test.count - start);
      const pixels = test.images.subarray(start * PIXELS, (start + n) * PIXELS);
      const input = Float32Array.from(pixels, (v) => v / 255);
      const out = await session.run({ images: new ort.Tensor("float32", input, [n, 1, 28, 28]) });
      const probs = out.probabilities!.data as Float32Array, logits = out.logits!.data as Float32Array;
      expect(out.probabilities!.dims).toEqual([n, CLASSES]);
      expect(out.logits!.dims).toEqual([n, CLASSES]);
      for (let i = 0; i < n; i++) {
        const at = (start + i) * CLASSES;
        for (let c = 0; c < CLASSES; c++) maxDiff = Math.max(maxDiff, Math.abs(probs[i * CLASSES + c]! - ours[at + c]!));
        if (argmax(probs, i * CLASSES, CLASSES) === argmax(ours, at, CLASSES)) agree++;
        if (argmax(logits, i * CLASSES, CLASSES) === argmax(ours, at, CLASSES)) logitsAgree++;
      }
    }
    await session.release();
    console.info(`${model.arch.name}: onnxruntime vs predict(): max |difference| ${maxDiff.toExponential(2)}, top-1 agrees on ${agree}/${test.count}`);
    expect(maxDiff).toBeLessThan(1e-5);
    expect(agree).toBe(test.count);
    expect(logitsAgree).toBe(test.count);
}

describe("ONNX export", () => {
  let model: LeNet5;
  let weights: Weights;
  let onnx: Uint8Array;
  beforeAll(async () => {
    model = await onnxTestModel();
    weights = model.getWeights();
    onnx = encodeOnnx(weights, INFO);
  });

  it("runs in onnxruntime: probabilities within 1e-5 of predict() and the same top-1 on all 10,000 test images", () => agreesWithRuntime(model, onnx));

  it("is a well-formed ModelProto: opset 13, producer, metadata, weights as little-endian raw data", () => {
    const m = fromBinary(ModelProtoSchema, onnx);
    expect(m.irVersion).toBe(7n);
    expect(m.opsetImport.map((o) => [o.domain, o.version])).toEqual([["", 13n]]);
    expect(m.producerName).toBe("lenet-wasm");
    const meta = Object.fromEntries(m.metadataProps.map((p) => [p.key, p.value]));
    expect(meta.dataset).toBe("mnist");
    expect(JSON.parse(meta.class_names!)).toHaveLength(10);
    expect(JSON.parse(meta.training!)).toEqual(INFO.training);
    expect(JSON.parse(meta.metrics!)).toEqual(INFO.metrics);
    expect(m.graph!.node.map((n) => n.opType)).toEqual(["Conv", "Tanh", "AveragePool", "Conv", "Tanh", "AveragePool", "Flatten", "Gemm", "Tanh", "Gemm", "Tanh", "Gemm", "Softmax"]);
    expect(m.graph!.input[0]!.type!.value.case).toBe("tensorType");
    for (const p of PARAMETERS) {
      const t = m.graph!.initializer.find((i) => i.name === p.name)!;
      expect(t.dims.map(Number)).toEqual([...p.shape]);
      const view = new DataView(t.rawData.buffer, t.rawData.byteOffset, t.rawData.byteLength);
      const values = Float32Array.from({ length: t.rawData.length / 4 }, (_, i) => view.getFloat32(i * 4, true));
      expect(values).toEqual(weights[p.name]);
    }
    // Without info: still a model, with the architecture and no training metadata.
    const bare = fromBinary(ModelProtoSchema, encodeOnnx(weights));
    expect(bare.metadataProps.map((p) => p.key)).toEqual(["architecture"]);
  });

  it("rejects weights of the wrong size", () => {
    expect(() => encodeOnnx({ ...weights, "f5.bias": new Float32Array(3) })).toThrow(/f5\.bias needs 120 values/);
  });
});

describe("ONNX export of the 1998 network", () => {
  it.each(["lenet5-1998", "lenet5-1998-softmax"] as const)("%s runs in onnxruntime with predict()'s probabilities (input scaling, padding, squash, subsampling, output)", async (arch) => {
    const model = await LeNet5.create({ arch, seed: 1 });
    await train(model, subset(mnist().train, 0, 3000), { epochs: 1, seed: 1 });
    const onnx = encodeOnnx(model.getWeights(), { ...INFO, architecture: arch });
    const m = fromBinary(ModelProtoSchema, onnx);
    expect(m.graph!.name).toBe(arch);
    expect(Object.fromEntries(m.metadataProps.map((p) => [p.key, p.value])).architecture).toBe(arch);
    await agreesWithRuntime(model, onnx);
  });
});
