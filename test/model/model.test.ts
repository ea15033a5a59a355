// Layer 3: the whole WASM model against the float64 reference model (test/ref/lenet_ref.ts).
import { beforeAll, describe, expect, it } from "vitest";
import { LeNet5, maxBatchSize, PARAMETERS, type ParameterName, type Weights } from "../../src/model/lenet.js";
import { LENET5 } from "../../src/model/networks.js";
import { lenet_backward_ref, lenet_forward_ref, lenet_train_step_ref, lenet_zero_params, LENET_PARAM_NAMES, type LeNetParams } from "../ref/lenet_ref.js";
import { makeRng } from "../ref/random.js";

// Reference names <-> PyTorch state_dict names, in the same order.
const NAMES = Object.fromEntries(LENET_PARAM_NAMES.map((n, i) => [n, PARAMETERS[i]!.name])) as Record<keyof LeNetParams, ParameterName>;

function toRef(w: Weights): LeNetParams {
  const p = {} as LeNetParams;
  for (const n of LENET_PARAM_NAMES) p[n] = Float64Array.from(w[NAMES[n]]);
  return p;
}

/** B random images as uint8 (what the model gets) and as the float64 values the model sees (v/255 in f32). */
function randomBatch(seed: number, B: number) {
  const rng = makeRng(seed);
  const bytes = Uint8Array.from({ length: B * 784 }, () => Math.floor(rng() * 256));
  const images = Float64Array.from(bytes, (v) => Math.fround(v / 255));
  const labels = Int32Array.from({ length: B }, () => Math.floor(rng() * 10));
  return { bytes, images, labels, labelBytes: Uint8Array.from(labels) };
}

/** NaN-safe closeness; returns the first failing index or -1. */
function firstMismatch(got: ArrayLike<number>, want: ArrayLike<number>, atol: number, rtol: number): number {
  for (let i = 0; i < want.length; i++) if (!(Math.abs(got[i]! - want[i]!) <= atol + rtol * Math.abs(want[i]!))) return i;
  return got.length === want.length ? -1 : want.length;
}

