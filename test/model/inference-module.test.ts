// The browser's inference bundle inlines build/lenet.inference.wasm, a module of the forward
// kernels alone (assembly/inference.ts): it must predict exactly as the whole module does, for
// every network and int8, and say clearly that it cannot train.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { decodeModel } from "../../src/io/model-file.js";
import { quantize, LeNet5Int8 } from "../../src/model/int8.js";
import { LeNet5 } from "../../src/model/lenet.js";
import { WasmSupportError } from "../../src/wasm/kernels.js";
import { mnist } from "../helpers.js";

const inferenceWasm = readFileSync(new URL("../../build/lenet.inference.wasm", import.meta.url));
const shipped = decodeModel(readFileSync(new URL("../../examples/web/lenet5.safetensors", import.meta.url))).weights;
const images = mnist().test.images.subarray(0, 1000 * 784);
const same = (a: Float32Array, b: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

describe("the inference module (forward kernels only)", () => {
  it("gives the whole module's probabilities and activations bit for bit: lenet5 (the shipped model), lenet5-1998, lenet5-1998-softmax", async () => {
    for (const arch of ["lenet5", "lenet5-1998", "lenet5-1998-softmax"] as const) {
      const whole = await LeNet5.create({ arch, seed: 3 });
      const forward = await LeNet5.create({ arch, seed: 3, wasm: inferenceWasm });
      if (arch === "lenet5") for (const m of [whole, forward]) m.setWeights(shipped);
      expect(same(forward.predict(images), whole.predict(images)), arch).toBe(true);
      // Every layer of one image too (activations stores every layer, as the training forward pass does).
      const [a, b] = [forward, whole].map((m) => m.activations(images.subarray(0, 784)));
      for (let i = 0; i < a!.length; i++) expect(same(a![i]!.values, b![i]!.values), `${arch} ${a![i]!.name}`).toBe(true);
    }
  });

  it("runs int8 as the whole module does", async () => {
    const whole = await quantize(shipped, mnist().train.images.subarray(0, 1000 * 784));
    const forward = await LeNet5Int8.create(whole.weights, { wasm: inferenceWasm });
    expect(same(forward.predict(images), whole.predict(images))).toBe(true);
  });

  it("cannot train, and says so", async () => {
    const model = await LeNet5.create({ wasm: inferenceWasm });
    model.setBatch({ images, labels: mnist().test.labels, count: 8 });
    expect(() => model.trainStep(8)).toThrow(WasmSupportError);
    expect(() => model.trainStep(8)).toThrow(/holds the forward kernels only .* it predicts but cannot train\. Train with lenet-wasm/);
  });
});
