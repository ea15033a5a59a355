// The 1998 LeNet-5 ("lenet5-1998"): the WASM model against its float64 reference
// (test/ref/lenet1998_ref.ts), finite differences of its own loss, C3's connection table, the RBF
// codes, multi-thread bit-identity, and model files that say which network they hold.
import { beforeAll, describe, expect, it } from "vitest";
import { C3_MASK, LENET5_1998, RBF_CODES, RBF_RUBBISH } from "../../src/model/networks.js";
import { LeNet5, PARAMETERS as LeNet5Parameters, type Weights } from "../../src/model/lenet.js";
import { subset } from "../../src/data/datasets.js";
import { decodeCheckpoint, decodeModel, encodeCheckpoint, encodeModel } from "../../src/io/model-file.js";
import { encodeSafetensors } from "../../src/io/safetensors.js";
import { train } from "../../src/train/train.js";
import { mnist } from "../helpers.js";
import { lenet1998_backward_ref, lenet1998_forward_ref } from "../ref/lenet1998_ref.js";
import { makeRng } from "../ref/random.js";

const PARAMS = LENET5_1998.parameters;

function randomBatch(seed: number, B: number) {
  const rng = makeRng(seed);
  const bytes = Uint8Array.from({ length: B * 784 }, () => Math.floor(rng() * 256));
  const labels = Int32Array.from({ length: B }, () => Math.floor(rng() * 10));
  // What the model's input region holds: a 32x32 slot, border -0.1, pixels -0.1 + 1.275 v / 255, in f32.
  const input = new Float64Array(B * 1024).fill(Math.fround(-0.1));
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < 784; i++) input[b * 1024 + (2 + Math.floor(i / 28)) * 32 + 2 + (i % 28)] = Math.fround(-0.1 + (1.275 * bytes[b * 784 + i]!) / 255);
  }
  return { bytes, labels, labelBytes: Uint8Array.from(labels), input };
}

function firstMismatch(got: ArrayLike<number>, want: ArrayLike<number>, atol: number, rtol: number): number {
  for (let i = 0; i < want.length; i++) if (!(Math.abs(got[i]! - want[i]!) <= atol + rtol * Math.abs(want[i]!))) return i;
  return got.length === want.length ? -1 : want.length;
}

const toF64 = (w: Weights) => Object.fromEntries(Object.entries(w).map(([k, v]) => [k, Float64Array.from(v)]));

