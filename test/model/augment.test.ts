// Distortions of training images: exact when they are zero, reproducible from (seed, epoch, image),
// different between epochs, and the same bits whichever thread distorts an image.
import { describe, expect, it } from "vitest";
import { DEFAULT_DISTORTION, distortInto } from "../../src/train/augment.js";
import { LeNet5, PARAMETERS } from "../../src/model/lenet.js";
import { subset } from "../../src/data/datasets.js";
import { train } from "../../src/train/train.js";
import { mnist } from "../helpers.js";

const images = subset(mnist().test, 0, 20).images;
const distort = (d = DEFAULT_DISTORTION, seed = 1, epoch = 1, n = 0) => {
  const out = new Float32Array(28 * 28);
  distortInto(out, 0, 28, images, n, d, seed, epoch);
  return out;
};

describe("distortions", () => {
  it("with every distortion 0, the image is copied exactly (v / 255)", () => {
    const out = distort({ rotate: 0, scale: 0, shear: 0, shift: 0 }, 1, 1, 3);
    expect(out).toEqual(Float32Array.from(images.subarray(3 * 784, 4 * 784), (v) => v / 255));
  });

  it("depend only on (seed, epoch, image): reproducible, and different across epochs, seeds and images", () => {
    expect(distort(DEFAULT_DISTORTION, 1, 2, 5)).toEqual(distort(DEFAULT_DISTORTION, 1, 2, 5));
    expect(distort(DEFAULT_DISTORTION, 1, 2, 5)).not.toEqual(distort(DEFAULT_DISTORTION, 1, 3, 5));
    expect(distort(DEFAULT_DISTORTION, 1, 2, 5)).not.toEqual(distort(DEFAULT_DISTORTION, 2, 2, 5));
    const a = distort(DEFAULT_DISTORTION, 1, 1, 7), b = Float32Array.from(images.subarray(7 * 784, 8 * 784), (v) => v / 255);
    expect(a).not.toEqual(b);
    // Mild: the ink moves a little but stays (total ink within 25%, values in [0, 1]).
    const ink = (x: Float32Array) => x.reduce((s, v) => s + v, 0);
    expect(Math.abs(ink(a) - ink(b)) / ink(b)).toBeLessThan(0.25);
    expect(a.every((v) => v >= 0 && v <= 1)).toBe(true);
  });

  it("training with distortions gives bit-identical weights on 1 and 2 threads, and differs from training without", async () => {
    const data = subset(mnist().train, 0, 400);
    const run = async (threads: number, withDistortion: boolean) => {
      const model = await LeNet5.create({ seed: 6 });
      await train(model, data, { epochs: 2, seed: 6, threads, lrDecay: 0.5, ...(withDistortion ? { distort: DEFAULT_DISTORTION } : {}) });
      return model.getWeights();
    };
    const [one, two, plain] = [await run(1, true), await run(2, true), await run(1, false)];
    for (const p of PARAMETERS) expect(Buffer.from(two[p.name].buffer).equals(Buffer.from(one[p.name].buffer)), p.name).toBe(true);
    expect(plain["c1.weight"]).not.toEqual(one["c1.weight"]);
  });

  it("rejects bad settings", async () => {
    const model = await LeNet5.create();
    const data = subset(mnist().train, 0, 10);
    await expect(train(model, data, { lrDecay: 0 })).rejects.toThrow(/lrDecay must be in \(0, 1\]/);
    await expect(train(model, data, { distort: { ...DEFAULT_DISTORTION, rotate: NaN } })).rejects.toThrow(/distort values must be finite/);
  });
});
