// A real-data smoke run of the training loop, its option checks, and multi-core determinism.
import { describe, expect, it } from "vitest";
import { LeNet5, PARAMETERS } from "../../src/model/lenet.js";
import { subset } from "../../src/data/datasets.js";
import { evaluate } from "../../src/eval/metrics.js";
import { train } from "../../src/train/train.js";
import { fromWorkerMessage, toWorkerMessage, type WorkerSetup } from "../../src/train/worker-setup.js";
import { mnist } from "../helpers.js";

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

describe("what a training worker is sent", () => {
  it("holds SharedArrayBuffers, not views over them (some runtimes copy views element by element), and the worker's views share the memory", () => {
    const sab = (n: number) => new SharedArrayBuffer(n);
    const images = new Uint8Array(sab(64), 8, 40);
    const setup = {
      index: 1, threads: 2, arch: "lenet5", classes: 10, fastMath: false, distortion: null, seed: 3,
      control: new Int32Array(sab(32)), order: new Uint32Array(sab(16)), params: new Float32Array(sab(16)), slots: new Float32Array(sab(32)),
      stats: new Float64Array(sab(32)), images, labels: new Uint8Array(sab(8)), error: new Uint8Array(sab(8)),
    } satisfies WorkerSetup;
    const message = toWorkerMessage(setup);
    for (const value of Object.values(message)) expect(ArrayBuffer.isView(value)).toBe(false);
    const received = fromWorkerMessage(structuredClone(message));
    expect(received.images).toBeInstanceOf(Uint8Array);
    expect([received.images.byteOffset, received.images.length]).toEqual([8, 40]);
    expect(received.stats).toBeInstanceOf(Float64Array);
    received.control[3] = 7; // the worker writes, the spawner sees it
    received.images[0] = 9;
    expect([setup.control[3], images[0]]).toEqual([7, 9]);
    expect({ ...received, control: 0, order: 0, params: 0, slots: 0, stats: 0, images: 0, labels: 0, error: 0 })
      .toEqual({ ...setup, control: 0, order: 0, params: 0, slots: 0, stats: 0, images: 0, labels: 0, error: 0 });
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

  it("yields to the event loop every yieldEvery batches, so a page can pause or step after any batch", async () => {
    const data = subset(mnist().train, 0, 96); // 3 batches of 32 an epoch
    const yields = async (yieldEvery?: number) => {
      const model = await LeNet5.create({ batchSize: 32 });
      const at: number[] = [], means: [number, number, number, number][] = [];
      let batch = 0;
      await train(model, data, {
        epochs: 2, yieldEvery, onYield: () => void at.push(batch),
        onBatchEnd: (p) => {
          batch = p.batch;
          means.push([p.batchLoss, p.loss, p.batchAccuracy, p.accuracy]);
        },
      });
      return { at, means, weights: model.getWeights() };
    };
    const every = await yields(1), twice = await yields(2), fallback = await yields();
    // Each batch's own loss and accuracy; the running means are their means over the epoch so far (batches of 32).
    for (let i = 0; i < every.means.length; i++) {
      const epochStart = i - (i % 3), sofar = every.means.slice(epochStart, i + 1);
      for (const [own, running] of [[0, 1], [2, 3]] as const) {
        const mean = sofar.reduce((a, m) => a + m[own], 0) / sofar.length;
        expect(Math.abs(mean - every.means[i]![running])).toBeLessThan(1e-6 * Math.max(1, Math.abs(mean)));
      }
    }
    expect(every.at).toEqual([1, 2, 3, 1, 2, 3]);
    expect(twice.at).toEqual([2, 2]);
    expect(fallback.at).toEqual([]); // 32 by default: never within 3-batch epochs
    for (const p of PARAMETERS) expect(every.weights[p.name], p.name).toEqual(fallback.weights[p.name]);
    await expect(train(await LeNet5.create(), data, { yieldEvery: 0 })).rejects.toThrow(/yieldEvery must be an integer/);
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