describe("LeNet-5 1998 (WASM) vs its float64 reference", () => {
  let model: LeNet5;
  beforeAll(async () => {
    model = await LeNet5.create({ arch: "lenet5-1998", seed: 3, batchSize: 16 });
  });

  it("has the paper's 60,000 trainable parameters, Table I's 60 connections and +-1 codes for 10 distinct classes", () => {
    expect(LENET5_1998.trainableCount).toBe(60000);
    expect(C3_MASK.reduce((a, b) => a + b, 0)).toBe(60 * 25);
    // Maps 0-5 read 3 contiguous S2 maps, 6-11 read 4, 12-14 read 4 non-contiguous, 15 reads all 6.
    const reads = Array.from({ length: 16 }, (_, m) => Array.from({ length: 6 }, (_, s) => C3_MASK[(m * 6 + s) * 25]).filter(Boolean).length);
    expect(reads).toEqual([3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 6]);
    expect(RBF_CODES.length).toBe(840);
    expect(RBF_CODES.every((v) => v === 1 || v === -1)).toBe(true);
    const codes = Array.from({ length: 10 }, (_, i) => RBF_CODES.subarray(i * 84, i * 84 + 84).join());
    expect(new Set(codes).size).toBe(10);
  });

  it("initialises weights uniform in +-2.4/fan-in (zero outside the connection table), zero biases, reproducibly", async () => {
    const w = model.getWeights();
    const limits: Record<string, number> = { "c1.weight": 2.4 / 25, "s2.weight": 0.6, "s4.weight": 0.6, "c5.weight": 2.4 / 400, "f6.weight": 2.4 / 120 };
    for (const p of PARAMS) {
      const data = w[p.name]!;
      if (p.name.endsWith(".bias")) expect(data.every((x) => x === 0), p.name).toBe(true);
      else if (p.name !== "c3.weight") {
        const max = data.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
        expect(max, p.name).toBeLessThanOrEqual(limits[p.name]!);
        expect(max, p.name).toBeGreaterThan((p.shape[0]! < 10 ? 0.5 : 0.9) * limits[p.name]!);
      }
    }
    const c3 = w["c3.weight"]!;
    for (let i = 0; i < c3.length; i++) {
      if (C3_MASK[i] === 0) expect(c3[i] === 0, `c3.weight[${i}] = ${c3[i]} outside the table`).toBe(true);
      else expect(Math.abs(c3[i]!)).toBeLessThanOrEqual(2.4 / (25 * [3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 6][Math.floor(i / 150)]!));
    }
    const again = await LeNet5.create({ arch: "lenet5-1998", seed: 3 });
    expect(again.getWeights()["c5.weight"]).toEqual(w["c5.weight"]);
  });

  it("shows every layer of one image (activations), as the reference computes them; probabilities as predict's", async () => {
    const m = await LeNet5.create({ arch: "lenet5-1998", seed: 8, batchSize: 1 });
    const { bytes, labels, input } = randomBatch(12, 1);
    const { cache } = lenet1998_forward_ref(toF64(m.getWeights()), C3_MASK, Float64Array.from(RBF_CODES), RBF_RUBBISH, input, labels, 1);
    const layers = m.activations(bytes);
    expect(layers.map((l) => `${l.name} ${l.shape.join("x")}`)).toEqual(
      ["input 1x32x32", "c1 6x28x28", "s2 6x14x14", "c3 16x10x10", "s4 16x5x5", "c5 120", "f6 84", "logits 11", "probs 10"]);
    const at = Object.fromEntries(layers.map((l) => [l.name, l.values]));
    expect(firstMismatch(at.input!, input, 1e-7, 0)).toBe(-1);
    for (const name of ["c1", "s2", "c3", "s4", "c5", "f6"] as const) {
      const i = firstMismatch(at[name]!, cache[name], 1e-5, 1e-4);
      expect(i, `${name}[${i}]`).toBe(-1);
    }
    expect(Array.from(at.probs!)).toEqual(Array.from(m.predict(bytes)));
  });

  it("gives the reference's loss, probabilities and gradients", async () => {
    const B = 5;
    const m = await LeNet5.create({ arch: "lenet5-1998", seed: 8, batchSize: B });
    const w = m.getWeights();
    const rng = makeRng(9);
    for (const p of PARAMS) if (p.name.endsWith(".bias")) w[p.name] = Float32Array.from(w[p.name]!, () => (rng() - 0.5) * 0.4);
    m.setWeights(w);
    const { bytes, labels, labelBytes, input } = randomBatch(11, B);
    const ref = toF64(m.getWeights());
    const codes = Float64Array.from(RBF_CODES);
    const { loss: refLoss, probs: refProbs, cache } = lenet1998_forward_ref(ref, C3_MASK, codes, RBF_RUBBISH, input, labels, B);
    const refGrads = lenet1998_backward_ref(ref, C3_MASK, codes, labels, B, refProbs, cache);
    const { loss, gradients } = m.lossAndGradients(bytes, labelBytes, B);
    expect(Math.abs(loss - refLoss), `loss ${loss} vs ${refLoss}`).toBeLessThan(1e-5 * refLoss);
    // predict(): softmax over the 10 classes' scores, i.e. the 11-way probabilities without the rubbish unit, renormalised.
    const want10 = Array.from({ length: B * 10 }, (_, i) => {
      const b = Math.floor(i / 10), row = refProbs.subarray(b * 11, b * 11 + 10);
      return row[i % 10]! / row.reduce((a, c) => a + c, 0);
    });
    expect(firstMismatch(m.predict(bytes, B), want10, 1e-6, 1e-5)).toBe(-1);
    for (const p of PARAMS) {
      const want = refGrads[p.name]!, got = gradients[p.name]!;
      const scale = want.reduce((s, x) => Math.max(s, Math.abs(x)), 0);
      expect(scale, p.name).toBeGreaterThan(0);
      const i = firstMismatch(got, want, 1e-4 * scale, 1e-3);
      expect(i, `${p.name}[${i}]: got ${got[i]}, want ${want[i]}`).toBe(-1);
    }
  });

  it.each(["lenet5-1998", "lenet5-1998-softmax"] as const)("%s has gradients that match finite differences of its own loss (float32)", async (arch) => {
    const B = 4;
    const m = await LeNet5.create({ arch, seed: 21, batchSize: B });
    const w = m.getWeights();
    const rng = makeRng(5);
    for (const p of m.arch.parameters) if (p.name.endsWith(".bias")) w[p.name] = Float32Array.from(w[p.name]!, () => (rng() - 0.5) * 0.2);
    m.setWeights(w);
    const { bytes, labelBytes } = randomBatch(12, B);
    const { gradients } = m.lossAndGradients(bytes, labelBytes, B);
    const h = 1e-2;
    for (const p of m.arch.parameters) {
      const g = gradients[p.name]!, values = w[p.name]!;
      const idx = Array.from(g.keys()).sort((a, b) => Math.abs(g[b]!) - Math.abs(g[a]!)).slice(0, 3);
      for (const i of idx) {
        const orig = values[i]!;
        values[i] = orig + h; m.setWeights(w);
        const up = m.lossAndGradients(bytes, labelBytes, B).loss;
        values[i] = orig - h; m.setWeights(w);
        const down = m.lossAndGradients(bytes, labelBytes, B).loss;
        values[i] = orig; m.setWeights(w);
        const fd = (up - down) / (2 * h);
        expect(Math.abs(fd - g[i]!), `${p.name}[${i}] fd ${fd} analytic ${g[i]}`).toBeLessThan(2e-3 + 0.05 * Math.abs(g[i]!));
      }
    }
  });

  it("keeps C3's weights outside the connection table at exactly 0 through training and setWeights", async () => {
    const m = await LeNet5.create({ arch: "lenet5-1998", seed: 4, batchSize: 8 });
    const { bytes, labelBytes } = randomBatch(14, 8);
    for (let i = 0; i < 5; i++) {
      m.setBatch({ images: bytes, labels: labelBytes, count: 8 });
      m.trainStep(8);
    }
    const outside = (w: Float32Array) => w.filter((_, i) => C3_MASK[i] === 0);
    const c3 = m.getWeights()["c3.weight"]!;
    expect(outside(c3).every((x) => x === 0)).toBe(true);
    expect(c3.filter((_, i) => C3_MASK[i] === 1).every((x) => x !== 0)).toBe(true);
    expect(outside(m.getAdamState().v["c3.weight"]!).every((x) => x === 0)).toBe(true);
    m.setWeights({ ...m.getWeights(), "c3.weight": new Float32Array(2400).fill(0.5) });
    expect(outside(m.getWeights()["c3.weight"]!).every((x) => x === 0)).toBe(true);
  });

  it("trains to bit-identical weights on 1 and 2 threads, and learns", async () => {
    const data = subset(mnist().train, 0, 2000);
    const run = async (threads: number) => {
      const m = await LeNet5.create({ arch: "lenet5-1998", seed: 2 });
      const r = await train(m, data, { epochs: 2, threads, seed: 2 });
      return { w: m.parameterBlock().slice(), r };
    };
    const [one, two] = [await run(1), await run(2)];
    expect(Buffer.from(one.w.buffer).equals(Buffer.from(two.w.buffer))).toBe(true);
    // 2 x 63 steps from a loss of ~74 (squared distances of ~84 to every code): well past chance (0.1).
    expect(one.r.history[1]!.accuracy).toBeGreaterThan(0.5);
  });
});