describe("LeNet5 (WASM) vs the float64 reference model", () => {
  let model: LeNet5;
  beforeAll(async () => {
    model = await LeNet5.create({ seed: 3, batchSize: 16 });
  });

  it("initialises Glorot-uniform weights within their limits and zero biases, reproducibly", async () => {
    const w = model.getWeights();
    for (const p of PARAMETERS) {
      const data = w[p.name];
      if (p.shape.length === 1) {
        expect(data.every((x) => x === 0), p.name).toBe(true);
        continue;
      }
      const receptive = p.shape.slice(2).reduce((a: number, b: number) => a * b, 1);
      const limit = Math.sqrt(6 / ((p.shape[0] + p.shape[1]) * receptive));
      const max = data.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
      expect(max, p.name).toBeLessThanOrEqual(limit);
      expect(max, p.name).toBeGreaterThan(0.9 * limit); // really uses the whole range
    }
    const again = await LeNet5.create({ seed: 3 });
    const other = await LeNet5.create({ seed: 4 });
    expect(again.getWeights()["f5.weight"]).toEqual(w["f5.weight"]);
    expect(other.getWeights()["f5.weight"]).not.toEqual(w["f5.weight"]);
  });

  it("gives the reference's loss, probabilities and gradients", () => {
    const B = 5;
    const { bytes, images, labels, labelBytes } = randomBatch(11, B);
    const ref = toRef(model.getWeights());
    const { loss: refLoss, probs: refProbs, cache } = lenet_forward_ref(ref, images, labels, B);
    const refGrads = lenet_backward_ref(ref, cache, labels, B);
    const { loss, gradients } = model.lossAndGradients(bytes, labelBytes, B);
    expect(Math.abs(loss - refLoss)).toBeLessThan(1e-5 * refLoss);
    const probs = model.predict(bytes, B);
    expect(firstMismatch(probs, refProbs, 1e-6, 1e-5)).toBe(-1);
    for (const n of LENET_PARAM_NAMES) {
      const want = refGrads[n];
      const scale = want.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
      expect(scale, n).toBeGreaterThan(0);
      // float32 sums of up to ~10^4 terms: absolute error relative to the tensor's largest gradient.
      const i = firstMismatch(gradients[NAMES[n]], want, 1e-4 * scale, 1e-3);
      expect(i, `${NAMES[n]}[${i}]: got ${gradients[NAMES[n]][i]}, want ${want[i]}`).toBe(-1);
    }
  });

  it("has gradients that match finite differences of its own loss (random parameters, float32)", async () => {
    const B = 4;
    const m = await LeNet5.create({ seed: 21, batchSize: B });
    const w = m.getWeights();
    const rng = makeRng(5);
    for (const p of PARAMETERS) if (p.shape.length === 1) w[p.name] = Float32Array.from(w[p.name], () => (rng() - 0.5) * 0.2);
    m.setWeights(w);
    const { bytes, labelBytes } = randomBatch(12, B);
    const { gradients } = m.lossAndGradients(bytes, labelBytes, B);
    const h = 1e-2; // large step: the loss is float32, so small steps drown in rounding
    for (const p of PARAMETERS) {
      const g = gradients[p.name];
      // the 3 entries with the largest gradients of this tensor: well above float32 noise
      const idx = Array.from(g.keys()).sort((a, b) => Math.abs(g[b]!) - Math.abs(g[a]!)).slice(0, 3);
      for (const i of idx) {
        const orig = w[p.name][i]!;
        w[p.name][i] = orig + h; m.setWeights(w);
        const up = m.lossAndGradients(bytes, labelBytes, B).loss;
        w[p.name][i] = orig - h; m.setWeights(w);
        const down = m.lossAndGradients(bytes, labelBytes, B).loss;
        w[p.name][i] = orig; m.setWeights(w);
        const fd = (up - down) / (2 * h);
        expect(Math.abs(fd - g[i]!), `${p.name}[${i}] fd ${fd} analytic ${g[i]}`).toBeLessThan(2e-3 + 0.05 * Math.abs(g[i]!));
      }
    }
  });

  it("golden run: 8 Adam steps follow the reference model, and the loss falls", async () => {
    const B = 16;
    const m = await LeNet5.create({ seed: 9, batchSize: B });
    const { bytes, images, labels, labelBytes } = randomBatch(13, B);
    const ref = toRef(m.getWeights());
    const state = { m: lenet_zero_params(), v: lenet_zero_params(), t: 0 };
    const losses: number[] = [];
    for (let step = 0; step < 8; step++) {
      const want = lenet_train_step_ref(ref, state, images, labels, B);
      m.setBatch({ images: bytes, labels: labelBytes, count: B });
      const got = m.trainStep(B);
      losses.push(got);
      expect(Math.abs(got - want), `step ${step + 1}: wasm ${got} ref ${want}`).toBeLessThan(2e-4 * want);
    }
    for (let i = 1; i < losses.length; i++) expect(losses[i]!, `step ${i + 1}`).toBeLessThan(losses[i - 1]!);
    expect(losses[7]!).toBeLessThan(0.9 * losses[0]!); // random labels: ~2.27 -> ~1.97 in 8 steps
    const w = m.getWeights();
    for (const n of LENET_PARAM_NAMES) {
      // After 8 steps of +-lr each, weights agree far below one step (1e-3).
      const i = firstMismatch(w[NAMES[n]], ref[n], 2e-5, 0);
      expect(i, `${NAMES[n]}[${i}]: got ${w[NAMES[n]][i]}, want ${ref[n][i]}`).toBe(-1);
    }
  });

  it("weightDecay: each Adam step first scales the weights by 1 - lr * weightDecay (AdamW), exactly", async () => {
    const { bytes, labelBytes } = randomBatch(16, 8);
    const decayed = await LeNet5.create({ seed: 5, batchSize: 8 }), byHand = await LeNet5.create({ seed: 5, batchSize: 8 });
    const plain = await LeNet5.create({ seed: 5, batchSize: 8 });
    const adam = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-7 };
    for (const m of [decayed, byHand, plain]) {
      m.setBatch({ images: bytes, labels: labelBytes, count: 8 });
      m.zeroGradients();
      m.accumulateGradients(8, 8);
    }
    decayed.applyAdam({ ...adam, weightDecay: 0.5 });
    const factor = Math.fround(1 - 1e-3 * 0.5);
    const w = byHand.getWeights();
    byHand.setWeights(Object.fromEntries(Object.entries(w).map(([n, v]) => [n, v.map((x) => Math.fround(x * factor))])));
    byHand.applyAdam(adam);
    const a = decayed.getWeights(), b = byHand.getWeights();
    for (const p of PARAMETERS) expect(Buffer.from(a[p.name]!.buffer).equals(Buffer.from(b[p.name]!.buffer)), p.name).toBe(true);
    plain.applyAdam(adam); // the decay is not a no-op: plain Adam ends elsewhere
    expect(Buffer.from(a["f5.weight"]!.buffer).equals(Buffer.from(plain.getWeights()["f5.weight"]!.buffer))).toBe(false);
  });

  it("is bit-reproducible: same seed, same data -> identical weights", async () => {
    const run = async () => {
      const m = await LeNet5.create({ seed: 17, batchSize: 8 });
      const { bytes, labelBytes } = randomBatch(14, 8);
      for (let i = 0; i < 3; i++) {
        m.setBatch({ images: bytes, labels: labelBytes, count: 8 });
        m.trainStep(8);
      }
      return m.getWeights();
    };
    const [a, b] = [await run(), await run()];
    for (const p of PARAMETERS) expect(Buffer.from(a[p.name].buffer).equals(Buffer.from(b[p.name].buffer)), p.name).toBe(true);
  });

  it("predicts probabilities that sum to 1, for uint8 and float input alike, in batches of any size", () => {
    const { bytes } = randomBatch(15, 37); // 37 > capacity 16: three calls
    const p8 = model.predict(bytes);
    const pf = model.predict(Float32Array.from(bytes, (v) => v / 255));
    expect(p8.length).toBe(370);
    for (let i = 0; i < 37; i++) expect(Math.abs(p8.subarray(i * 10, i * 10 + 10).reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-5);
    expect(firstMismatch(pf, p8, 1e-6, 0)).toBe(-1);
    const single = model.predict(bytes.subarray(784 * 20, 784 * 21));
    expect(firstMismatch(single, p8.subarray(200, 210), 0, 0)).toBe(-1); // batch position does not matter
  });

  it("shows every layer of one image (activations): the reference's values, and predict's probabilities bit for bit", () => {
    const { bytes, images, labels } = randomBatch(17, 1);
    const { cache } = lenet_forward_ref(toRef(model.getWeights()), images, labels, 1);
    const layers = model.activations(bytes);
    expect(layers.map((l) => `${l.name} ${l.shape.join("x")}`)).toEqual(
      ["input 1x32x32", "c1 6x28x28", "p2 6x14x14", "c3 16x10x10", "p4 16x5x5", "f5 120", "f6 84", "logits 10", "probs 10"]);
    const at = Object.fromEntries(layers.map((l) => [l.name, l.values]));
    for (const l of layers) expect(l.values.length, l.name).toBe(l.shape.reduce((a, b) => a * b, 1));
    // The 28x28 image sits in a zero border of 2.
    const field = Float64Array.from({ length: 32 * 32 }, (_, i) => {
      const y = Math.floor(i / 32) - 2, x = (i % 32) - 2;
      return y >= 0 && y < 28 && x >= 0 && x < 28 ? images[y * 28 + x]! : 0;
    });
    expect(firstMismatch(at.input!, field, 0, 0)).toBe(-1);
    const want: Record<string, Float64Array> = { c1: cache.a1, p2: cache.p1, c3: cache.a3, p4: cache.p3, f5: cache.a5, f6: cache.a6, probs: cache.probs };
    for (const [name, values] of Object.entries(want)) {
      const i = firstMismatch(at[name]!, values, 1e-5, 1e-4);
      expect(i, `${name}[${i}]: ${at[name]![i]} vs ${values[i]}`).toBe(-1);
    }
    expect(Array.from(at.probs!)).toEqual(Array.from(model.predict(bytes))); // the training pass and inference agree exactly
    const other = model.activations(randomBatch(18, 1).bytes);
    expect(other[1]!.values).not.toEqual(at.c1); // copies, not views of memory the next call overwrites
  });

  it("rejects bad arguments with clear errors", async () => {
    await expect(LeNet5.create({ batchSize: 0 })).rejects.toThrow(/batchSize must be an integer/);
    await expect(LeNet5.create({ batchSize: maxBatchSize(LENET5) + 1 })).rejects.toThrow(/batchSize must be an integer in 1\.\.\d+ \(WebAssembly memory holds at most 4 GiB\)/);
    expect(() => model.setBatch({ images: new Uint8Array(784), labels: Uint8Array.of(10), count: 1 })).toThrow(/label 10 of image 0 is outside 0..9/);
    expect(() => model.predict(new Uint8Array(100), 1)).toThrow(/1 images need 784 values/);
    expect(() => model.setWeights({ ...model.getWeights(), "c1.bias": new Float32Array(5) })).toThrow(/c1.bias needs 6 values/);
  });
});