describe("model files of the 1998 network", () => {
  it("say which network they hold, and load back into it", async () => {
    const m = await LeNet5.create({ arch: "lenet5-1998", seed: 5 });
    const bytes = encodeModel(m.getWeights(), { architecture: "lenet5-1998" });
    const { weights, info } = decodeModel(bytes, "paper.safetensors");
    expect(info.architecture).toBe("lenet5-1998");
    expect(weights["s2.weight"]).toEqual(m.getWeights()["s2.weight"]);
    const checkpoint = encodeCheckpoint({ architecture: "lenet5-1998", weights, adam: m.getAdamState(), state: {
      epoch: 1, batch: 3, lossSum: 1, correct: 2, seen: 96, epochSeconds: 1, trainSeconds: 1, history: [], rngState: 7,
    }, settings: {} });
    expect(decodeCheckpoint(checkpoint).architecture).toBe("lenet5-1998");
  });

  it("are refused when the tensors do not match the architecture they name, or the name is unknown", async () => {
    const article = (await LeNet5.create()).getWeights();
    const file = (architecture: string) => encodeSafetensors(new Map(LeNet5Parameters.map((p) => [p.name, { shape: [...p.shape], data: article[p.name]! }])),
      { format_version: "1", architecture });
    expect(decodeModel(file("lenet5")).info.architecture).toBe("lenet5");
    expect(() => decodeModel(file("lenet5-1998"), "m.safetensors")).toThrow(/m\.safetensors: .*s2\.weight.*missing/);
    expect(() => decodeModel(file("lenet9"), "m.safetensors"))
      .toThrow(/architecture is "lenet9", this version of lenet-wasm reads "lenet5", "lenet5-1998", "lenet5-1998-softmax" models/);
  });
});
